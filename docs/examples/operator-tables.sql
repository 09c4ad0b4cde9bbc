-- An operator's own tables, as an example of data that does not have the
-- contract's shape: other table and column names, a numeric segment code,
-- seconds instead of minutes, kilobytes instead of megabytes, amounts in
-- cents, DateTime where the contract has Date. operator-views.sql maps them
-- onto the contract; TestOperatorTablesMappedWithViewsTrainAndScore creates
-- them in a scratch database and runs features, training and scoring on the
-- views.

CREATE TABLE IF NOT EXISTS crm_subscribers (
    subscriber_ref String,
    activated_at   DateTime,
    area           String,
    segment_code   UInt8,  -- 1 residential, 2 business
    pay_channel    String, -- DD, CARD, BANK, CASH
    prepaid        UInt8   -- 1: a prepaid line (recharges, no bills)
) ENGINE = MergeTree ORDER BY subscriber_ref;

CREATE TABLE IF NOT EXISTS tariff_history (
    subscriber_ref String,
    valid_from     DateTime,
    tariff         String,
    term_months    UInt8,  -- 0 (no term), 12 or 24
    fee_cents      UInt32
) ENGINE = MergeTree ORDER BY (subscriber_ref, valid_from);

CREATE TABLE IF NOT EXISTS cdr_daily (
    subscriber_ref  String,
    call_date       Date,
    voice_seconds   Float64,
    data_kb         Float64,
    sms_count       UInt32,
    call_count      UInt32,
    intl_seconds    Float64,
    roaming_seconds Float64,
    dropped         UInt32
) ENGINE = MergeTree PARTITION BY toYYYYMM(call_date) ORDER BY (subscriber_ref, call_date);

CREATE TABLE IF NOT EXISTS bills (
    bill_no        String,
    subscriber_ref String,
    bill_date      Date,
    due            Date,
    total_cents    Int64
) ENGINE = MergeTree ORDER BY (subscriber_ref, bill_date, bill_no);

CREATE TABLE IF NOT EXISTS bill_payments (
    bill_no        String,
    subscriber_ref String,
    paid_on        DateTime,
    paid_cents     Int64
) ENGINE = MergeTree ORDER BY (subscriber_ref, paid_on, bill_no);

CREATE TABLE IF NOT EXISTS care_cases (
    case_no        String,
    subscriber_ref String,
    created        DateTime,
    topic          String,
    closed         Nullable(DateTime),
    csat           Nullable(UInt8)
) ENGINE = MergeTree ORDER BY (subscriber_ref, created, case_no);

CREATE TABLE IF NOT EXISTS disconnections (
    subscriber_ref  String,
    disconnected_on Date,
    cause           String,
    voluntary       UInt8
) ENGINE = MergeTree ORDER BY subscriber_ref;

CREATE TABLE IF NOT EXISTS recharges (
    recharge_no    String,
    subscriber_ref String,
    recharged      DateTime,
    value_cents    Int64
) ENGINE = MergeTree ORDER BY (subscriber_ref, recharged, recharge_no);

CREATE TABLE IF NOT EXISTS commitments (
    subscriber_ref String,
    from_date      Date,
    until_date     Date
) ENGINE = MergeTree ORDER BY (subscriber_ref, from_date);

CREATE TABLE IF NOT EXISTS reconnections (
    subscriber_ref  String,
    reconnected_on  Date
) ENGINE = MergeTree ORDER BY (subscriber_ref, reconnected_on);
