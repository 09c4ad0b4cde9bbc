package retention

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

// testPolicy calls tier A customers (cost 10, save 0.5) and texts the rest
// (cost 1, save 0.1); nobody is held out unless a test says so.
func testPolicy(t *testing.T, extra string) *Policy {
	t.Helper()
	p, err := Parse("test.yaml", []byte(`
budget_per_cycle: 1000
control_share: 0
contact: {limit: 2, window_days: 90, cooldown_days: 20}
actions:
  specialist_call: {channel: phone, cost: 10, save_rate: 0.5}
  sms: {channel: sms, cost: 1, save_rate: 0.1}
rules:
  - {name: a, tiers: [A], bands: [high, medium], action: specialist_call, priority: 1}
  - {name: rest, bands: [high, medium], action: sms, priority: 5}
  - {name: low, action: none}
`+extra))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func score(id string, tier churn.ValueTier, band churn.RiskBand, p, clv float64) churn.Score {
	return churn.Score{CustomerID: id, Tier: tier, Band: band, Probability: p, LifetimeValue: clv,
		Reasons: []churn.Reason{{Feature: "dropped_call_rate_30d", Contribution: 1}}}
}

func TestPlanActsOnPositiveValueOnlyHighestFirst(t *testing.T) {
	pl := &Planner{Policy: testPolicy(t, "")}
	scores := []churn.Score{
		score("c1", "A", "high", 0.5, 1000),  // 0.5*1000*0.5-10 = 240
		score("c2", "C", "high", 0.5, 100),   // 0.5*100*0.1-1 = 4
		score("c3", "C", "medium", 0.05, 50), // 0.25-1 < 0: not worth it
		score("c4", "A", "low", 0.9, 9000),   // rule says none
		score("c5", "B", "high", 0.2, 1000),  // 0.2*1000*0.1-1 = 19
	}
	plan, err := pl.Plan("2025-06-01", "run-1", scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range plan.Actions {
		got = append(got, a.CustomerID+":"+string(a.Kind))
	}
	if fmt.Sprint(got) != "[c1:specialist_call c5:sms c2:sms]" {
		t.Fatalf("actions %v", got)
	}
	if plan.Skipped[SkipNotWorth] != 1 || plan.Skipped[SkipNone] != 1 || plan.Spent != 12 {
		t.Fatalf("skipped %v spent %g", plan.Skipped, plan.Spent)
	}
	a := plan.Actions[0]
	if math.Abs(a.Value-240) > 1e-9 || a.Reason != ReasonNetwork || a.Rule != "a" || a.ID != ActionID("c1", "2025-06-01", string(churn.ActionSpecialistCall)) || a.Status != churn.ActionQueued {
		t.Fatalf("first action %+v", a)
	}
}

func TestPlanStopsAtTheBudget(t *testing.T) {
	cases := []struct {
		budget float64
		want   int
	}{
		{1000, 10}, {100, 10}, {99.99, 9}, {35, 3}, {9, 0},
	}
	for _, c := range cases {
		p := testPolicy(t, "")
		p.Budget = c.budget
		var scores []churn.Score
		for i := range 10 {
			scores = append(scores, score(fmt.Sprintf("c%02d", i), "A", "high", 0.5, float64(1000+i)))
		}
		plan, err := (&Planner{Policy: p}).Plan("2025-06-01", "r", scores, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Actions) != c.want || plan.Skipped[SkipBudget] != 10-c.want || plan.Spent > c.budget {
			t.Errorf("budget %g: %d actions (skipped %v, spent %g), want %d", c.budget, len(plan.Actions), plan.Skipped, plan.Spent, c.want)
		}
		if c.want > 0 && plan.Actions[0].CustomerID != "c09" {
			t.Errorf("budget %g: first action for %s, want the most valuable c09", c.budget, plan.Actions[0].CustomerID)
		}
	}
}

func TestPlanRespectsCooldownAndContactLimitAcrossCycles(t *testing.T) {
	past := func(cycle string, st churn.ActionStatus, rule string) churn.Action {
		return churn.Action{ID: "x" + cycle, CustomerID: "c1", Cycle: cycle, Kind: churn.ActionSMS, Status: st, Rule: rule}
	}
	cases := []struct {
		name    string
		history []churn.Action
		skip    string // "" when the customer gets an action
	}{
		{"never contacted", nil, ""},
		{"contacted 10 days ago", []churn.Action{past("2025-05-22", churn.ActionDone, "rest")}, SkipCooldown},
		{"queued 19 days ago and not yet worked", []churn.Action{past("2025-05-13", churn.ActionQueued, "rest")}, SkipCooldown},
		{"contacted 20 days ago", []churn.Action{past("2025-05-12", churn.ActionDone, "rest")}, ""},
		{"cancelled 10 days ago", []churn.Action{past("2025-05-22", churn.ActionCancelled, "rest")}, ""},
		{"control 10 days ago", []churn.Action{past("2025-05-22", churn.ActionControl, "rest")}, ""},
		{"manual contact today", []churn.Action{past("2025-06-01", churn.ActionDone, RuleManual)}, SkipCooldown},
		{"twice within 90 days", []churn.Action{past("2025-03-10", churn.ActionDone, "rest"), past("2025-04-20", churn.ActionFailed, "rest")}, SkipContactLimit},
		{"twice but one is older than 90 days", []churn.Action{past("2025-02-10", churn.ActionDone, "rest"), past("2025-04-20", churn.ActionDone, "rest")}, ""},
		{"already planned in this cycle", []churn.Action{past("2025-06-01", churn.ActionCancelled, "rest")}, SkipAlreadyPlanned},
		{"held out in this cycle", []churn.Action{past("2025-06-01", churn.ActionControl, "rest")}, SkipAlreadyPlanned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := (&Planner{Policy: testPolicy(t, "")}).Plan("2025-06-01", "r",
				[]churn.Score{score("c1", "C", "high", 0.5, 100)}, c.history)
			if err != nil {
				t.Fatal(err)
			}
			if c.skip == "" && len(plan.Actions) != 1 {
				t.Fatalf("no action; skipped %v", plan.Skipped)
			}
			if c.skip != "" && (len(plan.Actions) != 0 || plan.Skipped[c.skip] != 1) {
				t.Fatalf("%d actions, skipped %v; want skipped for %s", len(plan.Actions), plan.Skipped, c.skip)
			}
		})
	}
}

func TestPlanningACycleAgainAddsNothing(t *testing.T) {
	p := testPolicy(t, "")
	p.Budget, p.ControlShare = 50, 0.2
	var scores []churn.Score
	for i := range 40 {
		scores = append(scores, score(fmt.Sprintf("c%02d", i), "A", "high", 0.5, float64(1000+i)))
	}
	pl := &Planner{Policy: p}
	first, err := pl.Plan("2025-06-01", "r", scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Actions) != 5 || len(first.Control) == 0 {
		t.Fatalf("first plan: %d actions, %d control", len(first.Actions), len(first.Control))
	}
	existing := append(append([]churn.Action(nil), first.Actions...), first.Control...)
	again, err := pl.Plan("2025-06-01", "r", scores, existing)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Actions) != 0 || len(again.Control) != 0 || again.Budget != 0 {
		t.Fatalf("second plan: %d actions, %d control, budget left %g", len(again.Actions), len(again.Control), again.Budget)
	}
}

func TestControlGroupIsWithinOnePointOfItsShareAndStable(t *testing.T) {
	for _, share := range []float64{0.05, 0.10, 0.25} {
		n, same := 0, 0
		for i := range 100_000 {
			id := fmt.Sprintf("%08d", i)
			in := InControl(id, "2025-06-01", share)
			if in {
				n++
			}
			if InControl(id, "2025-06-01", share) == in {
				same++
			}
		}
		if got := float64(n) / 100_000; math.Abs(got-share) > 0.01 {
			t.Errorf("share %g: %.4f of 100,000 customers in control", share, got)
		}
		if same != 100_000 {
			t.Errorf("share %g: %d of 100,000 assignments repeat", share, same)
		}
	}
	// Another cycle holds out other customers.
	both := 0
	for i := range 100_000 {
		id := fmt.Sprintf("%08d", i)
		if InControl(id, "2025-06-01", 0.1) && InControl(id, "2025-07-01", 0.1) {
			both++
		}
	}
	if both > 1500 {
		t.Errorf("%d customers held out in both cycles; independent draws give about 1,000", both)
	}
}

func TestPlanHoldsOutTheSameControlGroupOnEveryRun(t *testing.T) {
	p := testPolicy(t, "")
	p.ControlShare, p.Budget = 0.1, 1e9
	var scores []churn.Score
	for i := range 5000 {
		scores = append(scores, score(fmt.Sprintf("%08d", i), "C", "high", 0.5, 100+float64(i%7)))
	}
	clock := func() time.Time { return time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC) }
	a, _ := (&Planner{Policy: p, Now: clock}).Plan("2025-06-01", "r", scores, nil)
	b, _ := (&Planner{Policy: p, Now: clock}).Plan("2025-06-01", "r", scores, nil)
	if fmt.Sprint(a.Control) != fmt.Sprint(b.Control) || fmt.Sprint(a.Actions) != fmt.Sprint(b.Actions) {
		t.Fatal("two runs of the same plan differ")
	}
	if share := float64(len(a.Control)) / 5000; math.Abs(share-0.1) > 0.015 {
		t.Fatalf("control share %.3f", share)
	}
	for _, c := range a.Control {
		if c.Status != churn.ActionControl || !InControl(c.CustomerID, "2025-06-01", 0.1) {
			t.Fatalf("control entry %+v", c)
		}
	}
}

func TestPlanRejectsACycleThatIsNotADate(t *testing.T) {
	_, err := (&Planner{Policy: testPolicy(t, "")}).Plan("week 23", "r", nil, nil)
	if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != "cycle" {
		t.Fatalf("err %v", err)
	}
}
