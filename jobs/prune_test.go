package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/jobs"
)

type fakePruner struct {
	latest *churn.ScoreRun
	before []time.Time
}

func (f *fakePruner) LatestFinishedRun(context.Context) (*churn.ScoreRun, error) {
	return f.latest, nil
}

func (f *fakePruner) PruneScores(_ context.Context, before time.Time) ([]uint32, error) {
	f.before = append(f.before, before)
	return []uint32{202401}, nil
}

func TestPruneKeepsTheLatestRunsMonthAndTheOnesBefore(t *testing.T) {
	ctx := context.Background()
	f := &fakePruner{}
	job := &jobs.PruneScores{Store: f, KeepMonths: 4}
	if res, err := job.Prune(ctx); err != nil || len(f.before) != 0 || len(res.Months) != 0 {
		t.Fatalf("with no finished run: pruned before %v (%v)", f.before, err)
	}
	f.latest = &churn.ScoreRun{ID: "r", AsOf: time.Date(2026, 1, 17, 0, 0, 0, 0, time.UTC)}
	res, err := job.Prune(ctx)
	want := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC) // October to January kept
	if err != nil || len(f.before) != 1 || !f.before[0].Equal(want) || !res.Before.Equal(want) || len(res.Months) != 1 {
		t.Fatalf("pruned before %v (%+v, %v), want %s", f.before, res, err, want)
	}
	job.KeepMonths = 13
	if _, err := job.Prune(ctx); err != nil || !f.before[1].Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("keeping 13 months: pruned before %v (%v)", f.before, err)
	}
	job.KeepMonths = jobs.MinKeepMonths - 1
	if _, err := job.Prune(ctx); churn.ErrorKind(err) != churn.KindInvalid || len(f.before) != 2 {
		t.Fatalf("keeping %d months: %v, want invalid and no prune", job.KeepMonths, err)
	}
}
