-- Snapshot side "customers": every customer signed up before the as-of
-- date, with the profile columns (the operator's segment and payment
-- method mapped to their categories by the vocabulary). Whether a
-- customer is active at the as-of date is decided in Go, from this side
-- and the lifecycle and usage_monthly sides (features/outer.go).
WITH toDate(@as_of) AS t
SELECT
    cityHash64(customer_id) AS k,
    customer_id AS c_id,
    toRelativeDayNum(t) - toRelativeDayNum(signup_date) AS c_tenure,
    transform(segment, @segment_values, @segment_categories, '') AS c_segment,
    region AS c_region,
    transform(payment_method, @payment_values, @payment_categories, '') AS c_payment_method,
    billing AS c_billing
FROM customers
WHERE signup_date < t
