package churn

import (
	"cmp"
	"math"
	"slices"
)

// Bands sets how risk bands are cut. With ByShare, High and Medium are the
// cumulative shares of customers, ranked by probability, that are high and
// high-or-medium risk (0.05 and 0.20: the top 5% high, the next 15% medium).
// Otherwise they are probability thresholds (high >= High, medium >= Medium).
type Bands struct {
	ByShare      bool
	High, Medium float64
}

// DefaultBands puts the top 5% of customers in the high band and the next
// 15% in the medium band: with churn rates of a few percent a month, fixed
// probability cut-offs would leave the high band nearly empty.
func DefaultBands() Bands { return Bands{ByShare: true, High: 0.05, Medium: 0.20} }

// Validate checks the thresholds.
func (b Bands) Validate() error {
	if !(b.High > 0 && b.High <= 1 && b.Medium > 0 && b.Medium <= 1) {
		return Invalid("risk bands", "bands", "thresholds must be in (0, 1], got high %g medium %g", b.High, b.Medium)
	}
	if b.ByShare && b.Medium < b.High {
		return Invalid("risk bands", "bands", "the medium share (%g) is cumulative and must be at least the high share (%g)", b.Medium, b.High)
	}
	if !b.ByShare && b.Medium > b.High {
		return Invalid("risk bands", "bands", "the medium threshold (%g) must not exceed the high threshold (%g)", b.Medium, b.High)
	}
	return nil
}

// Cuts turns the bands into probability cut-offs for the probabilities p of
// one run: with ByShare, the probabilities of the last customers inside the
// high and medium shares.
func (b Bands) Cuts(p []float64) (high, medium float64) {
	if !b.ByShare || len(p) == 0 {
		return b.High, b.Medium
	}
	s := slices.Clone(p)
	slices.SortFunc(s, func(x, y float64) int { return cmp.Compare(y, x) }) // highest first, NaN last
	at := func(share float64) float64 {
		k := int(math.Ceil(share*float64(len(s)))) - 1
		return s[max(0, min(k, len(s)-1))]
	}
	return at(b.High), at(b.Medium)
}

// BandOf is the band of probability p under the cut-offs from Cuts.
func BandOf(p, high, medium float64) RiskBand {
	switch {
	case p >= high:
		return RiskHigh
	case p >= medium:
		return RiskMedium
	}
	return RiskLow
}
