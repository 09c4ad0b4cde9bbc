-- Point-in-time snapshot: one row per customer active at the as-of date
-- (signed up before it, not churned before it), with its features from rows
-- dated before it and its label (churned in [as_of, as_of + horizon_days)).
--
-- Parameters (bound client-side by the driver, never spliced by hand):
--   @as_of            'YYYY-MM-DD'
--   @horizon_days     days in the label window
--   @inactivity_days  prepaid inactivity churn (lifecycle.sql)
--   @parts, @part     the customers of part @part (0-based) of @parts: every
--                     side reads only the rows of customers whose k % @parts
--                     is @part (1 and 0: all). The store may run the query as
--                     several parts at once and merge their rows by id
--                     (features.Store); see "Parts" below.
--   @contracts, @segments, @regions, @payment_methods, @billings
--                     category lists; a categorical feature is the 0-based
--                     index of the value in its list, NaN when absent.
--   @segment_values/@segment_categories, @payment_values/@payment_categories,
--   @contract_values/@contract_categories, @ticket_values/@ticket_categories
--                     the operator's vocabulary (churn.Vocabulary): its
--                     values and their categories; a value it lacks maps
--                     to '' (no category).
--
-- Shape, chosen for ClickHouse 18.16 and kept valid on current releases: each
-- table is aggregated per customer with conditional aggregates over day
-- windows, and the small per-customer results are attached to the customers
-- with nested ANY LEFT JOINs, one join per level (18.16 allows one JOIN per
-- SELECT); the usage subqueries, the most complex, are the outermost joins
-- because 18.16 analyses a subquery once more for every level around it.
--
-- Every side groups and joins by k = cityHash64(customer_id), a UInt64, not
-- by the id string: grouping a million string keys cost nearly twice the
-- CPU of integer ones (docs/scaling.md has the measurements), and the id
-- itself is read once, from customers. Two ids that share a 64-bit hash
-- would share their history; among a billion ids that happens with a
-- probability below 3%, among ten million below 3e-6. Fewer sides mean
-- fewer join levels: the four small lifecycle tables are one side
-- (lifecycle.sql), which also gives the churn state at the as-of date and
-- the postpaid label; the monthly usage masks give the usage part of
-- prepaid activity, and the weekly usage sums the usage decay.
--
-- Invoices and payments are aggregated per customer rather than per invoice
-- (a join per invoice took 2.4 times the CPU on a million customers); each
-- invoice's payments are then matched inside the customer's arrays, by a
-- 64-bit hash of the invoice id. Two invoice ids of one customer that share
-- a hash would merge their payments; with 64 bits that does not happen.
--
-- Usage comes from the rollups of migration 0010, not from daily rows:
-- active days (every count, the last active day over up to 365 days, and
-- prepaid activity around the as-of date) from the per-month bitmasks of
-- usage_monthly, and the sums of the 7/14/30/56/90-day windows and the
-- weekly decay from the per-day columns of the month-split weeks of
-- usage_weekly; no daily row is read. Every value is the same, bit for bit,
-- as computed from daily rows alone: clickhouse/rollups_test.go compares the
-- two at many as-of dates. Measured figures: docs/scaling.md.
--
-- A customer without rows in a table gets the join's default values (0, '',
-- 0000-00-00, []), not NULLs, so every side carries a count or *_present
-- column and the outer SELECT turns "no rows" into the documented value (0
-- or NaN). Column names are unique across sides (prefixes c_, b_, y_, s_,
-- p_, u_, v_, d_ here, k_, g_, w_ in lifecycle.sql) so that SELECT * never
-- collides.
--
-- Parts. ClickHouse 18.16 builds every join's right side on one thread and
-- then attaches the sides to the customers on one thread too, gathering each
-- side column by random access: on a million customers that single thread
-- took 18.6 of the query's 65.7 s of CPU, while the sides' aggregations use
-- every core. Split by k into parts run at once (clickhouse.Client picks how many),
-- those threads run side by side; each part reads every table but aggregates
-- and joins only its own customers, so parts pay on servers with many cores,
-- not on two (docs/scaling.md).
--
-- The outer column names and order are the feature registry's
-- (features.Registry) without the features computed in Go (clv, value_tier).
--
-- Churn follows the customer's billing: a postpaid customer is active at T
-- unless its latest churn event before T has no return (reactivations)
-- after it and before T, and its label is a churn event in the horizon; a
-- prepaid customer is active while its last activity before T is at most
-- @inactivity_days old, and its label says that its last activity before an
-- inactivity of that many days falls before T + horizon. Prepaid activity is
-- any active usage day or a top-up; its day numbers (0: none) come from the
-- u_ and k_ sides.
WITH
    toDate(@as_of) AS t,
    toInt64(toRelativeDayNum(t)) AS tn,
    -- each invoice already due: (due date, amount, paid before t, last payment before t)
    arrayMap((inv, pays) -> (
            inv.2,
            inv.3,
            arraySum(arrayMap(p -> if(p.1 = inv.1, p.3, 0), pays)),
            arrayReduce('max', arrayMap(p -> if(p.1 = inv.1, p.2, toDate(0)), pays))),
        b_due, arrayMap(x -> y_pays, b_due)) AS due_status,
    -- prepaid activity: the last active day before t within the
    -- inactivity days, the last before t + horizon, and the first after it
    greatest(if(u_active_old + u_active_prev + u_active_30 > 0 AND u_last_age <= @inactivity_days, tn - u_last_age, 0),
             k_l_before) AS l_last_before,
    greatest(l_last_before, greatest(u_l_label, k_l_label)) AS l_last_label,
    multiIf(u_l_after > 0 AND k_l_after > 0, least(u_l_next, k_l_next), u_l_after > 0, u_l_next, k_l_next) AS l_next
SELECT
    customer_id,
    toFloat32(if(c_billing = 'prepaid',
                 NOT (u_l_after + k_l_after > 0 AND l_next - greatest(l_last_label, tn - c_tenure) <= @inactivity_days),
                 w_label > 0)) AS label,
    -- rfm
    toFloat32(if(u_active_old + u_active_prev + u_active_30 = 0, nan, toFloat64(u_last_age))) AS days_since_last_usage,
    toFloat32(u_active_old + u_active_prev + u_active_30) AS active_days_365d,
    toFloat32(if(y_payments = 0, nan, toFloat64(toRelativeDayNum(t) - toRelativeDayNum(y_last_paid)))) AS days_since_last_payment,
    toFloat32(y_payments_365) AS payments_365d,
    toFloat32(y_paid_365) AS paid_amount_365d,

    -- usage (volumes are sums of integer millionths)
    toFloat32(v_voice_3 / 1e6) AS voice_minutes_7d,
    toFloat32((v_voice_2 + v_voice_3) / 1e6) AS voice_minutes_30d,
    toFloat32((v_voice_1 + v_voice_2 + v_voice_3) / 1e6) AS voice_minutes_90d,
    toFloat32(v_data_3 / 1e6) AS data_mb_7d,
    toFloat32((v_data_2 + v_data_3) / 1e6) AS data_mb_30d,
    toFloat32((v_data_1 + v_data_2 + v_data_3) / 1e6) AS data_mb_90d,
    toFloat32(v_sms_30) AS sms_30d,
    toFloat32(v_calls_30) AS calls_30d,
    toFloat32(u_active_30) AS active_days_30d,
    toFloat32(u_active_prev + u_active_30) AS active_days_90d,
    toFloat32(if(v_voice_1 = 0, nan, toFloat64((v_voice_2 + v_voice_3) / (v_voice_1 / 2)))) AS voice_trend_30d,
    toFloat32(if(v_data_1 = 0, nan, toFloat64((v_data_2 + v_data_3) / (v_data_1 / 2)))) AS data_trend_30d,
    toFloat32(if(u_active_prev = 0, nan, toFloat64(u_active_30 / (u_active_prev / 2)))) AS active_days_trend_30d,
    toFloat32(v_dropped_30) AS dropped_calls_30d,
    toFloat32(if(v_calls_30 = 0, nan, toFloat64(v_dropped_30 / v_calls_30))) AS dropped_call_rate_30d,
    toFloat32(if(v_calls_90 = 0, nan, toFloat64(v_dropped_90 / v_calls_90))) AS dropped_call_rate_90d,
    toFloat32(if(v_voice_1 + v_voice_2 + v_voice_3 = 0, nan, toFloat64(v_intl_90 / (v_voice_1 + v_voice_2 + v_voice_3)))) AS intl_share_90d,
    toFloat32(if(v_voice_1 + v_voice_2 + v_voice_3 = 0, nan, toFloat64(v_roaming_90 / (v_voice_1 + v_voice_2 + v_voice_3)))) AS roaming_share_90d,

    -- billing
    toFloat32(if(b_invoices_180 = 0, nan, toFloat64(b_amount_180 / b_invoices_180))) AS avg_invoice_6m,
    toFloat32(if(b_invoices = 0, nan, toFloat64(b_last_amount))) AS last_invoice_amount,
    toFloat32(if(b_prev_n = 0 OR b_prev_sum <= 0, nan, toFloat64(b_last_amount / (b_prev_sum / b_prev_n)))) AS bill_shock,
    toFloat32(round(b_invoiced - y_paid, 2)) AS outstanding_balance,
    toFloat32(arrayCount(s -> s.1 >= t - 365 AND s.3 >= s.2 - 0.005 AND s.4 > s.1, due_status)) AS late_payments_12m,
    toFloat32(arrayCount(s -> s.1 >= t - 365 AND s.3 < s.2 - 0.005, due_status)) AS missed_payments_12m,
    toFloat32(arrayReduce('max', arrayMap(s -> if(s.3 < s.2 - 0.005, toRelativeDayNum(t) - toRelativeDayNum(s.1), 0), due_status))) AS days_past_due,
    -- support
    toFloat32(s_billing_30) AS billing_tickets_30d,
    toFloat32(s_billing_90) AS billing_tickets_90d,
    toFloat32(s_network_30) AS network_tickets_30d,
    toFloat32(s_network_90) AS network_tickets_90d,
    toFloat32(s_device_30) AS device_tickets_30d,
    toFloat32(s_device_90) AS device_tickets_90d,
    toFloat32(s_service_30) AS service_tickets_30d,
    toFloat32(s_service_90) AS service_tickets_90d,
    toFloat32(s_complaint_30) AS complaint_tickets_30d,
    toFloat32(s_complaint_90) AS complaint_tickets_90d,
    toFloat32(s_unresolved) AS unresolved_tickets,
    toFloat32(if(s_rated = 0, nan, toFloat64(s_last_satisfaction))) AS last_satisfaction,
    toFloat32(if(s_complaints = 0, nan, toFloat64(s_complaint_age))) AS days_since_last_complaint,

    -- plan
    toFloat32(if(indexOf(@contracts, p_contract) = 0, nan, toFloat64(indexOf(@contracts, p_contract) - 1))) AS contract,
    toFloat32(if(p_present = 0, nan, toFloat64(p_fee))) AS monthly_fee,
    toFloat32(if(p_present = 0, nan, toFloat64(p_fee_change))) AS fee_change_last,
    toFloat32(if(p_present = 0, nan, toFloat64(p_days_since))) AS days_since_plan_change,
    toFloat32(p_changes_12m) AS plan_changes_12m,
    toFloat32(c_tenure) AS tenure_days,

    -- profile
    toFloat32(if(indexOf(@segments, c_segment) = 0, nan, toFloat64(indexOf(@segments, c_segment) - 1))) AS segment,
    toFloat32(if(indexOf(@regions, c_region) = 0, nan, toFloat64(indexOf(@regions, c_region) - 1))) AS region,
    toFloat32(if(indexOf(@payment_methods, c_payment_method) = 0, nan, toFloat64(indexOf(@payment_methods, c_payment_method) - 1))) AS payment_method,

    -- value
    toFloat32(b_revenue_365 + k_amount_365) AS revenue_12m,
    toFloat32(if(b_invoices_90 + k_topups_90 > 0, (b_revenue_90 + k_amount_90) / least(3, greatest(1, intDiv(c_tenure, 30))),
              if(p_present = 1, p_fee, 0.))) AS monthly_revenue,

    -- lifecycle (lifecycle.sql)
    toFloat32(if(indexOf(@billings, c_billing) = 0, nan, toFloat64(indexOf(@billings, c_billing) - 1))) AS billing,
    toFloat32(if(k_topups = 0, nan, toFloat64(toRelativeDayNum(t) - toRelativeDayNum(k_last)))) AS days_since_last_topup,
    toFloat32(k_topups_90) AS topups_90d,
    toFloat32(k_amount_90) AS topup_amount_90d,
    toFloat32(if(k_amount_prev = 0, nan, toFloat64(k_amount_30 / (k_amount_prev / 2)))) AS topup_trend_30d,
    toFloat32(if(g_terms = 0 OR g_end <= t, nan, toFloat64(toRelativeDayNum(g_end) - toRelativeDayNum(t)))) AS term_days_left,
    toFloat32(if(g_terms = 0 OR g_end > t, nan, toFloat64(toRelativeDayNum(t) - toRelativeDayNum(g_end)))) AS days_since_term_end,
    toFloat32(if(g_terms = 0, nan, toFloat64(g_end <= t))) AS out_of_contract,
    toFloat32(if(g_terms = 0, 0, g_terms - 1)) AS contract_renewals,
    toFloat32(w_churns) AS past_churns,
    toFloat32(w_returns) AS winbacks,
    toFloat32(if(w_returns = 0, nan, toFloat64(toRelativeDayNum(t) - toRelativeDayNum(w_last_return)))) AS days_since_winback,
    toFloat32(if(d_voice_56 = 0, nan, toFloat64(d_voice_wsum * 4 / (42 * d_voice_56)))) AS voice_slope_8w,
    toFloat32(if(d_data_56 = 0, nan, toFloat64(d_data_wsum * 4 / (42 * d_data_56)))) AS data_slope_8w,
    toFloat32(multiIf(d_voice_base > 0 AND d_data_base > 0, (d_voice_14 / d_voice_base + d_data_14 / d_data_base) * 76 / 28,
                      d_voice_base > 0, d_voice_14 / d_voice_base * 76 / 14,
                      d_data_base > 0, d_data_14 / d_data_base * 76 / 14,
                      nan)) AS usage_level_14d
FROM
(
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
                    SELECT * FROM
                    (
                        SELECT * FROM
                        (
                            -- customers signed up before the as-of date; whether they
                            -- are active is decided in the outer WHERE
                            WITH toDate(@as_of) AS t
                            SELECT
                                cityHash64(customer_id) AS k,
                                customer_id,
                                toRelativeDayNum(t) - toRelativeDayNum(signup_date) AS c_tenure,
                                transform(segment, @segment_values, @segment_categories, '') AS c_segment,
                                region AS c_region,
                                transform(payment_method, @payment_values, @payment_categories, '') AS c_payment_method,
                                billing AS c_billing
                            FROM customers
                            WHERE k % @parts = @part AND signup_date < t
                        )
                        ANY LEFT JOIN
                        (
{lifecycle}
                        ) USING k
                    )
                    ANY LEFT JOIN
                    (
                        -- support tickets opened before the as-of date; a resolution or a
                        -- satisfaction score counts only when it came before it too
                        WITH
                            toDate(@as_of) AS t,
                            toRelativeDayNum(t) - toRelativeDayNum(toDate(opened_at)) AS age,
                            (isNotNull(resolved_at) AND toDate(assumeNotNull(resolved_at)) < t) AS resolved,
                            transform(category, @ticket_values, @ticket_categories, '') AS kind
                        SELECT
                            cityHash64(customer_id) AS k,
                            countIf(kind = 'billing' AND age <= 30) AS s_billing_30,
                            countIf(kind = 'billing' AND age <= 90) AS s_billing_90,
                            countIf(kind = 'network' AND age <= 30) AS s_network_30,
                            countIf(kind = 'network' AND age <= 90) AS s_network_90,
                            countIf(kind = 'device' AND age <= 30) AS s_device_30,
                            countIf(kind = 'device' AND age <= 90) AS s_device_90,
                            countIf(kind = 'service' AND age <= 30) AS s_service_30,
                            countIf(kind = 'service' AND age <= 90) AS s_service_90,
                            countIf(kind = 'complaint' AND age <= 30) AS s_complaint_30,
                            countIf(kind = 'complaint' AND age <= 90) AS s_complaint_90,
                            countIf(NOT resolved) AS s_unresolved,
                            countIf(resolved AND isNotNull(satisfaction)) AS s_rated,
                            argMaxIf(assumeNotNull(satisfaction), (assumeNotNull(resolved_at), ticket_id),
                                     resolved AND isNotNull(satisfaction)) AS s_last_satisfaction,
                            countIf(kind = 'complaint') AS s_complaints,
                            minIf(age, kind = 'complaint') AS s_complaint_age
                        FROM support_tickets
                        WHERE k % @parts = @part AND toDate(opened_at) < t
                        GROUP BY k
                    ) USING k
                )
                ANY LEFT JOIN
                (
                    -- plan history before the as-of date; the plan in force is the latest
                    WITH toDate(@as_of) AS t
                    SELECT
                        cityHash64(customer_id) AS k,
                        1 AS p_present,
                        arraySort(groupArray((changed_at, monthly_fee, contract))) AS p_hist,
                        transform(p_hist[-1].3, @contract_values, @contract_categories, '') AS p_contract,
                        p_hist[-1].2 AS p_fee,
                        if(length(p_hist) > 1, p_hist[-1].2 - p_hist[-2].2, 0) AS p_fee_change,
                        toRelativeDayNum(t) - toRelativeDayNum(p_hist[-1].1) AS p_days_since,
                        countIf(changed_at >= t - 365) AS p_changes_12m
                    FROM plan_changes
                    WHERE k % @parts = @part AND changed_at < t
                    GROUP BY k
                ) USING k
            )
            ANY LEFT JOIN
            (
                -- invoices issued before the as-of date
                WITH toDate(@as_of) AS t
                SELECT
                    cityHash64(customer_id) AS k,
                    count() AS b_invoices,
                    sum(amount) AS b_invoiced,
                    sumIf(amount, issued_at >= t - 365) AS b_revenue_365,
                    sumIf(amount, issued_at >= t - 90) AS b_revenue_90,
                    countIf(issued_at >= t - 90) AS b_invoices_90,
                    sumIf(amount, issued_at >= t - 180) AS b_amount_180,
                    countIf(issued_at >= t - 180) AS b_invoices_180,
                    arraySort(groupArray((issued_at, invoice_id, amount))) AS b_hist,
                    b_hist[-1].3 AS b_last_amount,
                    arrayFilter(x -> x.1 >= b_hist[-1].1 - 90 AND x.1 < b_hist[-1].1, b_hist) AS b_prev,
                    length(b_prev) AS b_prev_n,
                    arraySum(arrayMap(x -> x.3, b_prev)) AS b_prev_sum,
                    groupArrayIf((cityHash64(invoice_id), due_date, amount), due_date < t) AS b_due
                FROM invoices
                WHERE k % @parts = @part AND issued_at < t
                GROUP BY k
            ) USING k
        )
        ANY LEFT JOIN
        (
            -- payments made before the as-of date
            WITH toDate(@as_of) AS t
            SELECT
                cityHash64(customer_id) AS k,
                count() AS y_payments,
                sum(amount) AS y_paid,
                max(paid_at) AS y_last_paid,
                countIf(paid_at >= t - 365) AS y_payments_365,
                sumIf(amount, paid_at >= t - 365) AS y_paid_365,
                groupArray((cityHash64(invoice_id), paid_at, amount)) AS y_pays
            FROM payments
            WHERE k % @parts = @part AND paid_at < t
            GROUP BY k
        ) USING k
    )
    ANY LEFT JOIN
    -- usage rollups: begin (features tests swap this part for a
    -- computation from daily rows only and compare every value)
    (
        -- active days from the bitmasks of usage_monthly (migration 0010):
        -- a window's days in a month are a range of bits, so every count,
        -- the last active day in the year before t and the prepaid
        -- activity around t are exact without reading daily rows
        WITH
            toDate(@as_of) AS t,
            toInt64(toRelativeDayNum(t)) AS tn,
            toInt64(toRelativeDayNum(month)) AS m0,
            -- the bit of day number tn + k in this month: bit 0 is the 1st; clamped
            -- to the month, so that b - a selects the days of a window [a, b)
            bitShiftLeft(toInt64(1), least(greatest(tn - 365 - m0, 0), 31)) AS from_365,
            bitShiftLeft(toInt64(1), least(greatest(tn - 90 - m0, 0), 31)) AS from_90,
            bitShiftLeft(toInt64(1), least(greatest(tn - 30 - m0, 0), 31)) AS from_30,
            bitShiftLeft(toInt64(1), least(greatest(tn - m0, 0), 31)) AS to_t,
            bitShiftLeft(toInt64(1), least(greatest(tn + @horizon_days - m0, 0), 31)) AS to_h,
            bitShiftLeft(toInt64(1), least(greatest(tn + @horizon_days + @inactivity_days - m0, 0), 31)) AS to_hn,
            bitAnd(active_mask, from_90 - from_365) AS days_old,
            bitAnd(active_mask, from_30 - from_90) AS days_prev,
            bitAnd(active_mask, to_t - from_30) AS days_30,
            bitAnd(active_mask, to_t - from_365) AS days_365,
            -- prepaid activity: [t, t + horizon) and [t + horizon, t + horizon + inactivity)
            bitAnd(active_mask, to_h - to_t) AS days_h,
            bitAnd(active_mask, to_hn - to_h) AS days_after,
            -- the bits below the highest one set, set too: its population
            -- count minus one is the day of the month of the last active day
            -- (of the year, of the horizon)
            arrayMap(x -> bitOr(x, bitShiftRight(x, 16)),
             arrayMap(x -> bitOr(x, bitShiftRight(x, 8)),
              arrayMap(x -> bitOr(x, bitShiftRight(x, 4)),
               arrayMap(x -> bitOr(x, bitShiftRight(x, 2)),
                arrayMap(x -> bitOr(x, bitShiftRight(x, 1)), [days_365, days_h]))))) AS smears,
            -- the bits below the lowest one set: their count is its day of the month - 1
            bitAnd(days_after, negate(days_after)) - 1 AS below_next,
            -- population counts (18.16 has no bitCount): the SWAR sum of
            -- bits, one step per arrayMap so that no expression repeats
            arrayMap(x -> bitAnd(bitShiftRight(x * 16843009, 24), 255),
             arrayMap(x -> bitAnd(x + bitShiftRight(x, 4), 252645135),
              arrayMap(x -> bitAnd(x, 858993459) + bitAnd(bitShiftRight(x, 2), 858993459),
               arrayMap(x -> x - bitAnd(bitShiftRight(x, 1), 1431655765),
                [days_old, days_prev, days_30, smears[1], smears[2], below_next])))) AS counts
        SELECT
            cityHash64(customer_id) AS k,
            sum(counts[1]) AS u_active_old,
            sum(counts[2]) AS u_active_prev,
            sum(counts[3]) AS u_active_30,
            minIf(tn - m0 - (counts[4] - 1), days_365 != 0) AS u_last_age,
            maxIf(m0 + counts[5] - 1, days_h != 0) AS u_l_label,
            countIf(days_after != 0) AS u_l_after,
            minIf(m0 + counts[6], days_after != 0) AS u_l_next
        FROM usage_monthly
        WHERE k % @parts = @part AND month >= toStartOfMonth(t - 365) AND month < t + @horizon_days + @inactivity_days
        GROUP BY k
    ) USING k
)
ANY LEFT JOIN
(
    -- usage sums over the last 90 days from the per-day columns of
    -- usage_weekly: a bucket's days are its columns 1-7 (Monday to
    -- Sunday), so the days of a window in a bucket are a range of
    -- columns and its sum is a difference of two prefix sums. Each day
    -- is taken as the same integer millionths as the reference from
    -- daily rows sums: the sums are exact. A day's millionths are
    -- toInt64(x * 1000000 + 0.5) (x >= 0: rounded half up), two fewer
    -- column operations per value than round(toFloat64(x) * 1000000),
    -- which cost 4 of the side's 29 s of CPU on a million customers.
    -- v_: volumes in three spans,
    -- 1 = [t-90, t-30), 2 = [t-30, t-7), 3 = [t-7, t), so that 7 days =
    -- 3, 30 days = 2 + 3, 90 days = 1 + 2 + 3 and the 30 days before
    -- the last 30 = 1; d_: the decay of voice and data, the last 8
    -- weeks weighted by twice their centred index (newest week 7,
    -- oldest -7: sum(x * w) / 84 is the least-squares slope of weekly
    -- totals), and the last 14 days against the 76 before them.
    WITH
        toDate(@as_of) AS t,
        toInt64(toRelativeDayNum(t)) - toInt64(toRelativeDayNum(toMonday(week))) AS tm,
        -- columns [1, c) of a bucket are days before t - k
        least(greatest(tm - 90, 0), 7) + 1 AS c90,
        least(greatest(tm - 56, 0), 7) + 1 AS c56,
        least(greatest(tm - 49, 0), 7) + 1 AS c49,
        least(greatest(tm - 42, 0), 7) + 1 AS c42,
        least(greatest(tm - 35, 0), 7) + 1 AS c35,
        least(greatest(tm - 30, 0), 7) + 1 AS c30,
        least(greatest(tm - 28, 0), 7) + 1 AS c28,
        least(greatest(tm - 21, 0), 7) + 1 AS c21,
        least(greatest(tm - 14, 0), 7) + 1 AS c14,
        least(greatest(tm - 7, 0), 7) + 1 AS c7,
        least(greatest(tm, 0), 7) + 1 AS ct,
        arrayCumSum([toInt64(0),
            toInt64(voice_1 * 1000000 + 0.5), toInt64(voice_2 * 1000000 + 0.5),
            toInt64(voice_3 * 1000000 + 0.5), toInt64(voice_4 * 1000000 + 0.5),
            toInt64(voice_5 * 1000000 + 0.5), toInt64(voice_6 * 1000000 + 0.5),
            toInt64(voice_7 * 1000000 + 0.5)]) AS voice,
        arrayCumSum([toInt64(0),
            toInt64(data_1 * 1000000 + 0.5), toInt64(data_2 * 1000000 + 0.5),
            toInt64(data_3 * 1000000 + 0.5), toInt64(data_4 * 1000000 + 0.5),
            toInt64(data_5 * 1000000 + 0.5), toInt64(data_6 * 1000000 + 0.5),
            toInt64(data_7 * 1000000 + 0.5)]) AS data,
        arrayCumSum([toInt64(0),
            toInt64(intl_1 * 1000000 + 0.5), toInt64(intl_2 * 1000000 + 0.5),
            toInt64(intl_3 * 1000000 + 0.5), toInt64(intl_4 * 1000000 + 0.5),
            toInt64(intl_5 * 1000000 + 0.5), toInt64(intl_6 * 1000000 + 0.5),
            toInt64(intl_7 * 1000000 + 0.5)]) AS intl,
        arrayCumSum([toInt64(0),
            toInt64(roaming_1 * 1000000 + 0.5), toInt64(roaming_2 * 1000000 + 0.5),
            toInt64(roaming_3 * 1000000 + 0.5), toInt64(roaming_4 * 1000000 + 0.5),
            toInt64(roaming_5 * 1000000 + 0.5), toInt64(roaming_6 * 1000000 + 0.5),
            toInt64(roaming_7 * 1000000 + 0.5)]) AS roaming,
        arrayCumSum([toInt64(0), toInt64(sms_1), toInt64(sms_2), toInt64(sms_3), toInt64(sms_4),
            toInt64(sms_5), toInt64(sms_6), toInt64(sms_7)]) AS sms_n,
        arrayCumSum([toInt64(0), toInt64(calls_1), toInt64(calls_2), toInt64(calls_3), toInt64(calls_4),
            toInt64(calls_5), toInt64(calls_6), toInt64(calls_7)]) AS calls_n,
        arrayCumSum([toInt64(0), toInt64(dropped_1), toInt64(dropped_2), toInt64(dropped_3), toInt64(dropped_4),
            toInt64(dropped_5), toInt64(dropped_6), toInt64(dropped_7)]) AS dropped
    SELECT
        cityHash64(customer_id) AS k,
        sum(voice[c30] - voice[c90]) AS v_voice_1,
        sum(voice[c7] - voice[c30]) AS v_voice_2,
        sum(voice[ct] - voice[c7]) AS v_voice_3,
        sum(data[c30] - data[c90]) AS v_data_1,
        sum(data[c7] - data[c30]) AS v_data_2,
        sum(data[ct] - data[c7]) AS v_data_3,
        sum(sms_n[ct] - sms_n[c30]) AS v_sms_30,
        sum(calls_n[ct] - calls_n[c30]) AS v_calls_30,
        sum(calls_n[ct] - calls_n[c90]) AS v_calls_90,
        sum(dropped[ct] - dropped[c30]) AS v_dropped_30,
        sum(dropped[ct] - dropped[c90]) AS v_dropped_90,
        sum(intl[ct] - intl[c90]) AS v_intl_90,
        sum(roaming[ct] - roaming[c90]) AS v_roaming_90,
        sum(7 * (voice[ct] - voice[c7]) + 5 * (voice[c7] - voice[c14]) + 3 * (voice[c14] - voice[c21]) + (voice[c21] - voice[c28])
            - (voice[c28] - voice[c35]) - 3 * (voice[c35] - voice[c42]) - 5 * (voice[c42] - voice[c49]) - 7 * (voice[c49] - voice[c56])) AS d_voice_wsum,
        sum(voice[ct] - voice[c56]) AS d_voice_56,
        sum(voice[ct] - voice[c14]) AS d_voice_14,
        sum(voice[c14] - voice[c90]) AS d_voice_base,
        sum(7 * (data[ct] - data[c7]) + 5 * (data[c7] - data[c14]) + 3 * (data[c14] - data[c21]) + (data[c21] - data[c28])
            - (data[c28] - data[c35]) - 3 * (data[c35] - data[c42]) - 5 * (data[c42] - data[c49]) - 7 * (data[c49] - data[c56])) AS d_data_wsum,
        sum(data[ct] - data[c56]) AS d_data_56,
        sum(data[ct] - data[c14]) AS d_data_14,
        sum(data[c14] - data[c90]) AS d_data_base
    FROM usage_weekly
    -- a bucket starts at most 6 days before any of its days
    WHERE k % @parts = @part AND week >= t - 96 AND week < t
    GROUP BY k
) USING k
-- usage rollups: end
)
WHERE (c_billing = 'prepaid' OR NOT (w_churns > 0 AND w_last_return <= w_gone))
  -- a prepaid customer is active at T while its last activity (or its
  -- signup) is at most @inactivity_days old
  AND (c_billing != 'prepaid' OR greatest(l_last_before, tn - c_tenure) >= tn - @inactivity_days)
ORDER BY customer_id
