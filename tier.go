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
	return parseEnum(s, RiskBands[:], "risk band", "band")
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
	return parseEnum(s, ValueTiers[:], "value tier", "tier")
}

// TierOfRank is the tier at rank k of ValueTiers; ok is false when k is
// outside it.
func TierOfRank(k int) (t ValueTier, ok bool) {
	if k < 0 || k >= len(ValueTiers) {
		return "", false
	}
	return ValueTiers[k], true
}

// parseEnum checks that s is one of the values of an enumeration; field
// names the input in the error.
func parseEnum[T ~string](s string, order []T, what, field string) (T, error) {
	if rank(order, T(s)) < 0 {
		return "", Invalid("parse "+what, field, "%q is not a %s; want %s", s, what, Names(order))
	}
	return T(s), nil
}

func rank[T comparable](order []T, v T) int {
	for i, o := range order {
		if o == v {
			return i
		}
	}
	return -1
}
