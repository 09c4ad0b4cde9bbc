package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/telcoretain/churn"
)

// ScorePruner drops the scores of the runs as of months before a date.
type ScorePruner interface {
	LatestFinishedRun(ctx context.Context) (*churn.ScoreRun, error)
	// PruneScores returns the months dropped as YYYYMM.
	PruneScores(ctx context.Context, before time.Time) ([]uint32, error)
}

// MinKeepMonths is the fewest months of scores PruneScores keeps: the drift
// check labels the latest run whose horizon and prepaid silence have passed
// (30 + 60 days by default), and reads its scores.
const MinKeepMonths = 4

// PruneScores is the job that bounds the scores kept: those of the runs as
// of the latest finished run's month and the KeepMonths-1 months before it.
// Scoring daily at a million customers writes about 120 MiB of scores a
// day, and nothing else removes them. The runs stay listed in score_runs.
type PruneScores struct {
	Store      ScorePruner
	KeepMonths int // >= MinKeepMonths
	Log        *slog.Logger
}

// PruneResult says what a run of PruneScores dropped.
type PruneResult struct {
	Before time.Time // the first month kept
	Months []uint32  // dropped, YYYYMM
}

// Run drops the months before the kept ones; with no finished run it keeps
// everything.
func (j *PruneScores) Run(ctx context.Context) error {
	_, err := j.Prune(ctx)
	return err
}

// Prune is Run with its result.
func (j *PruneScores) Prune(ctx context.Context) (*PruneResult, error) {
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if j.KeepMonths < MinKeepMonths {
		return nil, churn.Invalid("prune scores", "keep_months", "%d: keep at least %d months, for the runs the drift check labels", j.KeepMonths, MinKeepMonths)
	}
	latest, err := j.Store.LatestFinishedRun(ctx)
	if err != nil || latest == nil {
		return &PruneResult{}, err
	}
	y, m, _ := latest.AsOf.Date()
	res := &PruneResult{Before: time.Date(y, m-time.Month(j.KeepMonths-1), 1, 0, 0, 0, 0, time.UTC)}
	res.Months, err = j.Store.PruneScores(ctx, res.Before)
	if err != nil {
		return res, err
	}
	log.Info("scores pruned", "months_dropped", res.Months, "kept_from", res.Before.Format(time.DateOnly), "latest_run", latest.ID)
	return res, nil
}
