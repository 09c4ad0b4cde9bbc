-- Snapshot side "usage_monthly": active days from the usage rollups of
-- migration 0010, not from daily rows (clickhouse/rollups_test.go checks
-- every value against a computation from daily rows alone, bit for bit).
--
-- Active days from the bitmasks of usage_monthly:
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
    -- the day of the month - 1 of the highest bit set (the last active
    -- day of the year, of the horizon) and of the lowest (the first active
    -- day after the horizon): log2 is exact on powers of two, and on the
    -- other masks (below 2^32) it is at least 6e-10 below the next integer,
    -- far above float64 rounding, so its integer part is the bit's index.
    -- (A day's bit index by popcount of the smeared mask cost 2 s more of
    -- the side's 8 s on a million customers.)
    toInt64(log2(days_365)) AS high_365,
    toInt64(log2(days_h)) AS high_h,
    toInt64(log2(bitAnd(days_after, negate(days_after)))) AS low_after,
    -- population counts (18.16 has no bitCount): the SWAR sum of
    -- bits, one step per arrayMap so that no expression repeats
    arrayMap(x -> bitAnd(bitShiftRight(x * 16843009, 24), 255),
     arrayMap(x -> bitAnd(x + bitShiftRight(x, 4), 252645135),
      arrayMap(x -> bitAnd(x, 858993459) + bitAnd(bitShiftRight(x, 2), 858993459),
       arrayMap(x -> x - bitAnd(bitShiftRight(x, 1), 1431655765),
        [days_old, days_prev, days_30])))) AS counts
SELECT
    cityHash64(customer_id) AS k,
    sum(counts[1]) AS u_active_old,
    sum(counts[2]) AS u_active_prev,
    sum(counts[3]) AS u_active_30,
    minIf(tn - m0 - high_365, days_365 != 0) AS u_last_age,
    maxIf(m0 + high_h, days_h != 0) AS u_l_label,
    countIf(days_after != 0) AS u_l_after,
    minIf(m0 + low_after, days_after != 0) AS u_l_next
FROM usage_monthly
WHERE month >= toStartOfMonth(t - 365) AND month < t + @horizon_days + @inactivity_days
GROUP BY k
