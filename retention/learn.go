package retention

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"

	"github.com/telcoretain/churn"
)

// Response rates are learned per segment: action kind x value tier, and
// kind x tier x top churn reason where a segment has at least
// MinReasonOutcomes treated outcomes. The policy's rates are the priors.
//
// The save rate is the policy's: the share of would-be churners an action
// keeps, (control churn - treated churn) / control churn, intention to
// treat (every planned customer counts, reached or not). The would-be
// churners among a segment's treated customers are their number times the
// segment's control churn rate; control groups are small per segment, so
// that rate is shrunk toward what the churn model expected for the
// segment's treated customers (their mean probability, scaled by how the
// model did on all control customers) with the weight of controlWeight
// customers. The customers kept are the would-be churners minus those who
// churned; they and the would-be churners update a Beta prior of mean
// save_rate and strength prior_strength (pseudo-churners). A segment whose
// actions make customers leave (sleeping dogs) learns a save rate near 0;
// The would-be stayers a segment's actions made leave (sleeping dogs) are
// the treated churners beyond the would-be churners; their share of the
// would-be stayers, the harm rate, has a Beta prior of mean 0 and the same
// strength. Expected values subtract the harm: P(stay) x value x harm.

// MinReasonOutcomes is the number of treated outcomes a kind x tier x
// reason segment needs before its rates are used instead of kind x tier's.
const MinReasonOutcomes = 200

// controlWeight is how many customers the model's expectation counts for
// when it is blended with a segment's control churn rate.
const controlWeight = 50

// RateKey names a segment of learned rates. Reason is empty for the
// segment of all reasons.
type RateKey struct {
	Kind   churn.ActionKind
	Tier   churn.ValueTier
	Reason string
}

// Evidence is what the outcomes of a segment say.
type Evidence struct {
	Treated, TreatedChurned int
	Control, ControlChurned int
	Worked, Accepted        int     // treated actions an agent completed, and those accepted
	WouldChurn              float64 // estimated would-be churners among the treated
	Kept                    float64 // estimated would-be churners kept: WouldChurn - TreatedChurned, at least 0
	Woken                   float64 // estimated would-be stayers who left: TreatedChurned - WouldChurn, at least 0
}

// WouldStay is the estimated number of treated customers who would have
// stayed without the action.
func (e Evidence) WouldStay() float64 { return math.Max(0, float64(e.Treated)-e.WouldChurn) }

// Estimate is a rate's Beta posterior: its prior (policy) value, posterior
// mean and 95% credible interval, and the parameters to draw from.
type Estimate struct {
	Prior           float64
	Mean, Low, High float64
	Alpha, Beta     float64
	N               float64 // trials behind it: worked actions, or would-be churners
}

// Posterior updates a Beta prior of mean prior and strength n0 with k
// successes in n trials.
func Posterior(prior, n0, k, n float64) Estimate {
	prior = math.Min(math.Max(prior, 1e-6), 1-1e-6)
	n0 = math.Max(n0, 1e-6)
	a, b := prior*n0+k, (1-prior)*n0+n-k
	return Estimate{Prior: prior, Mean: a / (a + b), Low: mathext.InvRegIncBeta(a, b, 0.025),
		High: mathext.InvRegIncBeta(a, b, 0.975), Alpha: a, Beta: b, N: n}
}

// Learned holds the evidence of every segment of the labelled outcomes.
type Learned struct {
	Strength float64 // prior strength the posteriors use
	Segments map[RateKey]Evidence
}

// Learn gathers the evidence of the labelled outcomes. strength is the
// policy's prior strength.
func Learn(outcomes []churn.Outcome, strength float64) *Learned {
	l := &Learned{Strength: strength, Segments: map[RateKey]Evidence{}}
	// How the model's probabilities compare with the control group's churn.
	var ctlChurned, ctlExpected float64
	for _, o := range outcomes {
		if o.Group == churn.GroupControl && o.Probability > 0 {
			ctlExpected += o.Probability
			if o.Churned {
				ctlChurned++
			}
		}
	}
	scale := 1.0
	if ctlExpected > 0 {
		scale = (ctlChurned + 1) / (ctlExpected + 1)
	}
	type acc struct {
		Evidence
		probSum float64
		probN   int
	}
	seg := map[RateKey]*acc{}
	add := func(k RateKey, o churn.Outcome) {
		a := seg[k]
		if a == nil {
			a = &acc{}
			seg[k] = a
		}
		if o.Group == churn.GroupControl {
			a.Control++
			if o.Churned {
				a.ControlChurned++
			}
			return
		}
		a.Treated++
		if o.Churned {
			a.TreatedChurned++
		}
		if o.Outcome != "" {
			a.Worked++
			if o.Outcome == OutcomeAccepted {
				a.Accepted++
			}
		}
		if o.Probability > 0 {
			a.probSum += o.Probability
			a.probN++
		}
	}
	for _, o := range outcomes {
		if o.Kind == churn.ActionNone || o.Kind == "" {
			continue
		}
		add(RateKey{Kind: o.Kind, Tier: o.Tier}, o)
		if o.Reason != "" {
			add(RateKey{Kind: o.Kind, Tier: o.Tier, Reason: o.Reason}, o)
		}
	}
	for k, a := range seg {
		e := a.Evidence
		if e.Treated > 0 {
			// The model's expectation for the treated; without
			// probabilities (cycles labelled before they were kept), the
			// control rate alone.
			expected, w := 0.0, 0.0
			if a.probN > 0 {
				expected, w = math.Min(1, scale*a.probSum/float64(a.probN)), controlWeight
			}
			if e.Control > 0 || w > 0 {
				ctl := (float64(e.ControlChurned) + w*expected) / (float64(e.Control) + w)
				e.WouldChurn = ctl * float64(e.Treated)
				e.Kept = math.Min(e.WouldChurn, math.Max(0, e.WouldChurn-float64(e.TreatedChurned)))
				e.Woken = math.Min(e.WouldStay(), math.Max(0, float64(e.TreatedChurned)-e.WouldChurn))
			}
		}
		l.Segments[k] = e
	}
	return l
}

// Segment returns the evidence a customer's rates come from: the kind x
// tier x reason segment when it has MinReasonOutcomes treated outcomes,
// else kind x tier's; ok is false when neither has any outcome.
func (l *Learned) Segment(kind churn.ActionKind, tier churn.ValueTier, reason string) (RateKey, Evidence, bool) {
	if l == nil {
		return RateKey{}, Evidence{}, false
	}
	k := RateKey{Kind: kind, Tier: tier, Reason: reason}
	if e, ok := l.Segments[k]; ok && reason != "" && e.Treated >= MinReasonOutcomes {
		return k, e, true
	}
	k.Reason = ""
	e, ok := l.Segments[k]
	return k, e, ok
}

// Save is the posterior of the save rate of an evidence under a prior.
func (l *Learned) Save(e Evidence, prior float64) Estimate {
	return Posterior(prior, l.strength(), e.Kept, e.WouldChurn)
}

// Harm is the posterior of the harm rate: the share of would-be stayers
// the action makes leave, with a prior of mean (about) 0.
func (l *Learned) Harm(e Evidence) Estimate {
	return Posterior(0, l.strength(), e.Woken, e.WouldStay())
}

// Accept is the posterior of the acceptance rate (accepted among worked
// actions) of an evidence under a prior.
func (l *Learned) Accept(e Evidence, prior float64) Estimate {
	return Posterior(prior, l.strength(), float64(e.Accepted), float64(e.Worked))
}

func (l *Learned) strength() float64 {
	if l == nil || l.Strength <= 0 {
		return DefaultPriorStrength
	}
	return l.Strength
}

// LearnedRate is one segment's assumed and learned rates, for reports.
type LearnedRate struct {
	Key      RateKey
	Evidence Evidence
	Save     Estimate
	Harm     Estimate
	Accept   Estimate
}

// Rates lists the learned rates of every segment under the policy's
// priors, kind x tier segments first, each followed by its reasons.
func (l *Learned) Rates(p *Policy) []LearnedRate {
	var out []LearnedRate
	for k, e := range l.Segments {
		out = append(out, LearnedRate{Key: k, Evidence: e, Save: l.Save(e, p.PriorSave(k.Kind, k.Tier, k.Reason)),
			Harm: l.Harm(e), Accept: l.Accept(e, p.PriorAccept(k.Kind))})
	}
	kindRank := func(k churn.ActionKind) int { return slices.Index(churn.ActionKinds, k) }
	slices.SortFunc(out, func(x, y LearnedRate) int {
		return cmp.Or(cmp.Compare(kindRank(x.Key.Kind), kindRank(y.Key.Kind)), cmp.Compare(x.Key.Tier, y.Key.Tier),
			cmp.Compare(x.Key.Reason, y.Key.Reason))
	})
	return out
}

// PriorSave is the save rate the policy assumes for a kind x tier x reason
// segment: that of the first rule giving the kind to the tier and reason
// (any band), else the kind's catalogue rate.
func (p *Policy) PriorSave(kind churn.ActionKind, tier churn.ValueTier, reason string) float64 {
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.Kind == kind && (len(r.Tiers) == 0 || slices.Contains(r.Tiers, tier)) &&
			(reason == "" || len(r.Reasons) == 0 || slices.Contains(r.Reasons, reason)) {
			return r.SaveRate
		}
	}
	return p.Actions[kind].SaveRate
}

// PriorAccept is the acceptance rate the policy assumes for a kind.
func (p *Policy) PriorAccept(kind churn.ActionKind) float64 {
	if s, ok := p.Actions[kind]; ok && s.AcceptRate > 0 {
		return s.AcceptRate
	}
	return DefaultAcceptRate
}
