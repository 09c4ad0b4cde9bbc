-- Drift checks of scoring runs (jobs/drift.go): one row per measure, the
-- population stability index (PSI) of the score and of the model's most
-- important features against the training snapshot, and the AUC of a past
-- run once its labels are known (kind 'auc', with that run's id in feature).
-- Append-only like the other output tables.

CREATE TABLE IF NOT EXISTS drift_checks (
    run_id        String,
    at            DateTime,
    model_version UInt32,
    kind          String,
    feature       String,
    value         Float64,
    threshold     Float64,
    breached      UInt8,
    retrain       UInt8
) ENGINE = MergeTree
ORDER BY (run_id, at, kind, feature);
