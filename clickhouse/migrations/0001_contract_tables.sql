-- Input contract tables (shared/ARCHITECTURE.md). An operator loads its own data
-- here (directly or with `churn import`); `churn seed` fills them with synthetic data.

CREATE TABLE IF NOT EXISTS customers (
    customer_id    String,
    signup_date    Date,
    region         String,
    segment        String,
    payment_method String
) ENGINE = MergeTree
ORDER BY customer_id;

CREATE TABLE IF NOT EXISTS plan_changes (
    customer_id String,
    changed_at  Date,
    plan        String,
    contract    String,
    monthly_fee Float64
) ENGINE = MergeTree
ORDER BY (customer_id, changed_at);

CREATE TABLE IF NOT EXISTS usage_daily (
    customer_id     String,
    day             Date,
    voice_minutes   Float32,
    data_mb         Float32,
    sms             UInt32,
    calls           UInt32,
    intl_minutes    Float32,
    roaming_minutes Float32,
    dropped_calls   UInt32
) ENGINE = MergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (customer_id, day);

CREATE TABLE IF NOT EXISTS invoices (
    invoice_id  String,
    customer_id String,
    issued_at   Date,
    due_date    Date,
    amount      Float64
) ENGINE = MergeTree
PARTITION BY toYear(issued_at)
ORDER BY (customer_id, issued_at, invoice_id);

CREATE TABLE IF NOT EXISTS payments (
    invoice_id  String,
    customer_id String,
    paid_at     Date,
    amount      Float64
) ENGINE = MergeTree
PARTITION BY toYear(paid_at)
ORDER BY (customer_id, paid_at, invoice_id);

CREATE TABLE IF NOT EXISTS support_tickets (
    ticket_id    String,
    customer_id  String,
    opened_at    DateTime,
    category     String,
    resolved_at  Nullable(DateTime),
    satisfaction Nullable(UInt8)
) ENGINE = MergeTree
PARTITION BY toYear(opened_at)
ORDER BY (customer_id, opened_at, ticket_id);

CREATE TABLE IF NOT EXISTS churn_events (
    customer_id String,
    churned_at  Date,
    reason      String,
    kind        String
) ENGINE = MergeTree
ORDER BY (customer_id, churned_at);
