-- Snapshot side "plan": plan history before the as-of date; the plan in
-- force is the latest.
WITH
    toDate(@as_of) AS t,
    arraySort(groupArray((changed_at, monthly_fee, contract))) AS p_hist
SELECT
    cityHash64(customer_id) AS k,
    1 AS p_present,
    transform(p_hist[-1].3, @contract_values, @contract_categories, '') AS p_contract,
    p_hist[-1].2 AS p_fee,
    if(length(p_hist) > 1, p_hist[-1].2 - p_hist[-2].2, 0) AS p_fee_change,
    toRelativeDayNum(t) - toRelativeDayNum(p_hist[-1].1) AS p_days_since,
    countIf(changed_at >= t - 365) AS p_changes_12m
FROM plan_changes
WHERE changed_at < t
GROUP BY k
