-- The reference for the snapshot side usage_monthly
-- (features/sql/snapshot/usage_monthly.sql): the same columns computed
-- from usage_daily alone, window by window, the plain way.
WITH
    toDate(@as_of) AS t,
    toInt64(toRelativeDayNum(t)) AS tn,
    toInt64(toRelativeDayNum(day)) AS dn,
    tn - dn AS age
SELECT
    cityHash64(customer_id) AS k,
    countIf(age > 90 AND age <= 365) AS u_active_old,
    countIf(age > 30 AND age <= 90) AS u_active_prev,
    countIf(age >= 1 AND age <= 30) AS u_active_30,
    minIf(age, age >= 1 AND age <= 365) AS u_last_age,
    maxIf(dn, day >= t AND day < t + @horizon_days) AS u_l_label,
    countIf(day >= t + @horizon_days) AS u_l_after,
    minIf(dn, day >= t + @horizon_days) AS u_l_next
FROM usage_daily
WHERE day < t + @horizon_days + @inactivity_days AND day >= t - 365
  AND (voice_minutes > 0 OR data_mb > 0 OR sms > 0 OR calls > 0)
GROUP BY k
