-- Contract tables for operators beyond the synthetic postpaid one (issue 15):
-- prepaid top-ups, fixed contract terms with their renewals, and returns of
-- churned customers (win-backs). An operator without such data leaves them
-- empty: the features read NaN or 0 as the registry documents.

-- Prepaid money: one row per top-up (a payment with no invoice).
CREATE TABLE IF NOT EXISTS topups (
    topup_id     String,
    customer_id  String,
    topped_up_at Date,
    amount       Float64
) ENGINE = MergeTree
PARTITION BY toYear(topped_up_at)
ORDER BY (customer_id, topped_up_at, topup_id);

-- One row per fixed term: the first term and each renewal. A customer is in
-- contract on a date inside [started_at, ends_at) of one of its terms.
CREATE TABLE IF NOT EXISTS contract_terms (
    customer_id String,
    started_at  Date,
    ends_at     Date
) ENGINE = MergeTree
ORDER BY (customer_id, started_at);

-- A churned postpaid customer who comes back: active again from
-- reactivated_at until its next churn event.
CREATE TABLE IF NOT EXISTS reactivations (
    customer_id    String,
    reactivated_at Date
) ENGINE = MergeTree
ORDER BY (customer_id, reactivated_at);
