-- Retention actions (package retention, jobs/actions.go, jobs/outcomes.go).
--
-- action_outcomes: each planned customer of a cycle, treated or control,
-- labelled churned or retained once the cycle's horizon has passed. A cycle
-- is labelled once, in one block, so lift reports stay stable even if the
-- contract tables are corrected later.
CREATE TABLE IF NOT EXISTS action_outcomes (
    cycle          String,
    customer_id    String,
    action_id      String,
    grp            String,
    kind           String,
    tier           String,
    lifetime_value Float64,
    status         String,
    outcome        String,
    cost           Float64,
    churned        UInt8,
    churned_at     Date,
    horizon_days   UInt16,
    labeled_at     DateTime
) ENGINE = MergeTree
ORDER BY (cycle, customer_id, action_id);

-- Targeting of each action event: the scoring run and rule that chose it
-- and the customer's tier, band, top reason, probability and lifetime value
-- at the time, so the queue can be filtered by tier and lift measured by
-- tier without joining scores. One statement (18.16 has no ADD COLUMN IF NOT
-- EXISTS), last in the file, so a migration that dies before it reruns cleanly.
ALTER TABLE action_events
    ADD COLUMN run_id String,
    ADD COLUMN rule String,
    ADD COLUMN tier String,
    ADD COLUMN band String,
    ADD COLUMN reason String,
    ADD COLUMN probability Float64,
    ADD COLUMN lifetime_value Float64;
