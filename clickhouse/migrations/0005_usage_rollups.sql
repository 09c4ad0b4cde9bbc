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
--                  it never spans two months): usage sums. The volumes are
--                  summed as integer millionths (round(value * 1e6)) so that
--                  a sum is exact and does not depend on the order of its
--                  terms: a feature is the same whether it adds weekly sums
--                  or daily rows.
--
-- Both are partitioned by month like usage_daily, so that a month of a
-- rollup can be rebuilt from the same month of usage_daily. Rows of a
-- SummingMergeTree are summed only eventually: always read them with
-- GROUP BY and sum.
--
-- After this file, migrate runs clickhouse/rollups.go (installUsageRollups),
-- which holds the one definition of each rollup's SELECT: it creates the
-- materialized views that keep the rollups up to date on every INSERT into
-- usage_daily, and backfills the rollups from the rows already there with
-- INSERT ... SELECT, one month at a time, logging each month. The importer
-- rebuilds the months it attaches with ATTACH PARTITION, which bypasses the
-- views, from the same definitions.

CREATE TABLE IF NOT EXISTS usage_monthly (
    customer_id String,
    month       Date,
    active_mask Int64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(month)
ORDER BY (customer_id, month);

CREATE TABLE IF NOT EXISTS usage_weekly (
    customer_id   String,
    week          Date,
    voice_micro   Int64,
    data_micro    Int64,
    sms           Int64,
    calls         Int64,
    intl_micro    Int64,
    roaming_micro Int64,
    dropped_calls Int64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(week)
ORDER BY (customer_id, week);
