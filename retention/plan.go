package retention

import (
	"cmp"
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
}

// Planner chooses the actions of a cycle under a policy.
type Planner struct {
	Policy *Policy
	Now    func() time.Time // stamps CreatedAt; nil: time.Now
}

type candidate struct {
	a   churn.Action
	ev  float64
	ctl bool
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
	out := &Plan{Cycle: cycle, RunID: runID, Budget: p.Budget, Skipped: map[string]int{}, Considered: len(scores)}
	hist := contactsByCustomer(existing, cycle, out)

	var cands []candidate
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
		ev := s.Probability*s.LifetimeValue*r.SaveRate - r.Cost
		if !(ev > 0) {
			out.Skipped[SkipNotWorth]++
			continue
		}
		h := hist[s.CustomerID]
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
		cands = append(cands, candidate{a: a, ev: ev, ctl: InControl(s.CustomerID, cycle, p.ControlShare)})
	}
	slices.SortFunc(cands, func(x, y candidate) int {
		if c := cmp.Compare(y.ev, x.ev); c != 0 {
			return c
		}
		return cmp.Compare(x.a.CustomerID, y.a.CustomerID)
	})
	// Highest value first until the budget runs out. The walk stops at the
	// first action that does not fit rather than looking for cheaper ones
	// further down, so that the control group comes from the same stretch
	// of the ranking as the treated customers and the two stay comparable.
	for i, c := range cands {
		if c.ctl {
			c.a.Status = churn.ActionControl
			out.Control = append(out.Control, c.a)
			continue
		}
		if out.Spent+c.a.Cost > out.Budget+1e-9 {
			out.Skipped[SkipBudget] += len(cands) - i
			break
		}
		out.Spent += c.a.Cost
		out.Actions = append(out.Actions, c.a)
	}
	return out, nil
}

// contacts is a customer's history as far as the contact rules care.
type contacts struct {
	inCycle bool
	days    []time.Time // cycle dates of contacts in other cycles
}

// blocks says which contact rule, if any, stops a new contact on day.
func (h contacts) blocks(p *Policy, day time.Time) string {
	if h.inCycle {
		return SkipAlreadyPlanned
	}
	n := 0
	for _, d := range h.days {
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
		if a.Status != churn.ActionControl && a.Status != churn.ActionCancelled && a.Kind != churn.ActionNone {
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
