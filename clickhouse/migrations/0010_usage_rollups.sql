-- Usage rollups: usage_daily pre-aggregated per customer, so that a feature
-- snapshot reads a few million rollup rows instead of a year of daily rows
-- (features/sql/snapshot.sql says which window reads what).
--
--   usage_monthly  per customer and calendar month: a bitmask of the active
--                  days (bit d-1 for day d of the month). Masks of distinct
--                  days never share a bit because (customer_id, day) is the
--                  key of usage_daily, so their sum is their union: the
--                  snapshot counts and locates active days in any date range
--                  exactly from monthly rows.
--   usage_weekly   per customer and week split at month boundaries (a bucket
--                  starts on a Monday or on the 1st, whichever is later, so
--                  it never spans two months), with one column per measure
--                  and day of the week (voice_1 is Monday's voice minutes,
--                  toDayOfWeek). Each column holds one day's value, stored
--                  as usage_daily stores it: a window that cuts a week takes
--                  the days on its side, and every sum is the same, bit for
--                  bit, as the one over daily rows (the snapshot sums the
--                  same integer millionths of each day's value).
--
-- Both are partitioned by month like usage_daily, so that a month of a rollup
-- can be rebuilt from the same month of usage_daily. Rows of a
-- SummingMergeTree are summed only eventually: always read them with GROUP BY
-- and sum. The materialized views keep them up to date on every INSERT into
-- usage_daily (on a cluster: on each shard's local tables). Writes that fire
-- no view (ATTACH PARTITION, ALTER ... DELETE, TRUNCATE) rebuild or empty the
-- rollups by hand: clickhouse/rollups.go holds the same SELECTs for that, and
-- after this file migrate backfills the rollups from the rows already in
-- usage_daily, one month (and on a cluster one shard) at a time.
--
-- The SELECTs of the views here and of usageRollups in clickhouse/rollups.go
-- must stay the same: TestRollupRebuildEqualsTheViews checks it.

CREATE TABLE IF NOT EXISTS usage_monthly (
    customer_id String,
    month       Date,
    active_mask Int64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(month)
ORDER BY (customer_id, month);

CREATE TABLE IF NOT EXISTS usage_weekly (
    customer_id String,
    week        Date,
    voice_1 Float32, voice_2 Float32, voice_3 Float32, voice_4 Float32, voice_5 Float32, voice_6 Float32, voice_7 Float32,
    data_1 Float32, data_2 Float32, data_3 Float32, data_4 Float32, data_5 Float32, data_6 Float32, data_7 Float32,
    sms_1 UInt32, sms_2 UInt32, sms_3 UInt32, sms_4 UInt32, sms_5 UInt32, sms_6 UInt32, sms_7 UInt32,
    calls_1 UInt32, calls_2 UInt32, calls_3 UInt32, calls_4 UInt32, calls_5 UInt32, calls_6 UInt32, calls_7 UInt32,
    intl_1 Float32, intl_2 Float32, intl_3 Float32, intl_4 Float32, intl_5 Float32, intl_6 Float32, intl_7 Float32,
    roaming_1 Float32, roaming_2 Float32, roaming_3 Float32, roaming_4 Float32, roaming_5 Float32, roaming_6 Float32, roaming_7 Float32,
    dropped_1 UInt32, dropped_2 UInt32, dropped_3 UInt32, dropped_4 UInt32, dropped_5 UInt32, dropped_6 UInt32, dropped_7 UInt32
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(week)
ORDER BY (customer_id, week);

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_monthly_mv TO usage_monthly AS
SELECT
    customer_id,
    toStartOfMonth(day) AS month,
    -- a day counts as active exactly as in features/sql/snapshot.sql
    sum(if(voice_minutes > 0 OR data_mb > 0 OR sms > 0 OR calls > 0, bitShiftLeft(toInt64(1), toDayOfMonth(day) - 1), toInt64(0))) AS active_mask
FROM usage_daily
GROUP BY customer_id, month;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_weekly_mv TO usage_weekly AS
SELECT
    customer_id,
    greatest(toMonday(day), toStartOfMonth(day)) AS week,
    toFloat32(sumIf(voice_minutes, toDayOfWeek(day) = 1)) AS voice_1, toFloat32(sumIf(voice_minutes, toDayOfWeek(day) = 2)) AS voice_2, toFloat32(sumIf(voice_minutes, toDayOfWeek(day) = 3)) AS voice_3, toFloat32(sumIf(voice_minutes, toDayOfWeek(day) = 4)) AS voice_4, toFloat32(sumIf(voice_minutes, toDayOfWeek(day) = 5)) AS voice_5, toFloat32(sumIf(voice_minutes, toDayOfWeek(day) = 6)) AS voice_6, toFloat32(sumIf(voice_minutes, toDayOfWeek(day) = 7)) AS voice_7,
    toFloat32(sumIf(data_mb, toDayOfWeek(day) = 1)) AS data_1, toFloat32(sumIf(data_mb, toDayOfWeek(day) = 2)) AS data_2, toFloat32(sumIf(data_mb, toDayOfWeek(day) = 3)) AS data_3, toFloat32(sumIf(data_mb, toDayOfWeek(day) = 4)) AS data_4, toFloat32(sumIf(data_mb, toDayOfWeek(day) = 5)) AS data_5, toFloat32(sumIf(data_mb, toDayOfWeek(day) = 6)) AS data_6, toFloat32(sumIf(data_mb, toDayOfWeek(day) = 7)) AS data_7,
    toUInt32(sumIf(sms, toDayOfWeek(day) = 1)) AS sms_1, toUInt32(sumIf(sms, toDayOfWeek(day) = 2)) AS sms_2, toUInt32(sumIf(sms, toDayOfWeek(day) = 3)) AS sms_3, toUInt32(sumIf(sms, toDayOfWeek(day) = 4)) AS sms_4, toUInt32(sumIf(sms, toDayOfWeek(day) = 5)) AS sms_5, toUInt32(sumIf(sms, toDayOfWeek(day) = 6)) AS sms_6, toUInt32(sumIf(sms, toDayOfWeek(day) = 7)) AS sms_7,
    toUInt32(sumIf(calls, toDayOfWeek(day) = 1)) AS calls_1, toUInt32(sumIf(calls, toDayOfWeek(day) = 2)) AS calls_2, toUInt32(sumIf(calls, toDayOfWeek(day) = 3)) AS calls_3, toUInt32(sumIf(calls, toDayOfWeek(day) = 4)) AS calls_4, toUInt32(sumIf(calls, toDayOfWeek(day) = 5)) AS calls_5, toUInt32(sumIf(calls, toDayOfWeek(day) = 6)) AS calls_6, toUInt32(sumIf(calls, toDayOfWeek(day) = 7)) AS calls_7,
    toFloat32(sumIf(intl_minutes, toDayOfWeek(day) = 1)) AS intl_1, toFloat32(sumIf(intl_minutes, toDayOfWeek(day) = 2)) AS intl_2, toFloat32(sumIf(intl_minutes, toDayOfWeek(day) = 3)) AS intl_3, toFloat32(sumIf(intl_minutes, toDayOfWeek(day) = 4)) AS intl_4, toFloat32(sumIf(intl_minutes, toDayOfWeek(day) = 5)) AS intl_5, toFloat32(sumIf(intl_minutes, toDayOfWeek(day) = 6)) AS intl_6, toFloat32(sumIf(intl_minutes, toDayOfWeek(day) = 7)) AS intl_7,
    toFloat32(sumIf(roaming_minutes, toDayOfWeek(day) = 1)) AS roaming_1, toFloat32(sumIf(roaming_minutes, toDayOfWeek(day) = 2)) AS roaming_2, toFloat32(sumIf(roaming_minutes, toDayOfWeek(day) = 3)) AS roaming_3, toFloat32(sumIf(roaming_minutes, toDayOfWeek(day) = 4)) AS roaming_4, toFloat32(sumIf(roaming_minutes, toDayOfWeek(day) = 5)) AS roaming_5, toFloat32(sumIf(roaming_minutes, toDayOfWeek(day) = 6)) AS roaming_6, toFloat32(sumIf(roaming_minutes, toDayOfWeek(day) = 7)) AS roaming_7,
    toUInt32(sumIf(dropped_calls, toDayOfWeek(day) = 1)) AS dropped_1, toUInt32(sumIf(dropped_calls, toDayOfWeek(day) = 2)) AS dropped_2, toUInt32(sumIf(dropped_calls, toDayOfWeek(day) = 3)) AS dropped_3, toUInt32(sumIf(dropped_calls, toDayOfWeek(day) = 4)) AS dropped_4, toUInt32(sumIf(dropped_calls, toDayOfWeek(day) = 5)) AS dropped_5, toUInt32(sumIf(dropped_calls, toDayOfWeek(day) = 6)) AS dropped_6, toUInt32(sumIf(dropped_calls, toDayOfWeek(day) = 7)) AS dropped_7
FROM usage_daily
GROUP BY customer_id, week;
