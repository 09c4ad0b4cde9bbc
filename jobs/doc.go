// Package jobs runs the work that keeps models, scores and action queues
// fresh: training (Train, train.go), batch scoring (Scoring, score.go),
// drift checks, action planning and outcome labelling, scheduled with
// robfig/cron/v3. Each job is a type with a Run method; the CLI runs the
// same jobs by hand. Storage comes in through interfaces declared here and
// implemented by *clickhouse.Client and by fakes in tests.
package jobs
