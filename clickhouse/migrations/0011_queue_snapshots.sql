-- Snapshots of the retention action queue (retention/snapshot.go,
-- clickhouse/queue_snapshots.go), so that a starting server folds in only
-- the action events after the newest snapshot instead of the whole log.
--
-- queue_snapshot_chunks: the queue state as opaque chunks (the retention
-- package's encoding, each with its own checksum), one partition per
-- snapshot so that an old snapshot is dropped whole. queue_snapshots: one
-- header row per complete snapshot, written after all of its chunks; chunks
-- without a header (a writer that died half way) are never read.
CREATE TABLE IF NOT EXISTS queue_snapshot_chunks (
    snapshot UInt64,
    seq      UInt32,
    data     String
) ENGINE = MergeTree
PARTITION BY snapshot
ORDER BY seq;

CREATE TABLE IF NOT EXISTS queue_snapshots (
    snapshot   UInt64,
    cut        String,
    token      UInt64,
    latest     Int64,
    actions    UInt64,
    chunks     UInt32,
    written_at DateTime,
    writer     String
) ENGINE = MergeTree
ORDER BY snapshot;
