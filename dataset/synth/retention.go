package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/telcoretain/churn"
)

// AnyReason is the key of a kind's save rate for churn reasons it does not
// list.
const AnyReason = "*"

// SilenceReason is the key of a kind's save rate for prepaid churners: a
// prepaid customer's churn is their silence (no usage, no top-up), which
// files no churn event and so has no reason.
const SilenceReason = "silence"

// RetentionEffect is how retention actions work in the synthetic world. The
// seed cannot know which actions a policy will choose, so the effect is
// applied after the fact, by `churn actions simulate` (demo only): it
// answers each worked action (accepted, declined, unreachable), decides
// which would-be churners an accepted action keeps, whose voluntary churn
// event in the cycle's horizon is then removed, and which contented
// customers a contact wakes up ("sleeping dogs"), who get a churn event.
// Every draw is a hash of the seed and the action, so the same seed gives
// the same answers whatever the order actions are worked in.
//
// The effect is heterogeneous on purpose, so that targeting by uplift can
// be told from targeting by risk: whether an action keeps a churner depends
// on why the customer was leaving (the reason of their churn event, or
// SilenceReason for a prepaid customer going silent). Sleeping dogs are
// postpaid customers reminded that they may leave their contract; a
// prepaid customer's churn is its silence, which simulate does not fake.
type RetentionEffect struct {
	Seed        uint64
	AcceptRates map[string]float64 // by action kind: share of reached customers who accept
	Unreachable float64            // share of customers who cannot be reached
	// SaveRates is by action kind, then by churn reason (AnyReason for the
	// rest): the share of accepting would-be churners who stay.
	SaveRates map[string]map[string]float64
	// SleepingDogs is by action kind: the share of reached customers who
	// would have stayed, whose churn probability is below SleepingDogRisk,
	// and who leave because they were reminded they could.
	SleepingDogs    map[string]float64
	SleepingDogRisk float64
}

// DefaultRetentionEffect is the effect the demo plants: offers keep
// price-driven churners and prepaid customers about to go silent (a top-up
// bonus), specialist calls keep those who leave over service or the
// network, messages keep almost nobody, and messages to contented low-risk
// customers make a few leave.
func DefaultRetentionEffect(seed uint64) RetentionEffect {
	return RetentionEffect{
		Seed:        seed,
		AcceptRates: map[string]float64{"specialist_call": 0.7, "offer": 0.6, "email": 0.2, "sms": 0.25},
		Unreachable: 0.1,
		SaveRates: map[string]map[string]float64{
			"specialist_call": {"service": 0.8, "network": 0.7, "price": 0.2, "competitor": 0.3, SilenceReason: 0.3, AnyReason: 0.05},
			"offer":           {"price": 0.85, "competitor": 0.6, SilenceReason: 0.6, AnyReason: 0.05},
			"email":           {"price": 0.1, AnyReason: 0.03},
			"sms":             {AnyReason: 0.02},
		},
		SleepingDogs:    map[string]float64{"specialist_call": 0.01, "offer": 0, "email": 0.02, "sms": 0.03},
		SleepingDogRisk: 0.15,
	}
}

// Validate names the first rate that is not a share.
func (e RetentionEffect) Validate() error {
	const op = "retention effect"
	if e.Unreachable < 0 || e.Unreachable > 1 {
		return churn.Invalid(op, "unreachable", "%g is not a share between 0 and 1", e.Unreachable)
	}
	if e.SleepingDogRisk < 0 || e.SleepingDogRisk > 1 {
		return churn.Invalid(op, "sleeping_dog_risk", "%g is not a probability", e.SleepingDogRisk)
	}
	flat := map[string]float64{}
	for k, v := range e.AcceptRates {
		flat["accept_rate."+k] = v
	}
	for k, v := range e.SleepingDogs {
		flat["sleeping_dogs."+k] = v
	}
	for k, m := range e.SaveRates {
		for r, v := range m {
			flat["save_rate."+k+"/"+r] = v
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range flat {
			if !yield(k) {
				return
			}
		}
	}) {
		if v := flat[name]; v < 0 || v > 1 {
			return churn.Invalid(op, name, "%g is not a share between 0 and 1", v)
		}
	}
	return nil
}

// Answer is the outcome an agent gets for an action.
func (e RetentionEffect) Answer(actionID, kind string) string {
	u := e.uniform("answer", actionID)
	switch {
	case u < e.Unreachable:
		return "unreachable"
	case u < e.Unreachable+(1-e.Unreachable)*e.AcceptRates[kind]:
		return "accepted"
	}
	return "declined"
}

// SaveRate is the share of accepting would-be churners an action of kind
// keeps when they were leaving for reason.
func (e RetentionEffect) SaveRate(kind, reason string) float64 {
	m := e.SaveRates[kind]
	if v, ok := m[reason]; ok {
		return v
	}
	return m[AnyReason]
}

// Saves tells whether an accepted action keeps a customer who would have
// churned for reason.
func (e RetentionEffect) Saves(actionID, kind, reason string) bool {
	return e.uniform("save", actionID) < e.SaveRate(kind, reason)
}

// Wakes tells whether reaching a customer who would have stayed, with churn
// probability p, makes them leave.
func (e RetentionEffect) Wakes(actionID, kind string, p float64) bool {
	return p < e.SleepingDogRisk && e.uniform("dog", actionID) < e.SleepingDogs[kind]
}

// WakeDay is the day after the cycle (0 to horizon-1) on which a woken
// customer leaves.
func (e RetentionEffect) WakeDay(actionID string, horizon int) int {
	return int(e.uniform("dog-day", actionID) * float64(horizon))
}

func (e RetentionEffect) uniform(what, id string) float64 {
	h := sha256.Sum256([]byte(what + "\x00" + strconv.FormatUint(e.Seed, 10) + "\x00" + id))
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}
