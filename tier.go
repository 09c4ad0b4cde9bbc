package churn

// RiskBand groups customers by churn probability for people and policies.
type RiskBand string

// Risk bands, highest risk first.
const (
	RiskHigh   RiskBand = "high"
	RiskMedium RiskBand = "medium"
	RiskLow    RiskBand = "low"
)

// RiskBands lists the bands in their order, highest risk first: the order
// listings, summaries and the snapshot's band codes use.
var RiskBands = [...]RiskBand{RiskHigh, RiskMedium, RiskLow}

// Rank is the band's position in RiskBands (0 for high), -1 for a value
// that is not a band.
func (b RiskBand) Rank() int { return rank(RiskBands[:], b) }

// ParseRiskBand checks that s names a risk band.
func ParseRiskBand(s string) (RiskBand, error) {
	b := RiskBand(s)
	if b.Rank() < 0 {
		return "", Invalid("parse risk band", "band", "%q is not a risk band; want %s", s, Names(RiskBands[:]))
	}
	return b, nil
}

// ValueTier is the ABC class of a customer by value: A are the few customers who
// bring most of the value, C the many who bring little.
type ValueTier string

// Value tiers, most valuable first.
const (
	TierA ValueTier = "A"
	TierB ValueTier = "B"
	TierC ValueTier = "C"
)

// ValueTiers lists the tiers in their order, most valuable first. A tier's
// position is also its category index in the value_tier feature, so a
// model's matrix and a stored score agree on what 0, 1 and 2 mean.
var ValueTiers = [...]ValueTier{TierA, TierB, TierC}

// Rank is the tier's position in ValueTiers (0 for A), -1 for a value that
// is not a tier.
func (t ValueTier) Rank() int { return rank(ValueTiers[:], t) }

// ParseValueTier checks that s names a value tier.
func ParseValueTier(s string) (ValueTier, error) {
	t := ValueTier(s)
	if t.Rank() < 0 {
		return "", Invalid("parse value tier", "tier", "%q is not a value tier; want %s", s, Names(ValueTiers[:]))
	}
	return t, nil
}

// TierOfRank is the tier at rank k of ValueTiers; ok is false when k is
// outside it.
func TierOfRank(k int) (t ValueTier, ok bool) {
	if k < 0 || k >= len(ValueTiers) {
		return "", false
	}
	return ValueTiers[k], true
}

func rank[T comparable](order []T, v T) int {
	for i, o := range order {
		if o == v {
			return i
		}
	}
	return -1
}
