-- How a customer pays for service, which decides how its churn is defined
-- (features/sql): postpaid customers churn by an explicit churn event,
-- prepaid ones by inactivity (no usage and no top-up for N days). Rows
-- loaded before this column existed are postpaid.

ALTER TABLE customers ADD COLUMN billing String DEFAULT 'postpaid';
