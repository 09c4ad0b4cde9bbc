-- The targeting of each labelled customer: the top churn reason and the churn
-- probability the plan saw. Response rates are learned by action, tier and
-- reason (retention.Learn), and the uplift evaluation ranks customers by the
-- probability a risk-based plan ranked them by. Empty and 0 for cycles
-- labelled before. One statement (18.16 has no ADD COLUMN IF NOT EXISTS).

ALTER TABLE action_outcomes ADD COLUMN reason String, ADD COLUMN probability Float64;
