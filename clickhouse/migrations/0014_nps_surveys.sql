-- nps_surveys: the synthetic operator's extra table (not an input contract
-- table): NPS survey answers, which `churn seed` generates and the example
-- feature family features/examples/nps.sql reads. It shows an operator's own
-- table feeding a SQL feature family (docs/data-contract.md); an operator's
-- database may leave it empty.

CREATE TABLE IF NOT EXISTS nps_surveys (
    survey_id   String,
    customer_id String,
    answered_at Date,
    score       UInt8,
    channel     String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(answered_at)
ORDER BY (customer_id, answered_at, survey_id);
