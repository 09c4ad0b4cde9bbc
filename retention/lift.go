package retention

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/telcoretain/churn"
)

// Label labels the planned actions of one cycle (manual actions have no
// control group and are left out). churned maps customers to the day they
// churned within the horizon. Treated means planned for treatment, whether
// or not an agent reached the customer (intention to treat), which keeps the
// comparison with the control group fair.
func Label(actions []churn.Action, churned map[string]time.Time) []churn.Outcome {
	var out []churn.Outcome
	for _, a := range actions {
		if a.Rule == RuleManual {
			continue
		}
		o := churn.Outcome{Cycle: a.Cycle, CustomerID: a.CustomerID, ActionID: a.ID, Group: churn.GroupTreated, Kind: a.Kind,
			Tier: a.Tier, Reason: a.Reason, Probability: a.Probability, LifetimeValue: a.LifetimeValue, Status: a.Status, Outcome: a.Outcome}
		switch a.Status {
		case churn.ActionControl:
			o.Group = churn.GroupControl
		case churn.ActionDone, churn.ActionFailed:
			// A dead-lettered message never went out, so it cost nothing;
			// an unreachable customer still cost the agent's call.
			if a.Outcome != OutcomeDeadLettered {
				o.Cost = a.Cost
			}
		}
		if d, ok := churned[a.CustomerID]; ok {
			o.Churned, o.ChurnedAt = true, d
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(x, y churn.Outcome) int { return cmp.Compare(x.ActionID, y.ActionID) })
	return out
}

// LiftRow compares treated and control customers of one segment.
type LiftRow struct {
	Segment        string // "all", "tier A", "sms", ...
	Treated        int
	TreatedChurned int
	Control        int
	ControlChurned int
	TreatedRate    float64
	ControlRate    float64
	// Saved is ControlRate - TreatedRate: the churn the actions prevented,
	// as a share of treated customers, with its 95% confidence interval
	// (Newcombe's hybrid score interval, which behaves with few churners).
	// NaN when a group is empty.
	Saved, SavedLow, SavedHigh float64
	Accepted                   int     // treated customers who accepted
	Cost                       float64 // spent on the treated
	RevenueSaved               float64 // Saved x treated x their mean lifetime value
}

// Lift is the measured effect of the actions of some cycles.
type Lift struct {
	Cycles []string
	All    LiftRow
	ByTier []LiftRow
	ByKind []LiftRow
}

// Measure computes lift overall, by value tier and by action kind (for the
// control group: the action it would have had).
func Measure(outcomes []churn.Outcome) Lift {
	var l Lift
	cycles := map[string]bool{}
	for _, o := range outcomes {
		cycles[o.Cycle] = true
	}
	for c := range cycles {
		l.Cycles = append(l.Cycles, c)
	}
	slices.Sort(l.Cycles)
	l.All = liftRow("all", outcomes, func(churn.Outcome) bool { return true })
	for _, t := range churn.ValueTiers {
		if r := liftRow("tier "+string(t), outcomes, func(o churn.Outcome) bool { return o.Tier == t }); r.Treated+r.Control > 0 {
			l.ByTier = append(l.ByTier, r)
		}
	}
	for _, k := range churn.ActionKinds {
		if r := liftRow(string(k), outcomes, func(o churn.Outcome) bool { return o.Kind == k }); r.Treated+r.Control > 0 {
			l.ByKind = append(l.ByKind, r)
		}
	}
	return l
}

func liftRow(segment string, outcomes []churn.Outcome, in func(churn.Outcome) bool) LiftRow {
	r := LiftRow{Segment: segment}
	var clv float64
	for _, o := range outcomes {
		if !in(o) {
			continue
		}
		if o.Group == churn.GroupControl {
			r.Control++
			if o.Churned {
				r.ControlChurned++
			}
			continue
		}
		r.Treated++
		clv += o.LifetimeValue
		r.Cost += o.Cost
		if o.Churned {
			r.TreatedChurned++
		}
		if o.Outcome == OutcomeAccepted {
			r.Accepted++
		}
	}
	r.TreatedRate, r.ControlRate = rate(r.TreatedChurned, r.Treated), rate(r.ControlChurned, r.Control)
	r.Saved, r.SavedLow, r.SavedHigh = newcombe(r.ControlChurned, r.Control, r.TreatedChurned, r.Treated)
	if r.Treated > 0 && !math.IsNaN(r.Saved) {
		r.RevenueSaved = r.Saved * float64(r.Treated) * clv / float64(r.Treated)
	}
	return r
}

func rate(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// wilson is the 95% Wilson score interval of k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	p, fn := float64(k)/float64(n), float64(n)
	z2 := z95 * z95
	centre := (p + z2/(2*fn)) / (1 + z2/fn)
	half := z95 / (1 + z2/fn) * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// newcombe returns p1 - p2 with Newcombe's hybrid score 95% interval
// (method 10 of Newcombe 1998), NaN when a group is empty.
func newcombe(k1, n1, k2, n2 int) (d, lo, hi float64) {
	if n1 == 0 || n2 == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	l1, u1 := wilson(k1, n1)
	l2, u2 := wilson(k2, n2)
	d = p1 - p2
	lo = d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2))
	hi = d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
	return d, lo, hi
}
