package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/telcoretain/churn"
)

// RetentionEffect is how retention actions work in the synthetic world. The
// seed cannot know which actions a policy will choose, so the effect is
// applied after the fact, by `churn actions simulate` (demo only): it
// answers each worked action (accepted, declined, unreachable) and decides
// which would-be churners an accepted action keeps, whose voluntary churn
// event in the cycle's horizon is then removed. Every draw is a hash of the
// seed and the action, so the same seed gives the same answers whatever the
// order actions are worked in.
type RetentionEffect struct {
	Seed        uint64
	AcceptRates map[string]float64 // by action kind: share of reached customers who accept
	Unreachable float64            // share of customers who cannot be reached
	SaveRates   map[string]float64 // by action kind: share of accepting would-be churners who stay
}

// DefaultRetentionEffect is the effect the demo plants: calls are accepted
// and keep churners more often than messages do.
func DefaultRetentionEffect(seed uint64) RetentionEffect {
	return RetentionEffect{
		Seed:        seed,
		AcceptRates: map[string]float64{"specialist_call": 0.7, "offer": 0.6, "email": 0.2, "sms": 0.25},
		Unreachable: 0.1,
		SaveRates:   map[string]float64{"specialist_call": 0.5, "offer": 0.35, "email": 0.2, "sms": 0.2},
	}
}

// Validate names the first rate that is not a share.
func (e RetentionEffect) Validate() error {
	const op = "retention effect"
	if e.Unreachable < 0 || e.Unreachable > 1 {
		return churn.Invalid(op, "unreachable", "%g is not a share between 0 and 1", e.Unreachable)
	}
	for _, m := range []struct {
		name  string
		rates map[string]float64
	}{{"accept_rate", e.AcceptRates}, {"save_rate", e.SaveRates}} {
		kinds := make([]string, 0, len(m.rates))
		for k := range m.rates {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			if v := m.rates[k]; v < 0 || v > 1 {
				return churn.Invalid(op, m.name+"."+k, "%g is not a share between 0 and 1", v)
			}
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

// Saves tells whether an accepted action keeps a customer who would have churned.
func (e RetentionEffect) Saves(actionID, kind string) bool {
	return e.uniform("save", actionID) < e.SaveRates[kind]
}

func (e RetentionEffect) uniform(what, id string) float64 {
	h := sha256.Sum256([]byte(what + "\x00" + strconv.FormatUint(e.Seed, 10) + "\x00" + id))
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}
