package jobs

import (
	"context"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// The ports of the jobs: each names one role a job needs from storage, with
// one to three methods, so that a job's struct lists what it touches and a
// test fakes only that. *clickhouse.Client implements every one of them;
// features.Store (the snapshot query) is the features package's own port.

// ChampionReader reads the champion's version, 0 when there is none.
type ChampionReader interface {
	ChampionVersion(ctx context.Context) (churn.ModelVersion, error)
}

// ModelReader loads one registry entry with its artifact; KindNotFound when
// the version is absent.
type ModelReader interface {
	Model(ctx context.Context, version churn.ModelVersion) (churn.Model, error)
}

// ModelSource finds the champion and loads it.
type ModelSource interface {
	ChampionReader
	ModelReader
}

// ModelWriter stores trained candidates and changes the champion.
type ModelWriter interface {
	SaveModel(ctx context.Context, m churn.Model) (churn.ModelVersion, error)
	Promote(ctx context.Context, version churn.ModelVersion, actor, reason string) error
}

// RunRecorder records the status of a scoring run: readers see only the runs
// marked finished.
type RunRecorder interface {
	RecordScoreRun(ctx context.Context, runID string, asOf time.Time, model churn.ModelVersion, status churn.ScoreRunStatus, rows int, errMsg string) error
}

// TrainRunRecorder records the status (started, finished, failed) of a
// training run; its candidates can be promoted once it is finished.
type TrainRunRecorder interface {
	RecordTrainRun(ctx context.Context, runID string, status churn.ScoreRunStatus, errMsg string) error
}

// ScoreWriter writes the scores of a run.
type ScoreWriter interface {
	WriteScores(ctx context.Context, scores []churn.Score) error
}

// ScoredRunReader reads finished scoring runs for the drift check.
type ScoredRunReader interface {
	// FinishedScoreRun returns the newest finished scoring run whose as-of
	// date is on or before asOfBy (any date when zero), nil when none.
	FinishedScoreRun(ctx context.Context, asOfBy time.Time) (*churn.ScoreRun, error)
	RunProbabilities(ctx context.Context, runID string) ([]float32, error)
	// RunOutcomes pairs a run's probabilities with labels: 1 when the
	// customer churned in [from, to).
	RunOutcomes(ctx context.Context, runID string, from, to time.Time) (probs, labels []float64, err error)
}

// DriftLog keeps the drift measures of each checked run.
type DriftLog interface {
	// DriftRetrained reports whether a check of the run already started a
	// retraining run.
	DriftRetrained(ctx context.Context, runID string) (bool, error)
	SaveDriftChecks(ctx context.Context, ms []churn.DriftMeasure) error
}

// ScoreRuns finds the scoring run a plan comes from and reads its scores.
type ScoreRuns interface {
	// LatestFinishedRun returns the newest finished run, nil when there is none.
	LatestFinishedRun(ctx context.Context) (*churn.ScoreRun, error)
	ScanRunScores(ctx context.Context, runID string, fn func(churn.Score) error) error
}

// ActionLister lists every action known, any cycle, as it stands now.
type ActionLister interface {
	Actions() ([]churn.Action, error)
}

// ActionQueue is where planned actions go: the queue of `churn serve` when
// the job runs inside it, or a queue loaded from the action log when it runs
// from the CLI.
type ActionQueue interface {
	ActionLister
	// Enqueue appends new actions and control entries, skipping known ids.
	Enqueue(ctx context.Context, actor string, actions, control []churn.Action) (int, error)
	// History returns, read at one instant, every action as Actions
	// does and what the queue keeps of its archived cycles, whose closed
	// actions it no longer lists.
	History() ([]churn.Action, retention.Archive, error)
}

// CycleArchiver archives cycles whose outcomes are labelled
// (retention.Queue.ArchiveCycles) and returns those it archived.
type CycleArchiver interface {
	ArchiveCycles(ctx context.Context, actor string, cycles []string) ([]string, error)
}

// ChurnReader tells how far the data reaches and who churned.
type ChurnReader interface {
	// UsageRange is the first and last day of usage data: the data is
	// complete up to the last day.
	UsageRange(ctx context.Context) (first, last time.Time, err error)
	// ChurnedBetween maps customers who churned in [from, to) to the day.
	ChurnedBetween(ctx context.Context, from, to time.Time) (map[string]time.Time, error)
	// HasPrepaid reports whether any customer is prepaid: its churn is
	// known only after the inactivity days that follow the horizon.
	HasPrepaid(ctx context.Context) (bool, error)
}

// OutcomeLog keeps the labels of planned customers, one write per run.
type OutcomeLog interface {
	// LabeledCycles returns the cycles already labelled.
	LabeledCycles(ctx context.Context) (map[string]bool, error)
	// WriteActionOutcomes stores the labels of cycles all at once.
	WriteActionOutcomes(ctx context.Context, outcomes []churn.Outcome) error
}

// OutcomeReader reads the labelled outcomes of cycles, of all when none
// are named.
type OutcomeReader interface {
	ActionOutcomes(ctx context.Context, cycles ...string) ([]churn.Outcome, error)
}
