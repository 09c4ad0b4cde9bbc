-- Drops the weekly usage rollup of migration 0010. The snapshot reads the
-- last 90 days of usage from usage_daily (features/sql/snapshot/
-- usage_recent.sql): on ClickHouse 18.16 that costs less server CPU than
-- cutting weekly buckets at the window boundaries did (14.1 s against
-- 20.3 s at a million customers), and the view tripled the time of every
-- insert into usage_daily (one month of a million customers, 24 million
-- rows: 57.8 s with it, 18.2 s without). The monthly masks (usage_monthly)
-- stay: the year of active days they give would take 290 million daily
-- rows.

DROP TABLE IF EXISTS usage_weekly_mv;

DROP TABLE IF EXISTS usage_weekly;
