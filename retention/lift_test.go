package retention

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

func TestNewcombeIntervalMatchesThePublishedExample(t *testing.T) {
	// Newcombe (1998), table II, example (a): 56/70 - 48/80, method 10
	// gives 0.0524 to 0.3339 around 0.2.
	d, lo, hi := newcombe(56, 70, 48, 80)
	for _, c := range []struct{ got, want float64 }{{d, 0.2}, {lo, 0.0524}, {hi, 0.3339}} {
		if math.Abs(c.got-c.want) > 5e-4 {
			t.Errorf("got %.4f, want %.4f", c.got, c.want)
		}
	}
	// With no churner at all the interval still has width.
	d, lo, hi = newcombe(0, 10, 0, 10)
	if d != 0 || !(lo < 0 && hi > 0) {
		t.Errorf("0/10 - 0/10: %g [%g, %g]", d, lo, hi)
	}
	if d, _, _ := newcombe(1, 0, 1, 5); !math.IsNaN(d) {
		t.Errorf("empty control gives %g, want NaN", d)
	}
}

func TestLabelAndMeasureCompareTreatedWithControl(t *testing.T) {
	var actions []churn.Action
	churned := map[string]time.Time{}
	day := time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)
	add := func(n, churners int, st churn.ActionStatus, kind churn.ActionKind, tier churn.ValueTier, outcome string) {
		for i := range n {
			id := fmt.Sprintf("%s-%s-%s-%d", st, kind, tier, i)
			actions = append(actions, churn.Action{ID: id, CustomerID: id, Cycle: "2025-06-01", Kind: kind,
				Cost: 10, Status: st, Outcome: outcome, Tier: tier, LifetimeValue: 1000, Rule: "r"})
			if i < churners {
				churned[id] = day
			}
		}
	}
	add(400, 40, churn.ActionDone, churn.ActionSpecialistCall, churn.TierA, OutcomeAccepted) // 10%
	add(100, 10, churn.ActionQueued, churn.ActionSpecialistCall, churn.TierA, "")            // never worked: no cost
	add(100, 20, churn.ActionControl, churn.ActionSpecialistCall, churn.TierA, "")           // 20%
	actions = append(actions, churn.Action{ID: "m", CustomerID: "m", Cycle: "2025-06-01", Status: churn.ActionDone, Rule: RuleManual})

	out := Label(actions, churned)
	if len(out) != 600 {
		t.Fatalf("%d outcomes, want 600 (manual actions left out)", len(out))
	}
	l := Measure(out)
	r := l.All
	if r.Treated != 500 || r.TreatedChurned != 50 || r.Control != 100 || r.ControlChurned != 20 || r.Accepted != 400 {
		t.Fatalf("counts %+v", r)
	}
	if math.Abs(r.Saved-0.1) > 1e-12 || !(r.SavedLow < 0.1 && r.SavedHigh > 0.1) || r.Cost != 4000 {
		t.Fatalf("saved %g [%g, %g], cost %g", r.Saved, r.SavedLow, r.SavedHigh, r.Cost)
	}
	if math.Abs(r.RevenueSaved-0.1*500*1000) > 1e-6 {
		t.Fatalf("revenue saved %g", r.RevenueSaved)
	}
	if len(l.ByTier) != 1 || l.ByTier[0].Segment != "tier A" || len(l.ByKind) != 1 || l.ByKind[0].Segment != string(churn.ActionSpecialistCall) {
		t.Fatalf("segments %+v %+v", l.ByTier, l.ByKind)
	}
	if fmt.Sprint(l.Cycles) != "[2025-06-01]" {
		t.Fatalf("cycles %v", l.Cycles)
	}
}

func TestDeadLetteredMessagesCostNothingButUnreachableCallsDo(t *testing.T) {
	action := func(id string, kind churn.ActionKind, st churn.ActionStatus, outcome string) churn.Action {
		return churn.Action{ID: id, CustomerID: id, Cycle: "2025-06-01", Kind: kind, Cost: 10, Status: st, Outcome: outcome,
			Tier: churn.TierB, Rule: "r"}
	}
	out := Label([]churn.Action{
		action("sent", churn.ActionSMS, churn.ActionDone, OutcomeDelivered),
		action("dead", churn.ActionSMS, churn.ActionFailed, OutcomeDeadLettered),
		action("call", churn.ActionSpecialistCall, churn.ActionFailed, OutcomeUnreachable),
	}, nil)
	cost := map[string]float64{}
	for _, o := range out {
		cost[o.ActionID] = o.Cost
	}
	if cost["sent"] != 10 || cost["dead"] != 0 || cost["call"] != 10 {
		t.Fatalf("costs %v, want sent 10, dead 0, call 10", cost)
	}
	if got := Measure(out).All.Cost; got != 20 {
		t.Fatalf("lift cost %g, want 20 (the dead letter left out)", got)
	}
}
