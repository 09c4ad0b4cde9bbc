-- Journal of imports that go through a staging table (clickhouse/import_journal.go):
-- one row per step, append-only. The staging table (<table>_import_<import_id>)
-- holds the import's rows, so its keys find the rows already moved into the
-- target table; 'moving' is written before the first partition moves, so a
-- re-run after a crash knows which imports may be half done and takes their
-- rows out again, unless its owner (host:pid of the importing process) is
-- still running. Steps: staging, moving, done, undone.

CREATE TABLE IF NOT EXISTS import_journal (
    import_id  String,
    table_name String,
    stage      String,
    step       String,
    rows       UInt64,
    owner      String,
    at         DateTime
) ENGINE = MergeTree
ORDER BY (import_id, at);
