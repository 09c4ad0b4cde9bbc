package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/eval"
)

// retrains counts the retraining runs a drift check starts and answers with
// err.
type retrains struct {
	reasons []string
	err     error
}

func (r *retrains) start(_ context.Context, reason string) error {
	r.reasons = append(r.reasons, reason)
	return r.err
}

// driftOn is a check of st that starts retraining runs through r.
func driftOn(st *memStore, r *retrains) *jobs.Drift {
	return &jobs.Drift{Data: st, Models: st, Runs: st, Checks: st, Retrain: r.start,
		Now: func() time.Time { return time.Date(2026, 1, 2, 7, 0, 0, 0, time.UTC) }}
}

// shiftedAfterTraining is an operator whose risk features grow by shift from
// 2025-12-15 on: after every training snapshot, before the latest scoring
// run's as-of date (2026-01-01).
func shiftedAfterTraining(t *testing.T, shift float64) *memStore {
	t.Helper()
	st := newMemStore(800)
	st.shift, st.shiftFrom = shift, time.Date(2025, 12, 15, 0, 0, 0, 0, time.UTC)
	if _, err := trainJob(st).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := scoring(st).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestAShiftOverThePSIThresholdStartsOneRetrainingPerRun(t *testing.T) {
	st := shiftedAfterTraining(t, 3)
	ctx := context.Background()
	r := &retrains{}
	res, err := driftOn(st, r).Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The PSI is the scores' against the training distribution the model keeps.
	mv, _ := st.Model(ctx, res.Run.ModelVersion)
	m, err := model.Unmarshal(mv.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ref, _ := m.ScoreReference()
	probs, _ := st.RunProbabilities(ctx, res.Run.ID)
	if want := eval.PSI(ref, probs); res.ScorePSI != want || want <= jobs.DefaultPSIThreshold {
		t.Fatalf("score PSI %.4f, want %.4f over %.1f", res.ScorePSI, want, jobs.DefaultPSIThreshold)
	}
	if !res.Retrain || len(r.reasons) != 1 || !strings.Contains(r.reasons[0], "score PSI") {
		t.Fatalf("retrain %v, started %v (%s)", res.Retrain, r.reasons, res.Reason)
	}
	var score, feats int
	for _, c := range st.checks {
		switch c.Kind {
		case churn.DriftScore:
			score++
			if !c.Breached || !c.Retrain || c.RunID != res.Run.ID {
				t.Fatalf("score measure %+v", c)
			}
		case churn.DriftFeature:
			feats++
		}
	}
	if score != 1 || feats != len(res.Features) || feats == 0 {
		t.Fatalf("%d score and %d feature measures saved, want 1 and %d", score, feats, len(res.Features))
	}

	// The same run checked again does not retrain twice.
	again, err := driftOn(st, r).Check(ctx)
	if err != nil || again.Retrain || len(r.reasons) != 1 || !strings.Contains(again.Reason, "already started") {
		t.Fatalf("second check: retrain %v, started %d (%s), err %v", again.Retrain, len(r.reasons), again.Reason, err)
	}
}

func TestStableScoresDoNotRetrain(t *testing.T) {
	st := shiftedAfterTraining(t, 1)
	r := &retrains{}
	res, err := driftOn(st, r).Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.ScorePSI > jobs.DefaultPSIThreshold/2 || res.Retrain || len(r.reasons) != 0 {
		t.Fatalf("score PSI %.3f, retrain %v (%s): want a stable score and no retraining", res.ScorePSI, res.Retrain, res.Reason)
	}
}

func TestAnAUCUnderTheFloorRetrainsOnlyTheChampionsRun(t *testing.T) {
	st := shiftedAfterTraining(t, 1)
	ctx := context.Background()
	// A run whose horizon the data has passed: its labels are known.
	j := scoring(st)
	j.AsOf = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	labelled, err := j.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The newest run is the latest as-of date again.
	if _, err := scoring(st).Run(ctx); err != nil {
		t.Fatal(err)
	}
	r := &retrains{}
	d := driftOn(st, r)
	d.AUCFloor = 0.99
	res, err := d.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.AUCRun == nil || res.AUCRun.ID != labelled.RunID || res.AUC < 0.6 || res.AUC >= 0.99 {
		t.Fatalf("AUC %.3f of run %v, want the labelled run %s", res.AUC, res.AUCRun, labelled.RunID)
	}
	if !res.Retrain || len(r.reasons) != 1 || !strings.Contains(r.reasons[0], "AUC") {
		t.Fatalf("retrain %v, started %v", res.Retrain, r.reasons)
	}

	// Once another model is champion, the old one's AUC retrains nothing.
	if _, err := scoring(st).Run(ctx); err != nil {
		t.Fatal(err)
	}
	st.champion++
	r = &retrains{}
	d = driftOn(st, r)
	d.AUCFloor = 0.99
	res, err = d.Check(ctx)
	if err != nil || res.Retrain || len(r.reasons) != 0 || !strings.Contains(res.Reason, "replaced") {
		t.Fatalf("replaced champion: retrain %v started %v (%s), err %v", res.Retrain, r.reasons, res.Reason, err)
	}
}

func TestARetrainingAlreadyGoingIsNotAnError(t *testing.T) {
	st := shiftedAfterTraining(t, 3)
	r := &retrains{err: churn.Errorf(churn.KindConflict, "run job train", "still going")}
	res, err := driftOn(st, r).Check(context.Background())
	if err != nil || res.Retrain || !strings.Contains(res.Reason, "already going") {
		t.Fatalf("retrain %v (%s), err %v", res.Retrain, res.Reason, err)
	}
	r.err = errFake
	st.checks = nil
	if _, err := driftOn(st, r).Check(context.Background()); churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("a failed start: %v, want the error", err)
	}
}
