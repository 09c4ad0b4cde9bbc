package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestJobRunsCollapseToTheLatestStatusOfEachRun(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	t0 := time.Date(2025, 12, 1, 5, 0, 0, 0, time.UTC)
	rows := []churn.JobRun{
		{ID: "score-1", Job: "score", Trigger: "schedule", Status: "running", Started: t0},
		{ID: "score-1", Job: "score", Trigger: "schedule", Status: "failed", Started: t0, Finished: t0, Error: "ClickHouse down"},
		{ID: "train-1", Job: "train", Trigger: "drift", Status: "running", Started: t0.Add(time.Minute)},
		{ID: "score-2", Job: "score", Trigger: "manual", Status: "running", Started: t0.Add(2 * time.Minute)},
		{ID: "score-2", Job: "score", Trigger: "manual", Status: "succeeded", Started: t0.Add(2 * time.Minute), Finished: t0.Add(3 * time.Minute), Rows: 20000},
	}
	for _, r := range rows {
		if err := c.RecordJobRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.JobRuns(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []churn.JobRun{rows[4], rows[2], rows[1]}
	if len(got) != len(want) {
		t.Fatalf("got %d runs %+v, want 3", len(got), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Status != w.Status || g.Trigger != w.Trigger || g.Rows != w.Rows || g.Error != w.Error ||
			!g.Started.Equal(w.Started) || !g.Finished.Equal(w.Finished) {
			t.Errorf("run %d = %+v, want %+v", i, g, w)
		}
	}
	scores, err := c.JobRuns(ctx, "score", 1)
	if err != nil || len(scores) != 1 || scores[0].ID != "score-2" {
		t.Fatalf("latest score run = %+v, %v", scores, err)
	}
}

func TestDriftChecksRoundTripAndRememberARetraining(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	at := time.Date(2025, 12, 2, 6, 0, 0, 0, time.UTC)
	checks := []churn.DriftMeasure{
		{RunID: "r1", At: at, ModelVersion: 3, Kind: "score", Value: 0.31, Threshold: 0.2, Breached: true, Retrain: true},
		{RunID: "r1", At: at, ModelVersion: 3, Kind: "feature", Feature: "data_mb_30d", Value: 0.9, Threshold: 0.2, Breached: true, Retrain: true},
	}
	if err := c.SaveDriftChecks(ctx, checks); err != nil {
		t.Fatal(err)
	}
	got, err := c.DriftChecks(ctx, "r1")
	if err != nil || len(got) != 2 {
		t.Fatalf("read %d checks: %v", len(got), err)
	}
	if g := got[1]; g.Kind != "score" || g.Value != 0.31 || !g.Breached || !g.Retrain || g.ModelVersion != 3 || !g.At.Equal(at) {
		t.Fatalf("score check read back as %+v", g)
	}
	for run, want := range map[string]bool{"r1": true, "r2": false} {
		if got, err := c.DriftRetrained(ctx, run); err != nil || got != want {
			t.Errorf("DriftRetrained(%s) = %v, %v; want %v", run, got, err, want)
		}
	}
}

func TestRunOutcomesLabelChurnWithinTheWindowAndOldRunsAreFoundByAsOf(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	asOf := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	if err := c.RecordScoreRun(ctx, "old", asOf, 1, churn.ScoreRunStarted, 0, ""); err != nil {
		t.Fatal(err)
	}
	var scores []churn.Score
	for i, id := range []string{"c1", "c2", "c3"} {
		scores = append(scores, churn.Score{RunID: "old", CustomerID: id, AsOf: asOf, ModelVersion: 1, Probability: 0.1 * float64(i+1), Band: churn.RiskLow, Tier: churn.TierC})
	}
	if err := c.WriteScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		id   string
		asOf time.Time
	}{{"old", asOf}, {"new", asOf.AddDate(0, 2, 0)}} {
		if err := c.RecordScoreRun(ctx, run.id, run.asOf, 1, churn.ScoreRunFinished, 3, ""); err != nil {
			t.Fatal(err)
		}
	}
	// c1 churns inside [as-of, as-of+30d), c2 on its last day's end (outside), c3 before.
	err := c.InsertColumns(ctx, "churn_events", []string{"customer_id", "churned_at", "reason", "kind"}, []any{
		[]string{"c1", "c2", "c3"},
		[]time.Time{asOf.AddDate(0, 0, 10), asOf.AddDate(0, 0, 30), asOf.AddDate(0, 0, -1)},
		[]string{"price", "price", "price"}, []string{"voluntary", "voluntary", "voluntary"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.FinishedScoreRun(ctx, asOf.AddDate(0, 1, 0))
	if err != nil || r == nil || r.ID != "old" {
		t.Fatalf("labelled run = %+v, %v; want old", r, err)
	}
	probs, labels, err := c.RunOutcomes(ctx, "old", asOf, asOf.AddDate(0, 0, 30))
	if err != nil || len(probs) != 3 {
		t.Fatalf("outcomes %v %v: %v", probs, labels, err)
	}
	churned := 0.0
	for i, l := range labels {
		churned += l
		if l == 1 && probs[i] > 0.15 {
			t.Errorf("label 1 on probability %g, want c1's 0.1", probs[i])
		}
	}
	if churned != 1 {
		t.Fatalf("%g customers labelled churned, want only c1", churned)
	}
}
