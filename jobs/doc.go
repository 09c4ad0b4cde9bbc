// Package jobs runs the work that keeps models, scores and action queues
// fresh: training (Train, train.go), batch scoring (Scoring, score.go),
// drift checks, action planning and outcome labelling, scheduled with
// robfig/cron/v3. Each job is a type with a Run method; the CLI runs the
// same jobs by hand. Storage comes in through the small role interfaces of
// ports.go, one field per role on each job, implemented by
// *clickhouse.Client and, in the unit tests, by an in-memory store.
package jobs
