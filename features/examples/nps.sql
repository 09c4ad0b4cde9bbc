-- NPS surveys: how likely the customer says they are to recommend us (0-10).
-- Reads nps_surveys (see tables/nps_surveys.sql); only surveys answered before
-- the as-of date count, so the family is point-in-time.
--
-- feature: nps_last (score 0-10): Latest NPS answer before the as-of date
-- missing: nps_last: NaN when the customer answered no survey before the as-of date.
-- feature: nps_min_365d (score 0-10): Lowest NPS answer in the last 365 days
-- missing: nps_min_365d: NaN when the customer answered no survey in the 365 days before the as-of date.
-- feature: nps_detractor_365d (count): NPS answers of 0-6 (detractors) in the last 365 days
-- feature: days_since_nps (days): Days since the customer's latest NPS answer
-- missing: days_since_nps: NaN when the customer answered no survey before the as-of date.
WITH toDate(@as_of) AS t
SELECT
    customer_id,
    toFloat32(argMax(score, (answered_at, survey_id))) AS nps_last,
    toFloat32(if(countIf(answered_at >= t - 365) = 0, nan, toFloat64(minIf(score, answered_at >= t - 365)))) AS nps_min_365d,
    toFloat32(countIf(answered_at >= t - 365 AND score <= 6)) AS nps_detractor_365d,
    toFloat32(toRelativeDayNum(t) - toRelativeDayNum(max(answered_at))) AS days_since_nps
FROM nps_surveys
WHERE answered_at < t
GROUP BY customer_id
