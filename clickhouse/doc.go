// Package clickhouse is the only package that speaks to ClickHouse. It owns the
// schema (versioned migrations), reads of the input contract tables and writes
// of the output tables, over clickhouse-go/v2's native protocol. It reads and
// writes the root package's types (churn.Score, churn.ActionEvent,
// churn.Outcome, churn.Model, ...) and *Client implements the storage
// interfaces that jobs, retention and serve declare, so no layer translates
// between them. Rows the client stamps itself take their time from
// Config.Now.
//
// The SQL stays within what ClickHouse 18.16 (Debian's package) and current
// releases both accept: no DateTime64, no window functions, no LowCardinality,
// explicit column lists on every INSERT, and client-side parameter binding.
package clickhouse
