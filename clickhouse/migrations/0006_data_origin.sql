-- Where the contract tables' data came from (clickhouse/origin.go). `churn seed`
-- writes one row once its synthetic operator is loaded and `churn import`
-- empties the table before it writes anything, so a row here means the data
-- is synthetic: demo commands that rewrite data (`churn actions simulate`)
-- refuse to run without it.

CREATE TABLE IF NOT EXISTS data_origin (
    origin String,
    seed   UInt64,
    at     DateTime
) ENGINE = MergeTree
ORDER BY at;
