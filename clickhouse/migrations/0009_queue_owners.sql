-- Ownership of the retention action queue (retention/owner.go,
-- clickhouse/owners.go). Each `churn serve` that may own the queue writes a
-- heartbeat row while it claims or owns it; a claim whose last beat is older
-- than the TTL, or released (its server stopped), is dead. seq orders one
-- owner's rows (beat_at keeps whole seconds only); ReplacingMergeTree keeps
-- the latest row per owner after merges, and readers take it with argMax.
CREATE TABLE IF NOT EXISTS queue_owners (
    owner      String,
    seq        UInt64,
    term       UInt64,
    addr       String,
    started_at DateTime,
    beat_at    DateTime,
    released   UInt8
) ENGINE = ReplacingMergeTree(seq)
ORDER BY owner;

-- The fencing token of the owner that wrote each event (its term); rows
-- written before fencing, and by plans run from the CLI, read as 0. One
-- statement (18.16 has no ADD COLUMN IF NOT EXISTS), last in the file, so a
-- migration that dies before it reruns cleanly.
ALTER TABLE action_events
    ADD COLUMN token UInt64 DEFAULT 0;
