-- Who runs what (clickhouse/runs.go): training runs get a status log like
-- score_runs, and score runs record the process that started them (host:pid,
-- Config.Owner), so that a run left 'started' by a process that died can be
-- told from one still going, marked failed and its rows removed.
-- One ALTER (18.16 has no ADD COLUMN IF NOT EXISTS), last in the file, so a
-- migration that dies before it reruns cleanly.

CREATE TABLE IF NOT EXISTS train_runs (
    run_id String,
    status String,
    at     DateTime,
    owner  String,
    error  String
) ENGINE = MergeTree
ORDER BY (run_id, at);

ALTER TABLE score_runs ADD COLUMN owner String;
