-- Output tables written by the service. All are append-only: state is derived
-- from the latest row (models and runs) or from the event log (actions), so a
-- write that dies half way never changes what readers see.

CREATE TABLE IF NOT EXISTS models (
    version          UInt32,
    algorithm        String,
    created_at       DateTime,
    params           String,
    features         Array(String),
    encodings        String,
    train_from       Date,
    train_to         Date,
    holdout_as_of    Date,
    metrics          String,
    library_versions String,
    description      String,
    artifact         String
) ENGINE = MergeTree
ORDER BY version;

CREATE TABLE IF NOT EXISTS model_events (
    seq      UInt64,
    at       DateTime,
    version  UInt32,
    event    String,
    previous UInt32,
    actor    String,
    reason   String
) ENGINE = MergeTree
ORDER BY seq;

CREATE TABLE IF NOT EXISTS score_runs (
    run_id        String,
    as_of         Date,
    model_version UInt32,
    status        String,
    at            DateTime,
    rows          UInt64,
    error         String
) ENGINE = MergeTree
ORDER BY (run_id, at);

CREATE TABLE IF NOT EXISTS scores (
    run_id         String,
    as_of          Date,
    customer_id    String,
    model_version  UInt32,
    probability    Float32,
    band           String,
    tier           String,
    lifetime_value Float32,
    expected_loss  Float32,
    reasons        String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(as_of)
ORDER BY (customer_id, as_of, run_id);

CREATE TABLE IF NOT EXISTS action_events (
    event_id    String,
    action_id   String,
    at          DateTime,
    event       String,
    customer_id String,
    cycle       String,
    kind        String,
    offer       String,
    channel     String,
    cost        Float64,
    priority    Int32,
    value       Float64,
    agent       String,
    lease_until DateTime,
    outcome     String,
    note        String,
    actor       String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (action_id, at, event_id);

CREATE TABLE IF NOT EXISTS job_runs (
    run_id      String,
    job         String,
    trigger     String,
    status      String,
    started_at  DateTime,
    finished_at DateTime,
    rows        UInt64,
    error       String
) ENGINE = MergeTree
ORDER BY (job, started_at, run_id);
