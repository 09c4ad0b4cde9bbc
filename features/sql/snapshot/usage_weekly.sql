-- Snapshot side "usage_weekly": usage volumes from the usage rollups of
-- migration 0010, not from daily rows (clickhouse/rollups_test.go checks
-- every value against a computation from daily rows alone, bit for bit).
--
-- Usage sums over the last 90 days from the per-day columns of
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
WHERE week >= t - 96 AND week < t
GROUP BY k
