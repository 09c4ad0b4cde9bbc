-- The operator's NPS survey answers: one row per answered survey. Not a
-- contract table: the nps feature family (nps.sql) reads it. `churn seed`
-- fills it for the synthetic operator; an operator loads its own (or maps
-- an existing table with a view, docs/data-contract.md).
CREATE TABLE IF NOT EXISTS nps_surveys
(
    survey_id   String,
    customer_id String,
    answered_at Date,
    score       UInt8, -- 0..10
    channel     String -- sms, email, app, call
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(answered_at)
ORDER BY (customer_id, answered_at, survey_id)
