package churn

import "time"

// ScoreRunStatus is a row of score_runs: a scoring run appends started, then
// finished once all its scores are written, or failed. Training runs
// (train_runs) go through the same started, finished or failed.
type ScoreRunStatus string

// Score run statuses. Readers only see runs with a finished row, so a run
// that dies half way is never visible; a run left started by a process that
// died is marked failed by the next run (or `churn status`), and the rows of
// failed runs are removed, which a purged row records.
const (
	ScoreRunStarted  ScoreRunStatus = "started"
	ScoreRunFinished ScoreRunStatus = "finished"
	ScoreRunFailed   ScoreRunStatus = "failed"
	ScoreRunPurged   ScoreRunStatus = "purged" // a failed run whose score rows were removed
)

// ScoreRun is a finished scoring run: the set of scores readers see.
type ScoreRun struct {
	ID           string
	AsOf         time.Time
	ModelVersion ModelVersion
	FinishedAt   time.Time
	Rows         int64
}

// JobStatus is the state of a run of a job.
type JobStatus string

// Job run statuses: a run is running until it ends in one of the others.
const (
	JobRunning   JobStatus = "running"
	JobSucceeded JobStatus = "succeeded"
	JobFailed    JobStatus = "failed"
	JobSkipped   JobStatus = "skipped"   // the job was still running from before
	JobCancelled JobStatus = "cancelled" // stopped by a shutdown
)

// JobRun is one run of a scheduled or manual job.
type JobRun struct {
	ID       string
	Job      string
	Trigger  string // schedule, manual, drift or retry (of a failed scheduled run)
	Started  time.Time
	Finished time.Time
	Status   JobStatus
	Rows     int64
	Error    string
}

// DriftKind is what a drift measure measures.
type DriftKind string

// Drift measure kinds.
const (
	DriftScore   DriftKind = "score"   // PSI of the scores
	DriftFeature DriftKind = "feature" // PSI of one input feature, named
	DriftAUC     DriftKind = "auc"     // AUC of a past run whose labels are known
)

// DriftMeasure is one measure of a drift check of a scoring run.
type DriftMeasure struct {
	RunID        string
	At           time.Time
	ModelVersion ModelVersion
	Kind         DriftKind
	Feature      string
	Value        float64
	Threshold    float64
	Breached     bool // the value crossed its threshold
	Retrain      bool // the check started a retraining run
}
