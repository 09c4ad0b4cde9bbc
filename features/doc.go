// Package features defines the model inputs of the churn service and how they
// are computed: the feature registry (name, description, unit, family and
// missing-value meaning of each feature), the point-in-time snapshot query
// that aggregates the contract tables inside ClickHouse, labels, customer
// lifetime value and value tiers, and the planning of training snapshots.
//
// The point-in-time rule (shared/ARCHITECTURE.md): a snapshot at as-of date T
// holds the customers signed up before T and not churned before T; its
// features read only rows dated before T; its label is 1 when the customer
// churns in [T, T+horizon).
//
// The package owns the SQL text (embedded .sql files) but never talks to
// ClickHouse: it runs the query through the small Store interface, which
// package clickhouse implements.
package features
