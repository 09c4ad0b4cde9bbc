-- Snapshot side "usage_recent": usage volumes of the last 90 days, read
-- from usage_daily (the recent weeks; the year before comes from the
-- monthly rollup: usage_monthly.sql). Volumes are summed as integer
-- millionths of each day's value, toInt64(x * 1000000 + 0.5) (x >= 0:
-- rounded half up), so that the sums are exact and do not depend on the
-- order the threads read the rows in.
--
-- v_: volumes in three spans, 1 = [t-90, t-30), 2 = [t-30, t-7),
-- 3 = [t-7, t), so that 7 days = 3, 30 days = 2 + 3, 90 days = 1 + 2 + 3
-- and the 30 days before the last 30 = 1; d_: the decay of voice and
-- data, the last 8 weeks weighted by twice their centred index (newest
-- week 7, oldest -7: sum(x * w) / 84 is the least-squares slope of weekly
-- totals), and the last 14 days against the 76 before them.
--
-- Until session 24 this side read a weekly rollup (usage_weekly, one
-- column per measure and day of the week, migration 0010) and cut its
-- buckets at the window boundaries with prefix-sum arrays. On ClickHouse
-- 18.16 that arithmetic cost more than the rows it saved: at a million
-- customers this query over 72 million daily rows took 14.1 s of server
-- CPU against 20.3 s from the 15.8 million weekly rows, and the weekly
-- view tripled the time of every insert into usage_daily (migration 0018
-- drops it; docs/scaling.md).
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
