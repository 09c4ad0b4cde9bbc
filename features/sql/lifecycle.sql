-- Lifecycle part of the point-in-time snapshot (issue 15): one row per
-- customer signed up before the as-of date, attached to snapshot.sql's
-- customers with one ANY LEFT JOIN (SnapshotQuery splices it in where
-- snapshot.sql says {lifecycle}). Kept apart
-- from snapshot.sql so that the usage windows there can change (rollups)
-- without touching these.
--
-- Prefixes: l_ prepaid activity (the inactivity churn definition), k_
-- top-ups, g_ contract terms, w_ churns and returns, d_ usage decay.
--
-- Parameters, besides snapshot.sql's:
--   @inactivity_days  a prepaid customer has churned after this many days
--                     with no usage and no top-up; its churn date is its
--                     last activity
--
-- Point in time: every side reads rows dated before the as-of date, except
-- the prepaid label's side, which reads activity up to as_of + horizon +
-- inactivity_days (the silence that confirms a churn dated in the horizon);
-- Compute calls such a label known only when that window has passed.
SELECT * FROM
(
    SELECT * FROM
    (
        SELECT * FROM
        (
            SELECT * FROM
            (
                SELECT * FROM
                (
                    SELECT customer_id FROM customers WHERE signup_date < toDate(@as_of)
                )
                ANY LEFT JOIN
                (
                    -- prepaid activity days (any usage, or a top-up) from as_of -
                    -- inactivity_days to the end of the label's confirmation window
                    WITH toDate(@as_of) AS t
                    SELECT
                        customer_id,
                        maxIf(d, d < t) AS l_last_before,
                        maxIf(d, d < t + @horizon_days) AS l_last_label,
                        countIf(d >= t + @horizon_days) AS l_after,
                        minIf(d, d >= t + @horizon_days) AS l_next
                    FROM
                    (
                        SELECT customer_id, day AS d
                        FROM usage_daily
                        WHERE day >= toDate(@as_of) - @inactivity_days
                          AND day < toDate(@as_of) + @horizon_days + @inactivity_days
                          AND (voice_minutes > 0 OR data_mb > 0 OR sms > 0 OR calls > 0)
                          AND customer_id IN (SELECT customer_id FROM customers WHERE billing = 'prepaid')
                        UNION ALL
                        SELECT customer_id, topped_up_at AS d
                        FROM topups
                        WHERE topped_up_at >= toDate(@as_of) - @inactivity_days
                          AND topped_up_at < toDate(@as_of) + @horizon_days + @inactivity_days
                    )
                    GROUP BY customer_id
                ) USING customer_id
            )
            ANY LEFT JOIN
            (
                -- top-ups in the year before the as-of date
                WITH
                    toDate(@as_of) AS t,
                    toRelativeDayNum(t) - toRelativeDayNum(topped_up_at) AS age
                SELECT
                    customer_id,
                    count() AS k_topups,
                    max(topped_up_at) AS k_last,
                    countIf(age <= 90) AS k_topups_90,
                    sumIf(amount, age <= 30) AS k_amount_30,
                    sumIf(amount, age <= 90) AS k_amount_90,
                    sumIf(amount, age > 30 AND age <= 90) AS k_amount_prev,
                    sum(amount) AS k_amount_365
                FROM topups
                WHERE topped_up_at < t AND topped_up_at >= t - 365
                GROUP BY customer_id
            ) USING customer_id
        )
        ANY LEFT JOIN
        (
            -- contract terms started before the as-of date; the latest started
            -- is the one in force or the one that ended last
            WITH toDate(@as_of) AS t
            SELECT
                customer_id,
                count() AS g_terms,
                argMax(ends_at, started_at) AS g_end
            FROM contract_terms
            WHERE started_at < t
            GROUP BY customer_id
        ) USING customer_id
    )
    ANY LEFT JOIN
    (
        -- churn events and returns (win-backs) before the as-of date
        WITH toDate(@as_of) AS t
        SELECT
            customer_id,
            countIf(k = 1) AS w_churns,
            countIf(k = 2) AS w_returns,
            maxIf(d, k = 2) AS w_last_return
        FROM
        (
            SELECT customer_id, churned_at AS d, toUInt8(1) AS k FROM churn_events WHERE churned_at < toDate(@as_of)
            UNION ALL
            SELECT customer_id, reactivated_at AS d, toUInt8(2) AS k FROM reactivations WHERE reactivated_at < toDate(@as_of)
        )
        GROUP BY customer_id
    ) USING customer_id
)
ANY LEFT JOIN
(
    -- usage decay: the last 8 weeks and the last 14 days against the 76
    -- days before them; wk centres the week index (newest week 3.5, oldest
    -- -3.5), so sum(x * wk) / 42 is the least-squares slope of weekly totals
    WITH
        toDate(@as_of) AS t,
        toRelativeDayNum(t) - toRelativeDayNum(day) AS age,
        3.5 - intDiv(age - 1, 7) AS wk
    SELECT
        customer_id,
        sumIf(voice_minutes * wk, age <= 56) AS d_voice_wsum,
        sumIf(voice_minutes, age <= 56) AS d_voice_56,
        sumIf(data_mb * wk, age <= 56) AS d_data_wsum,
        sumIf(data_mb, age <= 56) AS d_data_56,
        sumIf(voice_minutes, age <= 14) AS d_voice_14,
        sumIf(voice_minutes, age > 14) AS d_voice_base,
        sumIf(data_mb, age <= 14) AS d_data_14,
        sumIf(data_mb, age > 14) AS d_data_base
    FROM usage_daily
    WHERE day < t AND day >= t - 90
    GROUP BY customer_id
) USING customer_id
