package retention

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/telcoretain/churn"
)

// Reasons a scored customer gets no action in a plan.
const (
	SkipNoRule         = "no_rule"         // no rule matches
	SkipNone           = "rule_says_none"  // the matching rule's action is none
	SkipNotWorth       = "not_worth_it"    // expected value is not positive
	SkipAlreadyPlanned = "already_planned" // the customer has an action in this cycle
	SkipCooldown       = "cooldown"        // contacted fewer than cooldown_days ago
	SkipContactLimit   = "contact_limit"   // contacted limit times within the window
	SkipBudget         = "over_budget"     // the budget ran out before the customer's turn
	SkipNoUplift       = "no_uplift"       // uplift targeting without an uplift estimate of the customer
)

// Plan is what a cycle should do: actions to queue, highest expected value
// first, and the control group held out of them.
type Plan struct {
	Cycle      string
	RunID      string
	Actions    []churn.Action // to queue
	Control    []churn.Action // held out: recorded, never contacted
	Budget     float64        // left for this cycle before the plan
	Spent      float64        // cost of Actions
	Considered int            // scores looked at
	Skipped    map[string]int
	Explored   int // actions chosen by Thompson sampling (ExplorationShare of the budget)
	// Targeting is how the plan ranked: TargetUplift only when the planner
	// had uplift estimates, else TargetRisk.
	Targeting Targeting
	// TargetingNote says why a plan whose policy asked for uplift
	// targeting ranked by risk, or which model ranked it by uplift.
	TargetingNote string
}

// Planner chooses the actions of a cycle under a policy.
type Planner struct {
	Policy *Policy
	Now    func() time.Time // stamps CreatedAt; nil: time.Now
	// Learned holds the outcomes' evidence: expected values use the
	// posterior mean save rates; nil uses the policy's rates.
	Learned *Learned
	// Rand draws the save rates of exploration (Thompson sampling); nil
	// turns exploration off. Seed it (e.g. from the cycle) so that a plan
	// can be repeated.
	Rand *rand.Rand
	// Uplift, when not nil, ranks by uplift: the churn an action prevents,
	// by customer id (the uplift champion's estimates for the cycle). The
	// expected value is then uplift x lifetime value - cost, and customers
	// without an estimate get no action. Nil ranks by risk.
	Uplift map[string]float64
	// Archive is what the queue keeps of its archived cycles, whose
	// actions existing no longer holds: their contacts count for the
	// contact rules, and an archived cycle is not planned again.
	Archive Archive
}

type candidate struct {
	a    churn.Action
	ev   float64 // with the posterior mean save rate
	draw float64 // with a save rate drawn from the posterior
	ctl  bool
}

// Plan chooses actions for the scores of one run. existing are the actions
// already in the log (any cycle); they decide cooldowns, contact limits,
// what this cycle already planned and how much of its budget is spent, so
// planning a cycle again adds nothing new.
func (pl *Planner) Plan(cycle, runID string, scores []churn.Score, existing []churn.Action) (*Plan, error) {
	p := pl.Policy
	day, err := CycleDate(cycle)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if pl.Now != nil {
		now = pl.Now
	}
	if pl.Archive.Cycles[cycle] {
		return nil, churn.Errorf(churn.KindConflict, "plan actions",
			"cycle %s is archived: its outcomes are labelled and its actions left the queue; plan a later scoring run", cycle)
	}
	out := &Plan{Cycle: cycle, RunID: runID, Budget: p.Budget, Skipped: map[string]int{}, Considered: len(scores), Targeting: TargetRisk}
	if pl.Uplift != nil {
		out.Targeting = TargetUplift
	}
	hist := contactsByCustomer(existing, cycle, out)

	draws := map[RateKey][2]float64{} // one draw of save and harm rates per segment and plan
	var cands, explore []candidate
	for _, s := range scores {
		reason := TopReason(s)
		r := p.Match(s.Tier, s.Band, reason)
		switch {
		case r == nil:
			out.Skipped[SkipNoRule]++
			continue
		case r.Kind == churn.ActionNone:
			out.Skipped[SkipNone]++
			continue
		}
		// Expected value: the churners kept minus the stayers woken (with
		// no evidence, the policy's save rate and no harm).
		value := func(save, harm float64) float64 {
			return s.Probability*s.LifetimeValue*save - (1-s.Probability)*s.LifetimeValue*harm - r.Cost
		}
		save, harm := Posterior(r.SaveRate, p.PriorStrength, 0, 0), Estimate{Alpha: 1e-9, Beta: 1}
		key := RateKey{Kind: r.Kind, Tier: s.Tier, Reason: "prior:" + r.Name}
		ev := value(r.SaveRate, 0)
		if k, e, ok := pl.Learned.Segment(r.Kind, s.Tier, reason); ok {
			save, harm, key = pl.Learned.Save(e, r.SaveRate), pl.Learned.Harm(e), k
			ev = value(save.Mean, harm.Mean)
		}
		if pl.Uplift != nil {
			// The model's estimate replaces the segment's rates: it already
			// nets the churners kept against the stayers woken, customer
			// by customer.
			u, ok := pl.Uplift[s.CustomerID]
			if !ok {
				out.Skipped[SkipNoUplift]++
				continue
			}
			ev = u*s.LifetimeValue - r.Cost
		}
		draw := math.Inf(-1)
		if pl.Rand != nil && p.ExplorationShare > 0 {
			d, ok := draws[key]
			if !ok {
				d = [2]float64{drawBeta(pl.Rand, save.Alpha, save.Beta), drawBeta(pl.Rand, harm.Alpha, harm.Beta)}
				draws[key] = d
			}
			draw = value(d[0], d[1])
		}
		if !(ev > 0) && !(draw > 0) {
			out.Skipped[SkipNotWorth]++
			continue
		}
		h := hist[s.CustomerID]
		h.archived = pl.Archive.Contacts[s.CustomerID]
		if skip := h.blocks(p, day); skip != "" {
			out.Skipped[skip]++
			continue
		}
		a := churn.Action{
			ID: ActionID(s.CustomerID, cycle, string(r.Kind)), CustomerID: s.CustomerID, Cycle: cycle,
			Kind: r.Kind, Offer: r.Offer, Channel: r.Channel, Cost: r.Cost, Priority: r.Priority, Value: ev,
			Status: churn.ActionQueued, CreatedAt: now().UTC(),
			RunID: runID, Rule: r.Name, Tier: s.Tier, Band: s.Band, Reason: reason,
			Probability: s.Probability, LifetimeValue: s.LifetimeValue,
		}
		c := candidate{a: a, ev: ev, draw: draw, ctl: InControl(s.CustomerID, cycle, p.ControlShare)}
		if ev > 0 {
			cands = append(cands, c)
		} else {
			explore = append(explore, c)
		}
	}
	// Exploitation by expected value gets the budget but the exploration
	// share; exploration ranks by the drawn value the candidates the
	// expected value left out (and those the budget did not reach), so
	// that segments the posterior doubts still get outcomes.
	budget := out.Budget
	exploit := budget
	if pl.Rand != nil {
		exploit = budget * (1 - p.ExplorationShare)
	}
	slices.SortFunc(cands, func(x, y candidate) int {
		return cmp.Or(cmp.Compare(y.ev, x.ev), cmp.Compare(x.a.CustomerID, y.a.CustomerID))
	})
	rest := out.walk(cands, exploit, func(int) {})
	if pl.Rand == nil {
		out.Skipped[SkipBudget] += len(rest)
		return out, nil
	}
	for _, c := range rest {
		if c.draw > 0 {
			explore = append(explore, c)
		} else {
			out.Skipped[SkipBudget]++
		}
	}
	slices.SortFunc(explore, func(x, y candidate) int {
		return cmp.Or(cmp.Compare(y.draw, x.draw), cmp.Compare(x.a.CustomerID, y.a.CustomerID))
	})
	rest = out.walk(explore, math.Min(budget, out.Spent+budget*p.ExplorationShare), func(n int) { out.Explored += n })
	out.Skipped[SkipBudget] += len(rest)
	return out, nil
}

// walk takes candidates in order, control ones included, until the
// spending would pass budget, and returns those it did not reach. It stops
// at the first action that does not fit rather than looking for cheaper
// ones further down, so that the control group comes from the same stretch
// of the ranking as the treated customers and the two stay comparable.
func (out *Plan) walk(cands []candidate, budget float64, took func(n int)) []candidate {
	for i, c := range cands {
		if c.ctl {
			c.a.Status = churn.ActionControl
			out.Control = append(out.Control, c.a)
			continue
		}
		if out.Spent+c.a.Cost > budget+1e-9 {
			return cands[i:]
		}
		out.Spent += c.a.Cost
		out.Actions = append(out.Actions, c.a)
		took(1)
	}
	return nil
}

// contacts is a customer's history as far as the contact rules care.
type contacts struct {
	inCycle  bool
	days     []time.Time // cycle dates of contacts in other cycles
	archived []int32     // days since 1970-01-01 of contacts in archived cycles
}

// blocks says which contact rule, if any, stops a new contact on day.
func (h contacts) blocks(p *Policy, day time.Time) string {
	if h.inCycle {
		return SkipAlreadyPlanned
	}
	days := h.days
	if len(h.archived) > 0 {
		days = slices.Clip(days) // appends copy: hist's slice stays as it is
		for _, d := range h.archived {
			days = append(days, time.Unix(int64(d)*86400, 0).UTC())
		}
	}
	n := 0
	for _, d := range days {
		gap := day.Sub(d).Hours() / 24
		if gap < 0 {
			gap = -gap
		}
		if gap < float64(p.CooldownDays) {
			return SkipCooldown
		}
		if !d.After(day) && gap < float64(p.ContactWindow) {
			n++
		}
	}
	if n >= p.ContactLimit {
		return SkipContactLimit
	}
	return ""
}

// reachesCustomer reports whether an action counts as a contact of its
// customer: it reaches or will reach them (not held out, not cancelled, not
// the action none). The planner and the archive (state.evict) count alike.
func reachesCustomer(a *churn.Action) bool {
	return a.Status != churn.ActionControl && a.Status != churn.ActionCancelled && a.Kind != churn.ActionNone
}

// contactsByCustomer indexes existing actions. Every action of this cycle
// (control and cancelled included) marks its customer as planned and, unless
// manual, spends budget; in other cycles, only actions that reach or will
// reach the customer count as contacts.
func contactsByCustomer(existing []churn.Action, cycle string, out *Plan) map[string]contacts {
	hist := map[string]contacts{}
	for _, a := range existing {
		h := hist[a.CustomerID]
		if a.Cycle == cycle && a.Rule != RuleManual {
			h.inCycle = true
			if a.Status != churn.ActionControl {
				out.Budget -= a.Cost
			}
		}
		if reachesCustomer(&a) {
			if d, err := CycleDate(a.Cycle); err == nil && a.Cycle != cycle {
				h.days = append(h.days, d)
			} else if err == nil && a.Rule == RuleManual {
				h.days = append(h.days, d)
			}
		}
		hist[a.CustomerID] = h
	}
	return hist
}
