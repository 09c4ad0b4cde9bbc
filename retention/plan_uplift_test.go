package retention

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestPlanByUpliftRanksByIncrementalValueNotRisk(t *testing.T) {
	pol := testPolicy(t, "")
	scores := []churn.Score{
		score("c1", "A", "high", 0.9, 1000), // certain to leave, nothing keeps them: uplift 0
		score("c2", "A", "medium", 0.2, 1000),
		score("c3", "C", "high", 0.6, 100),
		score("c4", "C", "medium", 0.1, 500), // a sleeping dog: contact makes them leave
		score("c5", "B", "high", 0.4, 800),   // no estimate
	}
	up := map[string]float64{"c1": 0, "c2": 0.05, "c3": 0.03, "c4": -0.02}
	plan, err := (&Planner{Policy: pol, Uplift: up}).Plan("2025-06-01", "run-1", scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range plan.Actions {
		got = append(got, fmt.Sprintf("%s:%g", a.CustomerID, a.Value))
	}
	// c2: 0.05*1000-10 = 40; c3: 0.03*100-1 = 2; c1: 0-10; c4: -10-1.
	if fmt.Sprint(got) != "[c2:40 c3:2]" {
		t.Fatalf("actions %v", got)
	}
	if plan.Targeting != TargetUplift || plan.Skipped[SkipNotWorth] != 2 || plan.Skipped[SkipNoUplift] != 1 {
		t.Fatalf("targeting %s, skipped %v", plan.Targeting, plan.Skipped)
	}
	// By risk the same customers rank the other way round: c1 first.
	risk, err := (&Planner{Policy: pol}).Plan("2025-06-01", "run-1", scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	if risk.Targeting != TargetRisk || len(risk.Actions) == 0 || risk.Actions[0].CustomerID != "c1" {
		t.Fatalf("risk plan %s %v", risk.Targeting, risk.Actions)
	}
}

func TestPlanByUpliftHoldsOutTheSameControlGroupAndRepeats(t *testing.T) {
	pol := testPolicy(t, "")
	pol.ControlShare, pol.Budget = 0.3, 1e6
	var scores []churn.Score
	up := map[string]float64{}
	for i := range 200 {
		id := fmt.Sprintf("c%03d", i)
		scores = append(scores, score(id, "A", "high", 0.5, 1000))
		up[id] = math.Mod(float64(i)*0.37, 0.1)
	}
	plan := func() *Plan {
		p, err := (&Planner{Policy: pol, Uplift: up}).Plan("2025-06-01", "run-1", scores, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := plan(), plan()
	if len(a.Control) == 0 || len(a.Actions) == 0 {
		t.Fatalf("%d actions, %d control", len(a.Actions), len(a.Control))
	}
	for _, c := range a.Control {
		if !InControl(c.CustomerID, "2025-06-01", pol.ControlShare) {
			t.Fatalf("control customer %s not chosen by the hash", c.CustomerID)
		}
	}
	for _, x := range a.Actions {
		if InControl(x.CustomerID, "2025-06-01", pol.ControlShare) {
			t.Fatalf("held-out customer %s treated", x.CustomerID)
		}
	}
	key := func(p *Plan) string {
		var s []string
		for _, x := range append(p.Actions, p.Control...) {
			s = append(s, x.CustomerID)
		}
		return strings.Join(s, ",")
	}
	if key(a) != key(b) {
		t.Fatal("the same cycle planned twice differs")
	}
}

func TestPolicyTargetingDefaultsToRiskAndRefusesOthers(t *testing.T) {
	if p := testPolicy(t, ""); p.Targeting != TargetRisk {
		t.Fatalf("default targeting %q", p.Targeting)
	}
	if p := testPolicy(t, "targeting: uplift\n"); p.Targeting != TargetUplift {
		t.Fatalf("targeting %q", p.Targeting)
	}
	_, err := Parse("t.yaml", []byte("budget_per_cycle: 10\ntargeting: random\nactions:\n  sms: {channel: sms, cost: 1, save_rate: 0.1}\nrules:\n  - {name: r, action: sms}\n"))
	if err == nil || !strings.Contains(err.Error(), "targeting") || !strings.Contains(err.Error(), `"random"`) {
		t.Fatalf("err %v", err)
	}
}
