package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
)

// driftWorld is a seeded database with a trained champion, a scheduler with
// the train, score and drift jobs, and drift retraining wired as in `churn
// serve`.
type driftWorld struct {
	c     *clickhouse.Client
	sched *jobs.Scheduler
	drift *jobs.Drift
}

// newDriftWorld seeds 12 months from 2025-01-01. With shift != 1 all usage
// from 2025-12-05 on is multiplied by it: after every training snapshot (the
// latest is 2025-11-01, the holdout 2025-12-01), inside the window of the
// scoring run of 2026-01-01.
func newDriftWorld(t *testing.T, shift float64) *driftWorld {
	t.Helper()
	c, _ := chtest.NewDB(t)
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = 3000, 12, 3
	cfg.Effects.UsageShift = shift
	cfg.Effects.UsageShiftFrom = time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	if _, err := synth.Load(context.Background(), cfg, c, synth.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	w := &driftWorld{c: c}
	w.drift = &jobs.Drift{Data: c, Models: c, Runs: c, Checks: c, Retrain: func(context.Context, string) error {
		_, err := w.sched.Start("train", jobs.TriggerDrift)
		return err
	}}
	var err error
	w.sched, err = jobs.New(jobs.Options{History: c},
		jobs.Spec{Name: "train", Job: jobs.TrainJob{Train: &jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 4, Candidates: quick()}}, Schedule: "@weekly"},
		jobs.Spec{Name: "score", Job: jobs.ScoreJob{Scoring: &jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c}}, Schedule: "@daily"},
		jobs.Spec{Name: "drift", Job: w.drift, Schedule: "after score"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sched.RunNow(context.Background(), "train", jobs.TriggerManual); err != nil {
		t.Fatal(err)
	}
	return w
}

// scoreAndCheck runs score (and drift after it) and returns the drift
// measures stored for the run.
func (w *driftWorld) scoreAndCheck(t *testing.T) (runs []churn.JobRun, checks []churn.DriftMeasure) {
	t.Helper()
	ctx := context.Background()
	runs, err := w.sched.RunNow(ctx, "score", jobs.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	w.sched.Wait()
	if len(runs) != 2 || runs[1].Job != "drift" || runs[1].Status != churn.JobSucceeded {
		t.Fatalf("runs %+v, want score then a successful drift check", runs)
	}
	latest, err := w.c.LatestFinishedRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checks, err = w.c.DriftChecks(ctx, latest.ID)
	if err != nil {
		t.Fatal(err)
	}
	return runs, checks
}

func measure(checks []churn.DriftMeasure, kind churn.DriftKind) (v float64, n int, retrain bool) {
	for _, c := range checks {
		if c.Kind == kind {
			v, n, retrain = c.Value, n+1, retrain || c.Retrain
		}
	}
	return v, n, retrain
}

func trainRuns(t *testing.T, c *clickhouse.Client) []churn.JobRun {
	t.Helper()
	runs, err := c.JobRuns(context.Background(), "train", 10)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestAUsageShiftRaisesThePSIOverTheThresholdAndTriggersOneRetraining(t *testing.T) {
	w := newDriftWorld(t, 0.3)
	ctx := context.Background()
	models, _ := w.c.Models(ctx)
	_, checks := w.scoreAndCheck(t)
	psi, _, retrain := measure(checks, churn.DriftScore)
	_, nf, _ := measure(checks, churn.DriftFeature)
	t.Logf("usage x0.3: score PSI %.3f, %d features checked", psi, nf)
	for _, c := range checks {
		t.Logf("  %s %s: %.3f (breached %v)", c.Kind, c.Feature, c.Value, c.Breached)
	}
	if psi <= jobs.DefaultPSIThreshold || !retrain || nf == 0 {
		t.Fatalf("score PSI %.3f (threshold %.1f), retrain %v, %d features: want a breach that retrains", psi, jobs.DefaultPSIThreshold, retrain, nf)
	}
	tr := trainRuns(t, w.c)
	if len(tr) != 2 || tr[0].Trigger != jobs.TriggerDrift || tr[0].Status != churn.JobSucceeded {
		t.Fatalf("train runs %+v, want the first manual one and a successful one triggered by drift", tr)
	}
	after, _ := w.c.Models(ctx)
	if len(after) != len(models)+len(quick()) {
		t.Fatalf("registry has %d models after retraining, want %d + %d candidates", len(after), len(models), len(quick()))
	}
	// A second check of the same run does not retrain again.
	res, err := w.drift.Check(ctx)
	if err != nil || res.Retrain || len(trainRuns(t, w.c)) != 2 {
		t.Fatalf("second check: retrain %v (%s), err %v", res.Retrain, res.Reason, err)
	}
}

func TestWithoutAShiftNothingRetrainsUntilTheChampionsAUCFallsUnderTheFloor(t *testing.T) {
	w := newDriftWorld(t, 1)
	ctx := context.Background()
	// A run whose horizon, and the prepaid customers' days of silence after
	// it, have passed: its labels are known.
	labelled, err := (&jobs.Scoring{Data: w.c, Models: w.c, Runs: w.c, Scores: w.c, AsOf: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, checks := w.scoreAndCheck(t)
	psi, n, retrain := measure(checks, churn.DriftScore)
	auc, na, _ := measure(checks, churn.DriftAUC)
	t.Logf("no shift: score PSI %.3f, AUC %.3f of run %s", psi, auc, labelled.RunID)
	for _, c := range checks {
		t.Logf("  %s %s: %.3f (breached %v)", c.Kind, c.Feature, c.Value, c.Breached)
	}
	if n != 1 || psi > jobs.DefaultPSIThreshold/2 || retrain {
		t.Fatalf("score PSI %.3f, retrain %v: want a stable score and no retraining", psi, retrain)
	}
	if na != 1 || auc < 0.7 {
		t.Fatalf("AUC %.3f measured %d times, want the labelled run's AUC once", auc, na)
	}
	if tr := trainRuns(t, w.c); len(tr) != 1 {
		t.Fatalf("train runs %+v, want only the first", tr)
	}

	// The same AUC under a stricter floor retrains.
	w.drift.AUCFloor = 0.99
	_, checks = w.scoreAndCheck(t)
	if _, _, retrain := measure(checks, churn.DriftAUC); !retrain {
		t.Fatalf("checks %+v: want a retraining for the AUC under the floor", checks)
	}
	if tr := trainRuns(t, w.c); len(tr) != 2 || tr[0].Trigger != jobs.TriggerDrift {
		t.Fatalf("train runs %+v, want a second one triggered by drift", tr)
	}
}
