// Package jobs runs the work that keeps models, scores and action queues
// fresh: training (train.go) and batch scoring (score.go) today, scheduled
// with robfig/cron/v3 as the service grows. Each job is a type with a Run
// method; the CLI runs the same jobs by hand. Storage comes in through small
// interfaces implemented by package clickhouse and by fakes in tests.
package jobs
