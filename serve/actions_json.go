package serve

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// The JSON shapes of the retention routes, as described in openapi.yaml.

type actionJSON struct {
	ActionID      string           `json:"action_id"`
	CustomerID    string           `json:"customer_id"`
	Cycle         string           `json:"cycle"`
	Kind          churn.ActionKind `json:"kind"`
	Offer         string           `json:"offer"`
	Channel       string           `json:"channel"`
	Cost          float64          `json:"cost"`
	Priority      int              `json:"priority"`
	ExpectedValue float64          `json:"expected_value"`
	Status        string           `json:"status"`
	Agent         string           `json:"agent,omitempty"`
	LeaseUntil    string           `json:"lease_until,omitempty"`
	Outcome       string           `json:"outcome,omitempty"`
	Note          string           `json:"note,omitempty"`
	Attempts      int              `json:"attempts,omitempty"`
	CreatedAt     string           `json:"created_at"`
	Rule          string           `json:"rule"`
	RunID         string           `json:"run_id,omitempty"`
	Tier          string           `json:"tier"`
	Band          string           `json:"band"`
	Reason        string           `json:"reason"`
	// float32, as in the scores they come from, so that a customer's
	// numbers read the same here and in /v1/customers/{id}/score
	Probability   float32 `json:"probability"`
	LifetimeValue float32 `json:"lifetime_value"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func newActionJSON(a churn.Action) actionJSON {
	return actionJSON{ActionID: a.ID, CustomerID: a.CustomerID, Cycle: a.Cycle, Kind: a.Kind, Offer: a.Offer,
		Channel: a.Channel, Cost: a.Cost, Priority: a.Priority, ExpectedValue: math.Round(a.Value*100) / 100,
		Status: string(a.Status), Agent: a.Agent, LeaseUntil: rfc3339(a.LeaseUntil), Outcome: a.Outcome, Note: a.Note, Attempts: a.Attempts,
		CreatedAt: rfc3339(a.CreatedAt), Rule: a.Rule, RunID: a.RunID, Tier: string(a.Tier), Band: string(a.Band),
		Reason: a.Reason, Probability: float32(a.Probability), LifetimeValue: float32(a.LifetimeValue)}
}

// newActionsJSON converts actions for a response; never nil, so that no
// action is an empty array rather than null.
func newActionsJSON(as []churn.Action) []actionJSON {
	out := make([]actionJSON, len(as))
	for i, a := range as {
		out[i] = newActionJSON(a)
	}
	return out
}

type actionListJSON struct {
	Items  []actionJSON `json:"items"`
	Total  int          `json:"total"`
	Offset int          `json:"offset"`
	Limit  int          `json:"limit"`
	// CycleArchived: the cycle the list asked for is archived, so only its
	// open actions are listed.
	CycleArchived bool `json:"cycle_archived,omitempty"`
}

type claimRequest struct {
	Agent string `json:"agent"` // optional: the key's own name; another's only for an admin
	// Limit is a pointer so that an absent limit (one action) differs from
	// an explicit 0, which is an error rather than a quiet claim of one.
	Limit *int `json:"limit"`
	// Cycle limits the claim to one cycle's actions (optional).
	Cycle string `json:"cycle"`
}

// limit is the number of actions asked for; validate has checked it.
func (r *claimRequest) limit() int {
	if r.Limit == nil {
		return 1
	}
	return *r.Limit
}

func (r *claimRequest) validate() error {
	if len(r.Agent) > maxNameLen {
		return invalid("agent", "is %d bytes; at most %d", len(r.Agent), maxNameLen)
	}
	if n := r.limit(); n < 1 || n > maxClaim {
		return invalid("limit", "%d: want a whole number from 1 to %d (leave it out for 1)", n, maxClaim)
	}
	if r.Cycle != "" {
		if _, err := retention.CycleDate(r.Cycle); err != nil {
			return invalid("cycle", "%q is not a cycle date (YYYY-MM-DD)", r.Cycle)
		}
	}
	return nil
}

type claimJSON struct {
	Agent   string       `json:"agent"`
	Actions []actionJSON `json:"actions"`
}

type completeRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
	Agent   string `json:"agent"` // optional: the key's own name, or for an admin the claim's holder
}

func (r *completeRequest) validate() error {
	if !slices.Contains(retention.Outcomes, r.Outcome) {
		return invalid("outcome", "%q: want accepted, declined or unreachable", r.Outcome)
	}
	if len(r.Note) > maxNoteLen {
		return invalid("note", "is %d bytes; at most %d", len(r.Note), maxNoteLen)
	}
	if len(r.Agent) > maxNameLen {
		return invalid("agent", "is %d bytes; at most %d", len(r.Agent), maxNameLen)
	}
	return nil
}

type answerRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

func (r *answerRequest) validate() error {
	if err := retention.CheckAnswer(r.Outcome); err != nil {
		return err
	}
	if len(r.Note) > maxNoteLen {
		return invalid("note", "is %d bytes; at most %d", len(r.Note), maxNoteLen)
	}
	return nil
}

type answersRequest struct {
	Answers []struct {
		ActionID string `json:"action_id"`
		answerRequest
	} `json:"answers"`
}

func (r *answersRequest) validate() error {
	if len(r.Answers) == 0 || len(r.Answers) > retention.MaxAnswers {
		return invalid("answers", "%d answers: want 1 to %d", len(r.Answers), retention.MaxAnswers)
	}
	for i := range r.Answers {
		a := &r.Answers[i]
		if a.ActionID == "" {
			return invalid(fmt.Sprintf("answers[%d].action_id", i), "is required")
		}
		if err := a.answerRequest.validate(); err != nil {
			return churn.InField(fmt.Sprintf("answers[%d]", i), err)
		}
	}
	return nil
}

// answersJSON answers a batch of answers: how many it wrote (retries write
// nothing) and the actions as they stand, in the order of the request.
type answersJSON struct {
	Written int          `json:"written"`
	Actions []actionJSON `json:"actions"`
}

type cancelRequest struct {
	Note string `json:"note"`
}

type manualRequest struct {
	Kind    churn.ActionKind `json:"kind"`
	Offer   string           `json:"offer"`
	Channel string           `json:"channel"`
	Cost    *float64         `json:"cost"`
	// Priority is a pointer so that an absent priority (1) differs from
	// an explicit 0, which is an error.
	Priority *int   `json:"priority"`
	Note     string `json:"note"`
}

// liftRowJSON writes undefined rates and intervals (an empty group) as null.
type liftRowJSON struct {
	Segment        string   `json:"segment"`
	Treated        int      `json:"treated"`
	TreatedChurned int      `json:"treated_churned"`
	Control        int      `json:"control"`
	ControlChurned int      `json:"control_churned"`
	TreatedRate    *float64 `json:"treated_churn_rate"`
	ControlRate    *float64 `json:"control_churn_rate"`
	Saved          *float64 `json:"saved_rate"`
	SavedLow       *float64 `json:"saved_rate_ci_low"`
	SavedHigh      *float64 `json:"saved_rate_ci_high"`
	Accepted       int      `json:"accepted"`
	Cost           float64  `json:"cost"`
	RevenueSaved   float64  `json:"revenue_saved"`
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r := math.Round(v*1e6) / 1e6
	return &r
}

func newLiftRowJSON(r retention.LiftRow) liftRowJSON {
	return liftRowJSON{Segment: r.Segment, Treated: r.Treated, TreatedChurned: r.TreatedChurned, Control: r.Control,
		ControlChurned: r.ControlChurned, TreatedRate: finitePtr(r.TreatedRate), ControlRate: finitePtr(r.ControlRate),
		Saved: finitePtr(r.Saved), SavedLow: finitePtr(r.SavedLow), SavedHigh: finitePtr(r.SavedHigh), Accepted: r.Accepted,
		Cost: math.Round(r.Cost*100) / 100, RevenueSaved: math.Round(r.RevenueSaved*100) / 100}
}

type liftJSON struct {
	Cycles   []string      `json:"cycles"`
	All      liftRowJSON   `json:"all"`
	ByTier   []liftRowJSON `json:"by_tier"`
	ByAction []liftRowJSON `json:"by_action"`
	Rates    []rateJSON    `json:"rates"`
}

// rateJSON is one segment's assumed and learned response rates.
type rateJSON struct {
	Action        churn.ActionKind `json:"action"`
	Tier          string           `json:"tier"`
	Reason        string           `json:"reason"`
	Treated       int              `json:"treated"`
	Control       int              `json:"control"`
	Worked        int              `json:"worked"`
	Accepted      int              `json:"accepted"`
	WouldChurn    float64          `json:"would_churn"`
	Kept          float64          `json:"kept"`
	SaveAssumed   float64          `json:"save_rate_assumed"`
	SaveLearned   float64          `json:"save_rate_learned"`
	SaveLow       float64          `json:"save_rate_cri_low"`
	SaveHigh      float64          `json:"save_rate_cri_high"`
	Woken         float64          `json:"woken"`
	Harm          float64          `json:"harm_rate_learned"`
	HarmLow       float64          `json:"harm_rate_cri_low"`
	HarmHigh      float64          `json:"harm_rate_cri_high"`
	AcceptAssumed float64          `json:"accept_rate_assumed"`
	AcceptLearned float64          `json:"accept_rate_learned"`
	AcceptLow     float64          `json:"accept_rate_cri_low"`
	AcceptHigh    float64          `json:"accept_rate_cri_high"`
}

func newRateJSON(r retention.LearnedRate) rateJSON {
	reason := r.Key.Reason
	if reason == "" {
		reason = "all"
	}
	e := r.Evidence
	return rateJSON{Action: r.Key.Kind, Tier: string(r.Key.Tier), Reason: reason, Treated: e.Treated, Control: e.Control,
		Worked: e.Worked, Accepted: e.Accepted, WouldChurn: round6(e.WouldChurn), Kept: round6(e.Kept),
		SaveAssumed: round6(r.Save.Prior), SaveLearned: round6(r.Save.Mean), SaveLow: round6(r.Save.Low), SaveHigh: round6(r.Save.High),
		Woken: round6(e.Woken), Harm: round6(r.Harm.Mean), HarmLow: round6(r.Harm.Low), HarmHigh: round6(r.Harm.High),
		AcceptAssumed: round6(r.Accept.Prior), AcceptLearned: round6(r.Accept.Mean), AcceptLow: round6(r.Accept.Low),
		AcceptHigh: round6(r.Accept.High)}
}

func newLiftJSON(l retention.Lift, rates []retention.LearnedRate) liftJSON {
	out := liftJSON{Cycles: l.Cycles, All: newLiftRowJSON(l.All), ByTier: []liftRowJSON{}, ByAction: []liftRowJSON{},
		Rates: []rateJSON{}}
	for _, r := range rates {
		out.Rates = append(out.Rates, newRateJSON(r))
	}
	if out.Cycles == nil {
		out.Cycles = []string{}
	}
	for _, r := range l.ByTier {
		out.ByTier = append(out.ByTier, newLiftRowJSON(r))
	}
	for _, r := range l.ByKind {
		out.ByAction = append(out.ByAction, newLiftRowJSON(r))
	}
	return out
}

type policyJSON struct {
	Path          string  `json:"path"`
	Digest        string  `json:"digest"`
	LoadedAt      string  `json:"loaded_at"`
	Rules         int     `json:"rules"`
	ControlShare  float64 `json:"control_share"`
	Budget        float64 `json:"budget_per_cycle"`
	HorizonDays   int     `json:"horizon_days"`
	LeaseMinutes  int     `json:"lease_minutes"`
	ContactLimit  int     `json:"contact_limit"`
	ContactWindow int     `json:"contact_window_days"`
	CooldownDays  int     `json:"cooldown_days"`
	Targeting     string  `json:"targeting"`
	ArchiveAfter  int     `json:"archive_after_days"`
	RefusedError  string  `json:"refused_error,omitempty"`
}

func newPolicyJSON(p *retention.Policy, st retention.WatchStatus) policyJSON {
	out := policyJSON{Path: st.Path, Digest: p.Digest, LoadedAt: rfc3339(st.LoadedAt), Rules: len(p.Rules),
		ControlShare: p.ControlShare, Budget: p.Budget, HorizonDays: p.HorizonDays, LeaseMinutes: int(p.Lease / time.Minute),
		ContactLimit: p.ContactLimit, ContactWindow: p.ContactWindow, CooldownDays: p.CooldownDays, Targeting: string(p.Targeting),
		ArchiveAfter: p.ArchiveAfterDays}
	if out.Targeting == "" {
		out.Targeting = string(retention.TargetRisk)
	}
	if st.Err != nil {
		out.RefusedError = st.Err.Error()
	}
	return out
}

// manualAction builds the action of a manual request for a scored customer.
func manualAction(p *retention.Policy, s churn.Score, req manualRequest, day time.Time) (churn.Action, error) {
	if !slices.Contains(churn.ActionKinds, req.Kind) || req.Kind == churn.ActionNone {
		return churn.Action{}, invalid("kind", "%q: want %s", req.Kind, churn.Names(churn.ActionKinds[:len(churn.ActionKinds)-1]))
	}
	spec, _ := p.Spec(req.Kind)
	ch := req.Channel
	if ch == "" {
		ch = spec.Channel
	}
	if !slices.Contains(retention.Channels, ch) {
		return churn.Action{}, invalid("channel", "%q: want one of %s", ch, strings.Join(retention.Channels, ", "))
	}
	cost := spec.Cost
	if req.Cost != nil {
		cost = *req.Cost
	}
	if !(cost >= 0) || math.IsInf(cost, 0) {
		return churn.Action{}, invalid("cost", "%g: want an amount of 0 or more", cost)
	}
	prio := 1 // asked for by a person: worked first
	if req.Priority != nil {
		prio = *req.Priority
	}
	if prio < 1 || prio > 99 {
		return churn.Action{}, invalid("priority", "%d: want 1 to 99", prio)
	}
	if len(req.Offer) > maxNameLen {
		return churn.Action{}, invalid("offer", "is %d bytes; at most %d", len(req.Offer), maxNameLen)
	}
	if len(req.Note) > maxNoteLen {
		return churn.Action{}, invalid("note", "is %d bytes; at most %d", len(req.Note), maxNoteLen)
	}
	cycle := day.UTC().Format(time.DateOnly)
	ev := s.Probability*s.LifetimeValue*spec.SaveRate - cost
	return churn.Action{
		ID: retention.ActionID(s.CustomerID, cycle, retention.RuleManual+":"+string(req.Kind)), CustomerID: s.CustomerID,
		Cycle: cycle, Kind: req.Kind, Offer: req.Offer, Channel: ch, Cost: cost, Priority: prio, Value: ev, Note: req.Note,
		Rule: retention.RuleManual, Tier: s.Tier, Band: s.Band, Reason: retention.TopReason(s),
		Probability: s.Probability, LifetimeValue: s.LifetimeValue,
	}, nil
}
