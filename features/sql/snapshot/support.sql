-- Snapshot side "support": support tickets opened in the @history_days
-- (730) before the as-of date, as billing.sql reads invoices; a resolution
-- or a satisfaction score counts only when it came before the as-of date
-- too. Categories are the operator's, mapped by the vocabulary.
WITH
    toDate(@as_of) AS t,
    toRelativeDayNum(t) - toRelativeDayNum(toDate(opened_at)) AS age,
    (isNotNull(resolved_at) AND toDate(assumeNotNull(resolved_at)) < t) AS resolved,
    transform(category, @ticket_values, @ticket_categories, '') AS kind
SELECT
    cityHash64(customer_id) AS k,
    countIf(kind = 'billing' AND age <= 30) AS s_billing_30,
    countIf(kind = 'billing' AND age <= 90) AS s_billing_90,
    countIf(kind = 'network' AND age <= 30) AS s_network_30,
    countIf(kind = 'network' AND age <= 90) AS s_network_90,
    countIf(kind = 'device' AND age <= 30) AS s_device_30,
    countIf(kind = 'device' AND age <= 90) AS s_device_90,
    countIf(kind = 'service' AND age <= 30) AS s_service_30,
    countIf(kind = 'service' AND age <= 90) AS s_service_90,
    countIf(kind = 'complaint' AND age <= 30) AS s_complaint_30,
    countIf(kind = 'complaint' AND age <= 90) AS s_complaint_90,
    countIf(NOT resolved) AS s_unresolved,
    countIf(resolved AND isNotNull(satisfaction)) AS s_rated,
    argMaxIf(assumeNotNull(satisfaction), (assumeNotNull(resolved_at), ticket_id),
             resolved AND isNotNull(satisfaction)) AS s_last_satisfaction,
    countIf(kind = 'complaint') AS s_complaints,
    minIf(age, kind = 'complaint') AS s_complaint_age
FROM support_tickets
WHERE toDate(opened_at) < t AND toDate(opened_at) >= t - @history_days
GROUP BY k
