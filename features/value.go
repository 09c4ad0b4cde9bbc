package features

import (
	"math"
	"sort"

	"github.com/telcoretain/churn"
)

// ValueConfig sets how customer value is computed.
type ValueConfig struct {
	// MarginRate is the share of revenue that is margin, in (0, 1].
	MarginRate float64
	// DiscountRate is the monthly discount rate d, >= 0 (0.01 is about 12.7% a year).
	DiscountRate float64
	// BaseChurn is the monthly churn probability by contract type; it sets
	// the retention r = 1 - churn of the lifetime value. Contracts not in the
	// map, and customers without a known contract, use DefaultChurn.
	BaseChurn    map[string]float64
	DefaultChurn float64
	Tiers        TierConfig
}

// TierConfig sets the value tier thresholds. Customers are ranked by
// lifetime value, highest first (ties by customer id, so tiers are
// reproducible), and cut into prefixes of that ranking:
//
//   - A is the shortest prefix whose value reaches AValueShare of the total,
//     then widened or cut so that it holds between AMinCustomers and
//     AMaxCustomers of the customers;
//   - A and B together are the shortest prefix reaching BValueShare of the
//     total, cut to at most BMaxCustomers of the customers (and never fewer
//     than A);
//   - C is the rest.
//
// Shares of customers are rounded up for minimums and down for maximums.
// Negative values count as 0 towards the total.
type TierConfig struct {
	AValueShare   float64 // default 0.5
	AMinCustomers float64 // default 0.10
	AMaxCustomers float64 // default 0.20
	BValueShare   float64 // default 0.8, cumulative with A
	BMaxCustomers float64 // default 0.5, cumulative with A
}

// DefaultValueConfig returns the value settings used when none are given: a
// 35% margin, 1% monthly discount rate, and base monthly churn of 3% on
// month-to-month contracts, 1.5% on one-year and 0.8% on two-year ones.
func DefaultValueConfig() ValueConfig {
	return ValueConfig{
		MarginRate:   0.35,
		DiscountRate: 0.01,
		BaseChurn:    map[string]float64{"month_to_month": 0.03, "one_year": 0.015, "two_year": 0.008},
		DefaultChurn: 0.03,
		Tiers:        DefaultTierConfig(),
	}
}

// DefaultTierConfig returns the default tier thresholds: A covers half the
// value, held to 10-20% of customers; A and B cover 80% of the value, held to
// at most half of the customers.
func DefaultTierConfig() TierConfig {
	return TierConfig{AValueShare: 0.5, AMinCustomers: 0.10, AMaxCustomers: 0.20, BValueShare: 0.8, BMaxCustomers: 0.5}
}

func (c ValueConfig) isZero() bool {
	return c.MarginRate == 0 && c.DiscountRate == 0 && c.BaseChurn == nil && c.DefaultChurn == 0 && c.Tiers == TierConfig{}
}

// Validate checks every setting, naming the first one that is wrong.
func (c ValueConfig) Validate() error {
	const op = "value config"
	if !(c.MarginRate > 0 && c.MarginRate <= 1) {
		return churn.Invalid(op, "margin_rate", "%v: must be in (0, 1]", c.MarginRate)
	}
	if !(c.DiscountRate >= 0 && c.DiscountRate < 1) {
		return churn.Invalid(op, "discount_rate", "%v: must be in [0, 1)", c.DiscountRate)
	}
	if !(c.DefaultChurn > 0 && c.DefaultChurn <= 1) {
		return churn.Invalid(op, "default_churn", "%v: must be in (0, 1]", c.DefaultChurn)
	}
	for k, v := range c.BaseChurn {
		if !(v > 0 && v <= 1) {
			return churn.Invalid(op, "base_churn."+k, "%v: must be in (0, 1]", v)
		}
	}
	t := c.Tiers
	for _, s := range []struct {
		name string
		v    float64
	}{{"tiers.a_value_share", t.AValueShare}, {"tiers.a_min_customers", t.AMinCustomers}, {"tiers.a_max_customers", t.AMaxCustomers},
		{"tiers.b_value_share", t.BValueShare}, {"tiers.b_max_customers", t.BMaxCustomers}} {
		if !(s.v >= 0 && s.v <= 1) {
			return churn.Invalid(op, s.name, "%v: must be a share in [0, 1]", s.v)
		}
	}
	if t.AMinCustomers > t.AMaxCustomers {
		return churn.Invalid(op, "tiers.a_min_customers", "%v is above a_max_customers %v", t.AMinCustomers, t.AMaxCustomers)
	}
	if t.BValueShare < t.AValueShare {
		return churn.Invalid(op, "tiers.b_value_share", "%v is below a_value_share %v (B's share is cumulative with A)", t.BValueShare, t.AValueShare)
	}
	return nil
}

// LifetimeValue is the expected margin a customer brings over the expected
// remaining lifetime, discounted:
//
//	CLV = m × r / (1 + d − r)
//
// where m = MarginRate × monthly revenue (negative revenue counts as 0), r =
// 1 − the monthly base churn of the customer's contract, and d the monthly
// discount rate. It is the sum over months t = 1, 2, ... of m × r^t / (1+d)^t:
// the customer pays month t's margin when still there after t months. With
// the defaults, a month-to-month customer paying 50 a month is worth
// 17.5 × 0.97/0.04 ≈ 424.
func LifetimeValue(monthlyRevenue float64, contract string, c ValueConfig) float64 {
	churnRate, ok := c.BaseChurn[contract]
	if !ok {
		churnRate = c.DefaultChurn
	}
	m := c.MarginRate * math.Max(0, monthlyRevenue)
	r := 1 - churnRate
	return m * r / (1 + c.DiscountRate - r)
}

// LifetimeValues computes LifetimeValue for every row from the monthly
// revenue column and the contract column (category indexes into contracts;
// NaN when unknown). A missing revenue counts as 0.
func LifetimeValues(monthlyRevenue, contract []float32, contracts []string, c ValueConfig) []float32 {
	out := make([]float32, len(monthlyRevenue))
	for i, rev := range monthlyRevenue {
		name := ""
		if v := contract[i]; !isNaN(v) && int(v) >= 0 && int(v) < len(contracts) {
			name = contracts[int(v)]
		}
		r := float64(rev)
		if isNaN(rev) {
			r = 0
		}
		out[i] = float32(LifetimeValue(r, name, c))
	}
	return out
}

// AssignTiers gives each customer its value tier following TierConfig; ids
// break ties between equal values so that the result does not depend on row
// order.
func AssignTiers(ids []string, values []float32, c TierConfig) []churn.ValueTier {
	n := len(values)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	val := func(i int) float64 {
		v := float64(values[i])
		if math.IsNaN(v) || v < 0 {
			return 0
		}
		return v
	}
	sort.Slice(order, func(a, b int) bool {
		va, vb := val(order[a]), val(order[b])
		if va != vb {
			return va > vb
		}
		return ids[order[a]] < ids[order[b]]
	})
	cum := make([]float64, n+1) // cum[k] is the value of the top k customers
	for k, i := range order {
		cum[k+1] = cum[k] + val(i)
	}
	reach := func(share float64) int { // shortest prefix reaching share of the total
		target := share * cum[n]
		return sort.Search(n+1, func(k int) bool { return cum[k] >= target })
	}
	nA := clampInt(reach(c.AValueShare), ceilShare(c.AMinCustomers, n), floorShare(c.AMaxCustomers, n))
	nAB := max(nA, min(reach(c.BValueShare), floorShare(c.BMaxCustomers, n)))
	tiers := make([]churn.ValueTier, n)
	for k, i := range order {
		switch {
		case k < nA:
			tiers[i] = churn.TierA
		case k < nAB:
			tiers[i] = churn.TierB
		default:
			tiers[i] = churn.TierC
		}
	}
	return tiers
}

func ceilShare(s float64, n int) int {
	return int(math.Ceil(s*float64(n) - 1e-9))
}

func floorShare(s float64, n int) int {
	return int(math.Floor(s*float64(n) + 1e-9))
}

// clampInt limits v to [lo, hi]; when lo > hi (too few customers to honour
// both), lo wins so that a non-empty population always has an A tier when
// asked for one.
func clampInt(v, lo, hi int) int {
	return max(lo, min(v, hi))
}

// tierCategories are the categories of the value_tier feature: the tiers in
// their order, so that a category's index is the tier's rank.
func tierCategories() []string {
	out := make([]string, len(churn.ValueTiers))
	for i, t := range churn.ValueTiers {
		out[i] = string(t)
	}
	return out
}

// tierValue is the matrix value of a tier: its category index in the
// value_tier feature.
func tierValue(t churn.ValueTier) float32 {
	if k := t.Rank(); k >= 0 {
		return float32(k)
	}
	return churn.NaN32
}
