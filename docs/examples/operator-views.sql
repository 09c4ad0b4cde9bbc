-- Maps the operator's tables of operator-tables.sql (database `operator`)
-- onto the input contract with views: nothing is copied, every query of
-- `churn` reads the operator's tables through them. Run it in the churn
-- database after `churn migrate`, e.g.
--   clickhouse-client --database churn --multiquery < docs/examples/operator-views.sql
-- Each view replaces the (empty) contract table `churn migrate` created.
-- Adapt the SELECTs to your tables: the column names, their order and
-- types must be the contract's (docs/data-contract.md); values of the
-- enumerated columns either are the contract's or are listed in your
-- vocabulary file (--vocabulary).

DROP TABLE IF EXISTS customers;
CREATE VIEW customers AS
SELECT
    subscriber_ref AS customer_id,
    toDate(activated_at) AS signup_date,
    area AS region,
    transform(segment_code, [1, 2], ['consumer', 'business'], '') AS segment,
    transform(pay_channel, ['DD', 'CARD', 'BANK', 'CASH'], ['direct_debit', 'credit_card', 'bank_transfer', 'cash'], '') AS payment_method,
    if(prepaid = 1, 'prepaid', 'postpaid') AS billing
FROM operator.crm_subscribers;

DROP TABLE IF EXISTS plan_changes;
CREATE VIEW plan_changes AS
SELECT
    subscriber_ref AS customer_id,
    toDate(valid_from) AS changed_at,
    tariff AS plan,
    multiIf(term_months = 12, 'one_year', term_months = 24, 'two_year', 'month_to_month') AS contract,
    fee_cents / 100 AS monthly_fee
FROM operator.tariff_history;

DROP TABLE IF EXISTS usage_daily;
CREATE VIEW usage_daily AS
SELECT
    subscriber_ref AS customer_id,
    call_date AS day,
    toFloat32(voice_seconds / 60) AS voice_minutes,
    toFloat32(data_kb / 1024) AS data_mb,
    sms_count AS sms,
    call_count AS calls,
    toFloat32(intl_seconds / 60) AS intl_minutes,
    toFloat32(roaming_seconds / 60) AS roaming_minutes,
    dropped AS dropped_calls
FROM operator.cdr_daily;

DROP TABLE IF EXISTS invoices;
CREATE VIEW invoices AS
SELECT
    bill_no AS invoice_id,
    subscriber_ref AS customer_id,
    bill_date AS issued_at,
    due AS due_date,
    total_cents / 100 AS amount
FROM operator.bills;

DROP TABLE IF EXISTS payments;
CREATE VIEW payments AS
SELECT
    bill_no AS invoice_id,
    subscriber_ref AS customer_id,
    toDate(paid_on) AS paid_at,
    paid_cents / 100 AS amount
FROM operator.bill_payments;

DROP TABLE IF EXISTS support_tickets;
CREATE VIEW support_tickets AS
SELECT
    case_no AS ticket_id,
    subscriber_ref AS customer_id,
    created AS opened_at,
    topic AS category,
    closed AS resolved_at,
    csat AS satisfaction
FROM operator.care_cases;

DROP TABLE IF EXISTS churn_events;
CREATE VIEW churn_events AS
SELECT
    subscriber_ref AS customer_id,
    disconnected_on AS churned_at,
    cause AS reason,
    if(voluntary = 1, 'voluntary', 'involuntary') AS kind
FROM operator.disconnections;

DROP TABLE IF EXISTS topups;
CREATE VIEW topups AS
SELECT
    recharge_no AS topup_id,
    subscriber_ref AS customer_id,
    toDate(recharged) AS topped_up_at,
    value_cents / 100 AS amount
FROM operator.recharges;

DROP TABLE IF EXISTS contract_terms;
CREATE VIEW contract_terms AS
SELECT
    subscriber_ref AS customer_id,
    from_date AS started_at,
    until_date AS ends_at
FROM operator.commitments;

DROP TABLE IF EXISTS reactivations;
CREATE VIEW reactivations AS
SELECT
    subscriber_ref AS customer_id,
    reconnected_on AS reactivated_at
FROM operator.reconnections;

-- The usage rollup (usage_monthly, migration 0010) is filled by a
-- materialized view on INSERTs into usage_daily, which a view never
-- receives: make it a view over usage_daily with the same SELECT (copied
-- from migration 0010; a
-- test in clickhouse/rollups_docs_test.go fails when it differs from the
-- migration's definition). Correct, and as slow as reading
-- the daily rows; with a large usage table, keep usage_daily a table that
-- the operator's ETL fills instead.
DROP TABLE IF EXISTS usage_monthly_mv;
DROP TABLE IF EXISTS usage_monthly;
CREATE VIEW usage_monthly AS
SELECT
    customer_id,
    toStartOfMonth(day) AS month,
    -- a day counts as active exactly as in features/sql/snapshot.sql
    sum(if(voice_minutes > 0 OR data_mb > 0 OR sms > 0 OR calls > 0, bitShiftLeft(toInt64(1), toDayOfMonth(day) - 1), toInt64(0))) AS active_mask
FROM usage_daily
GROUP BY customer_id, month;
