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
    transform(pay_channel, ['DD', 'CARD', 'BANK', 'CASH'], ['direct_debit', 'credit_card', 'bank_transfer', 'cash'], '') AS payment_method
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
