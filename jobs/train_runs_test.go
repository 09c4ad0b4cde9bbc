package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/jobs"
)

// failingSecondSave stores the first candidate and fails on the second, as a
// ClickHouse lost half way through a training run would.
type failingSecondSave struct {
	*clientT
	saves atomic.Int32
}

func (f *failingSecondSave) SaveModel(ctx context.Context, m churn.Model) (churn.ModelVersion, error) {
	if f.saves.Add(1) == 2 {
		return 0, churn.Unavailable("insert into models", errors.New("connection reset by peer"))
	}
	return f.clientT.SaveModel(ctx, m)
}

func TestCandidatesOfATrainingRunThatFailedAreMarkedAndNeverPromoted(t *testing.T) {
	c := seeded(t, 1200)
	ctx := context.Background()
	_, err := (&jobs.Train{Data: c, Models: c, Registry: &failingSecondSave{clientT: c}, Runs: c, Snapshots: 3, Candidates: quick()}).Run(ctx)
	if churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("training with a failing save: %v", err)
	}
	ms, err := c.Models(ctx)
	if err != nil || len(ms) != 1 {
		t.Fatalf("registry after the failed run: %d models (%v), want the one stored", len(ms), err)
	}
	if ms[0].TrainStatus != churn.ScoreRunFailed || ms[0].TrainRun == "" {
		t.Fatalf("the stored candidate is listed as of run %q, %q; want failed", ms[0].TrainRun, ms[0].TrainStatus)
	}
	if champ, _ := c.ChampionVersion(ctx); champ != 0 {
		t.Fatalf("champion %d after a failed run, want none", champ)
	}
	if err := c.Promote(ctx, ms[0].Version, "test", ""); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("promoting a candidate of a failed run: %v, want a conflict", err)
	}

	// A run that finishes stores promotable candidates and promotes one.
	res, err := (&jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 3, Candidates: quick()}).Run(ctx)
	if err != nil || !res.Promoted {
		t.Fatalf("second run: %v", err)
	}
	best, err := c.Model(ctx, res.Best.Version)
	if err != nil || best.TrainStatus != churn.ScoreRunFinished || best.TrainRun != res.RunID {
		t.Fatalf("best of the finished run: run %q %q (%v), want %s finished", best.TrainRun, best.TrainStatus, err, res.RunID)
	}
}

func TestTheNextScoringRunFailsRunsLeftStartedByADeadProcess(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	cfg.Owner = "elsewhere:4242"
	dc, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if err := dc.RecordScoreRun(ctx, "crashed", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), 1, churn.ScoreRunStarted, 0, ""); err != nil {
		t.Fatal(err)
	}
	sc := &jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c, Reconcile: func(ctx context.Context) error {
		_, err := c.ReconcileScoreRuns(ctx, clickhouse.ReconcileOptions{Alive: func(owner string) bool { return owner != "elsewhere:4242" }})
		return err
	}}
	// No champion: the run itself stops at once, after the clean-up.
	if _, err := sc.Run(ctx); churn.ErrorKind(err) != churn.KindNotFound {
		t.Fatalf("scoring without a champion: %v", err)
	}
	if st, _, err := c.RunStatus(ctx, "crashed"); err != nil || st != churn.ScoreRunPurged {
		t.Fatalf("the crashed run is %q (%v) after the next run, want purged", st, err)
	}
}
