// Package serve is the HTTP API of the service: the gin router under /v1 that
// dashboards poll and retention teams work from, its OpenAPI document, API-key
// authentication with roles, health and readiness, and Prometheus metrics.
//
// Score reads never wait on ClickHouse: a Loader keeps the latest finished
// scoring run in memory as a compact, immutable Snapshot and swaps in the next
// one atomically once it is fully loaded. When ClickHouse is down the last
// snapshot keeps being served and /readyz reports the service as degraded.
// Storage comes in through the small interfaces of store.go, implemented by
// *clickhouse.Client directly and by in-memory fakes in tests.
package serve
