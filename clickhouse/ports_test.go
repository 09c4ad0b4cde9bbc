package clickhouse_test

import (
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/serve"
)

// The client implements every storage port its consumers declare; these
// fail to compile when a port and the client drift apart.
var (
	_ jobs.ModelSource     = (*clickhouse.Client)(nil)
	_ jobs.ModelWriter     = (*clickhouse.Client)(nil)
	_ jobs.RunRecorder     = (*clickhouse.Client)(nil)
	_ jobs.ScoreWriter     = (*clickhouse.Client)(nil)
	_ jobs.ScoredRunReader = (*clickhouse.Client)(nil)
	_ jobs.DriftLog        = (*clickhouse.Client)(nil)
	_ jobs.ScoreRuns       = (*clickhouse.Client)(nil)
	_ jobs.ChurnReader     = (*clickhouse.Client)(nil)
	_ jobs.OutcomeLog      = (*clickhouse.Client)(nil)
	_ jobs.History         = (*clickhouse.Client)(nil)

	_ retention.Log           = (*clickhouse.Client)(nil)
	_ retention.SnapshotStore = (*clickhouse.Client)(nil)

	_ serve.ScoreStore    = (*clickhouse.Client)(nil)
	_ serve.ModelRegistry = (*clickhouse.Client)(nil)
	_ serve.Pinger        = (*clickhouse.Client)(nil)
	_ serve.OutcomeReader = (*clickhouse.Client)(nil)
	_ serve.RunLister     = (*clickhouse.Client)(nil)
	_ serve.RegionReader  = (*clickhouse.Client)(nil)
	_ serve.ProfileReader = (*clickhouse.Client)(nil)
)
