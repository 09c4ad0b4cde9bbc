-- Snapshot side "lifecycle" (issue 15): top-ups, contract terms, churn
-- events and returns, one row per customer with any of them. The four
-- small tables are read as one UNION ALL aggregated once (e says which
-- table a row is from), so that they cost one GROUP BY, not four.
--
-- Prefixes: k_ top-ups (k_l_ their part of prepaid activity, the
-- inactivity churn definition; the usage_monthly side has the usage part),
-- g_ contract terms, w_ churns and returns (the churn state at the
-- as-of date and the postpaid label).
--
-- Parameters, besides those of every side (features/sides.go):
--   @inactivity_days  a prepaid customer has churned after this many days
--                     with no usage and no top-up; its churn date is its
--                     last activity
--
-- Point in time: every aggregate reads rows dated before the as-of
-- date, except those of the labels: churn events in the horizon
-- (w_label) and top-ups up to as_of + horizon + inactivity_days
-- (k_l_label, k_l_after, k_l_next: the silence that confirms a
-- prepaid churn dated in the horizon); Compute calls such a label
-- known only when that window has passed.
WITH
    toDate(@as_of) AS t,
    toInt64(toRelativeDayNum(d)) AS dn,
    e = 1 AND d >= t - 365 AND d < t AS topup_year,
    e = 1 AND d >= t + @horizon_days AND d < t + @horizon_days + @inactivity_days AS topup_after
SELECT
    k,
    countIf(topup_year) AS k_topups,
    maxIf(d, topup_year) AS k_last,
    countIf(topup_year AND d >= t - 90) AS k_topups_90,
    sumIf(a, topup_year AND d >= t - 30) AS k_amount_30,
    sumIf(a, topup_year AND d >= t - 90) AS k_amount_90,
    sumIf(a, topup_year AND d >= t - 90 AND d < t - 30) AS k_amount_prev,
    sumIf(a, topup_year) AS k_amount_365,
    maxIf(dn, e = 1 AND d >= t - @inactivity_days AND d < t) AS k_l_before,
    maxIf(dn, e = 1 AND d >= t - @inactivity_days AND d < t + @horizon_days) AS k_l_label,
    countIf(topup_after) AS k_l_after,
    minIf(dn, topup_after) AS k_l_next,
    -- the latest term started is the one in force or the one that ended last
    countIf(e = 2) AS g_terms,
    argMaxIf(d2, d, e = 2) AS g_end,
    countIf(e = 3 AND d < t) AS w_churns,
    maxIf(d, e = 3 AND d < t) AS w_gone,
    countIf(e = 3 AND d >= t) AS w_label,
    countIf(e = 4) AS w_returns,
    maxIf(d, e = 4) AS w_last_return
FROM
(
    SELECT cityHash64(customer_id) AS k, toUInt8(1) AS e, topped_up_at AS d, toDate(0) AS d2, amount AS a
    FROM topups
    WHERE topped_up_at >= toDate(@as_of) - 365
      AND topped_up_at < toDate(@as_of) + @horizon_days + @inactivity_days
    UNION ALL
    SELECT cityHash64(customer_id) AS k, toUInt8(2) AS e, started_at AS d, ends_at AS d2, toFloat64(0) AS a
    FROM contract_terms
    WHERE started_at < toDate(@as_of)
    UNION ALL
    SELECT cityHash64(customer_id) AS k, toUInt8(3) AS e, churned_at AS d, toDate(0) AS d2, toFloat64(0) AS a
    FROM churn_events
    WHERE churned_at < toDate(@as_of) + @horizon_days
    UNION ALL
    SELECT cityHash64(customer_id) AS k, toUInt8(4) AS e, reactivated_at AS d, toDate(0) AS d2, toFloat64(0) AS a
    FROM reactivations
    WHERE reactivated_at < toDate(@as_of)
)
GROUP BY k
