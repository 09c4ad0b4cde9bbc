package retention

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

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

// The uplift of customers no rule acts on is never read: a plan given the
// uplift of the actionable customers only (what jobs.Actions asks the
// uplift model for) is the plan given everyone's.
func TestPlanByUpliftReadsOnlyTheActionableCustomers(t *testing.T) {
	pol := testPolicy(t, "")
	pol.ControlShare, pol.Budget = 0.2, 1e6
	tiers := []churn.ValueTier{"A", "B", "C"}
	bands := []churn.RiskBand{churn.RiskHigh, churn.RiskMedium, churn.RiskLow}
	var scores []churn.Score
	up := map[string]float64{}
	for i := range 300 {
		id := fmt.Sprintf("c%03d", i)
		scores = append(scores, score(id, tiers[i%3], bands[(i/3)%3], 0.05+0.9*math.Mod(float64(i)*0.61, 1), 100+float64(i)))
		up[id] = math.Mod(float64(i)*0.37, 0.1) - 0.02
	}
	acts := pol.Actionable(scores)
	if len(acts) == 0 || len(acts) == len(scores) {
		t.Fatalf("%d of %d customers actionable: the test needs some of each", len(acts), len(scores))
	}
	only := map[string]float64{}
	for _, s := range acts {
		only[s.CustomerID] = up[s.CustomerID]
		if r := pol.Match(s.Tier, s.Band, TopReason(s)); r == nil || r.Kind == churn.ActionNone {
			t.Fatalf("%s (%s, %s) is not one a rule acts on", s.CustomerID, s.Tier, s.Band)
		}
	}
	plan := func(u map[string]float64) string {
		now := func() time.Time { return time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC) }
		p, err := (&Planner{Policy: pol, Uplift: u, Now: now}).Plan("2025-06-01", "run-1", scores, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(p.Actions, p.Control, p.Skipped, p.Spent)
	}
	if all, some := plan(up), plan(only); all != some {
		t.Fatalf("with everyone's uplift:\n%s\nwith the actionable customers' only:\n%s", all, some)
	}
}
