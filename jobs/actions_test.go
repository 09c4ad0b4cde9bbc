package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/retention"
)

// scoredRun writes a finished scoring run of n customers as of asOf, to
// ClickHouse or to the in-memory store: tier A for every tenth, high risk for
// every fifth, the rest low risk.
func scoredRun(t *testing.T, c interface {
	jobs.RunRecorder
	jobs.ScoreWriter
}, asOf time.Time, n int) string {
	t.Helper()
	ctx := context.Background()
	run := "run-" + asOf.Format("20060102")
	var scores []churn.Score
	for i := range n {
		s := churn.Score{RunID: run, CustomerID: fmt.Sprintf("%06d", i), AsOf: asOf, ModelVersion: 1,
			Probability: 0.01, Band: churn.RiskLow, Tier: churn.TierC, LifetimeValue: 300,
			Reasons: []churn.Reason{{Feature: "fee_change_last", Contribution: 1, Text: "fee rose"}}}
		if i%10 == 0 {
			s.Tier, s.LifetimeValue = churn.TierA, 5000
		}
		if i%5 == 0 {
			s.Band, s.Probability = churn.RiskHigh, 0.3
		}
		scores = append(scores, s)
	}
	if err := c.RecordScoreRun(ctx, run, asOf, 1, churn.ScoreRunStarted, 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordScoreRun(ctx, run, asOf, 1, churn.ScoreRunFinished, n, ""); err != nil {
		t.Fatal(err)
	}
	return run
}

func loadQueue(t *testing.T, st *clickhouse.Client) *retention.Queue {
	t.Helper()
	q := retention.NewQueue(st, retention.QueueOptions{})
	if err := q.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestActionsJobQueuesOnceAndOutcomesLabelTreatedAndControl(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	st := c
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	scoredRun(t, c, asOf, 2000)
	pol, err := retention.LoadFile("../policies/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	policy := func() *retention.Policy { return pol }

	dry, err := (&jobs.Actions{Runs: st, Queue: loadQueue(t, st), Policy: policy, DryRun: true}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Added != 0 || len(dry.Plan.Actions) == 0 {
		t.Fatalf("dry run: added %d, planned %d", dry.Added, len(dry.Plan.Actions))
	}
	if evs, _ := st.ActionEvents(ctx, time.Time{}); len(evs) != 0 {
		t.Fatalf("a dry run wrote %d events", len(evs))
	}
	first, err := (&jobs.Actions{Runs: st, Queue: loadQueue(t, st), Policy: policy}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := first.Plan
	if p.Cycle != "2025-06-01" || first.Added != len(p.Actions)+len(p.Control) || len(p.Control) == 0 {
		t.Fatalf("first run: cycle %s, added %d of %d actions + %d control", p.Cycle, first.Added, len(p.Actions), len(p.Control))
	}
	// 400 customers are high risk: 40 in tier A get calls, 360 in tier C texts.
	if n := len(p.Actions) + len(p.Control); n != 400 {
		t.Fatalf("%d planned, want the 400 high-risk customers", n)
	}
	again, err := (&jobs.Actions{Runs: st, Queue: loadQueue(t, st), Policy: policy}).Run(ctx)
	if err != nil || again.Added != 0 || len(again.Plan.Actions) != 0 || again.Plan.Skipped[retention.SkipAlreadyPlanned] != 400 {
		t.Fatalf("second run: %+v %v", again, err)
	}

	// Churn: one in four treated and one in two controls churn in the
	// horizon; usage reaches the horizon's end so the cycle is ready.
	q := loadQueue(t, st)
	var ids []string
	var days []time.Time
	treated, control := 0, 0
	all, err := q.Actions()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		churns := false
		if a.Status == churn.ActionControl {
			churns = control%2 == 0
			control++
		} else {
			churns = treated%4 == 0
			treated++
		}
		if churns {
			ids, days = append(ids, a.CustomerID), append(days, asOf.AddDate(0, 0, 10))
		}
	}
	reasons, kinds := make([]string, len(ids)), make([]string, len(ids))
	for i := range ids {
		reasons[i], kinds[i] = "price", "voluntary"
	}
	if err := c.InsertColumns(ctx, "churn_events", []string{"customer_id", "churned_at", "reason", "kind"},
		[]any{ids, days, reasons, kinds}); err != nil {
		t.Fatal(err)
	}
	usage := func(day time.Time) {
		if err := c.InsertColumns(ctx, "usage_daily", []string{"customer_id", "day"}, []any{[]string{"000001"}, []time.Time{day}}); err != nil {
			t.Fatal(err)
		}
	}
	usage(asOf.AddDate(0, 0, 20))
	oj := &jobs.Outcomes{Churn: st, Labels: st, Actions: q, Policy: policy}
	res, err := oj.Run(ctx)
	if err != nil || len(res.Labeled) != 0 || len(res.Waiting) != 1 {
		t.Fatalf("before the horizon: %+v %v", res, err)
	}
	usage(asOf.AddDate(0, 0, 29))
	res, err = oj.Run(ctx)
	if err != nil || len(res.Labeled) != 1 || res.Rows != 400 {
		t.Fatalf("after the horizon: %+v %v", res, err)
	}
	if res, _ := oj.Run(ctx); len(res.Labeled) != 0 || res.Rows != 0 {
		t.Fatalf("a labelled cycle was labelled again: %+v", res)
	}
	outs, err := st.ActionOutcomes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := retention.Measure(outs).All
	if l.Treated != treated || l.Control != control || l.TreatedChurned != (treated+3)/4 || l.ControlChurned != (control+1)/2 {
		t.Fatalf("lift counts %+v (treated %d control %d)", l, treated, control)
	}
	if !(l.Saved > 0 && l.SavedLow < l.Saved && l.SavedHigh > l.Saved) {
		t.Fatalf("saved %g [%g, %g]", l.Saved, l.SavedLow, l.SavedHigh)
	}
}

func TestActionsJobWithoutAScoringRunSaysWhatToRun(t *testing.T) {
	c, _ := chtest.NewDB(t)
	st := c
	pol, _ := retention.LoadFile("../policies/default.yaml")
	_, err := (&jobs.Actions{Runs: st, Queue: loadQueue(t, st), Policy: func() *retention.Policy { return pol }}).Run(context.Background())
	if churn.ErrorKind(err) != churn.KindNotFound {
		t.Fatalf("err %v", err)
	}
}
