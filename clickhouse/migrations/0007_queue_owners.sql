-- Ownership of the retention action queue (retention/owner.go,
-- clickhouse/owners.go). Each `churn serve` that may own the queue writes a
-- heartbeat row while it claims or owns it; a claim whose last beat is older
-- than the TTL is dead. ReplacingMergeTree keeps one row per owner id after
-- merges (readers take the latest beat with argMax anyway).
CREATE TABLE IF NOT EXISTS queue_owners (
    owner      String,
    term       UInt64,
    addr       String,
    started_at DateTime,
    beat_at    DateTime
) ENGINE = ReplacingMergeTree(beat_at)
ORDER BY owner;

-- The fencing token of the owner that wrote each event (its term); rows
-- written before fencing, and by plans run from the CLI, read as 0. One
-- statement (18.16 has no ADD COLUMN IF NOT EXISTS), last in the file, so a
-- migration that dies before it reruns cleanly.
ALTER TABLE action_events
    ADD COLUMN token UInt64 DEFAULT 0;
