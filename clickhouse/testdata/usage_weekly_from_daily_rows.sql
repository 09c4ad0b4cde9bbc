-- The reference for the snapshot side usage_weekly
-- (features/sql/snapshot/usage_weekly.sql): the same columns computed
-- from usage_daily alone, window by window, the plain way. Volumes are
-- summed as the same integer millionths as the rollups, so that both
-- are exact.
WITH
    toDate(@as_of) AS t,
    toRelativeDayNum(t) - toRelativeDayNum(day) AS age,
    toInt64(voice_minutes * 1000000 + 0.5) AS voice,
    toInt64(data_mb * 1000000 + 0.5) AS data,
    -- twice the centred week index: 7 for the newest week, -7 for the 8th
    7 - 2 * intDiv(age - 1, 7) AS w2
SELECT
    cityHash64(customer_id) AS k,
    sumIf(voice, age > 30) AS v_voice_1,
    sumIf(voice, age > 7 AND age <= 30) AS v_voice_2,
    sumIf(voice, age <= 7) AS v_voice_3,
    sumIf(data, age > 30) AS v_data_1,
    sumIf(data, age > 7 AND age <= 30) AS v_data_2,
    sumIf(data, age <= 7) AS v_data_3,
    sumIf(toInt64(sms), age <= 30) AS v_sms_30,
    sumIf(toInt64(calls), age <= 30) AS v_calls_30,
    sum(toInt64(calls)) AS v_calls_90,
    sumIf(toInt64(dropped_calls), age <= 30) AS v_dropped_30,
    sum(toInt64(dropped_calls)) AS v_dropped_90,
    sum(toInt64(intl_minutes * 1000000 + 0.5)) AS v_intl_90,
    sum(toInt64(roaming_minutes * 1000000 + 0.5)) AS v_roaming_90,
    sumIf(voice * w2, age <= 56) AS d_voice_wsum,
    sumIf(voice, age <= 56) AS d_voice_56,
    sumIf(voice, age <= 14) AS d_voice_14,
    sumIf(voice, age > 14) AS d_voice_base,
    sumIf(data * w2, age <= 56) AS d_data_wsum,
    sumIf(data, age <= 56) AS d_data_56,
    sumIf(data, age <= 14) AS d_data_14,
    sumIf(data, age > 14) AS d_data_base
FROM usage_daily
WHERE day < t AND day >= t - 90
GROUP BY k
