package features

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestLifetimeValueIsTheDiscountedSumOfMargins(t *testing.T) {
	c := DefaultValueConfig()
	tests := []struct {
		contract string
		revenue  float64
		churn    float64
	}{
		{"month_to_month", 50, 0.03},
		{"two_year", 80, 0.008},
		{"", 50, 0.03},          // unknown contract: the default churn
		{"satellite", 50, 0.03}, // not in the map
	}
	for _, tt := range tests {
		got := LifetimeValue(tt.revenue, tt.contract, c)
		// Sum the series month by month: the closed form must agree.
		m, r, sum := c.MarginRate*tt.revenue, 1-tt.churn, 0.0
		for k := 1; k < 20000; k++ {
			sum += m * math.Pow(r, float64(k)) / math.Pow(1+c.DiscountRate, float64(k))
		}
		if math.Abs(got-sum) > 1e-6*sum {
			t.Errorf("LifetimeValue(%v, %q) = %v, series sums to %v", tt.revenue, tt.contract, got, sum)
		}
	}
	if got := LifetimeValue(50, "month_to_month", c); math.Abs(got-0.35*50*0.97/0.04) > 1e-9 {
		t.Errorf("documented example: got %v, want 424.375", got)
	}
	if got := LifetimeValue(-20, "month_to_month", c); got != 0 {
		t.Errorf("negative revenue gives %v, want 0", got)
	}
}

func TestLifetimeValuesReadsContractIndexes(t *testing.T) {
	c := DefaultValueConfig()
	rev := []float32{50, 50, churn.NaN32}
	contract := []float32{2, churn.NaN32, 0}
	got := LifetimeValues(rev, contract, churn.Contracts, c)
	want := []float64{LifetimeValue(50, "two_year", c), LifetimeValue(50, "", c), 0}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-3 {
			t.Errorf("row %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("c%04d", i)
	}
	return out
}

func countTiers(ts []churn.ValueTier) map[churn.ValueTier]int {
	m := map[churn.ValueTier]int{}
	for _, t := range ts {
		m[t]++
	}
	return m
}

func TestAssignTiers(t *testing.T) {
	cfg := DefaultTierConfig()
	tests := []struct {
		name   string
		values func(n int) []float32
		n      int
		wantA  int
		wantB  int
	}{
		{
			// 10 customers hold 90% of the value: 6 cover half, but A holds at least 10%.
			name: "a few whales: A held to at least 10% of customers", n: 100,
			values: func(n int) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = 1
					if i < 10 {
						v[i] = 89.1
					}
				}
				return v
			},
			// A and B reach 80% within the whales, so B (never smaller than A) is empty.
			wantA: 10, wantB: 0,
		},
		{
			name: "equal values: A capped at 20%, B at 50% cumulative", n: 100,
			values: func(n int) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = 5
				}
				return v
			},
			wantA: 20, wantB: 30,
		},
		{
			name: "all zero: A and B by id, at their minimum and cap", n: 10,
			values: func(n int) []float32 { return make([]float32, n) },
			wantA:  1, wantB: 0,
		},
		{
			name: "empty population", n: 0,
			values: func(n int) []float32 { return nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := countTiers(AssignTiers(ids(tt.n), tt.values(tt.n), cfg))
			if got[churn.TierA] != tt.wantA || got[churn.TierB] != tt.wantB || got[churn.TierC] != tt.n-tt.wantA-tt.wantB {
				t.Errorf("tiers = A %d, B %d, C %d; want A %d, B %d, C %d", got[churn.TierA], got[churn.TierB], got[churn.TierC],
					tt.wantA, tt.wantB, tt.n-tt.wantA-tt.wantB)
			}
		})
	}
}

func TestAssignTiersRanksByValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 1000
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(rng.ExpFloat64() * 100) // a long tail, as real value is
	}
	tiers := AssignTiers(ids(n), vals, DefaultTierConfig())
	minOf := map[churn.ValueTier]float32{churn.TierA: math.MaxFloat32, churn.TierB: math.MaxFloat32}
	maxOf := map[churn.ValueTier]float32{}
	for i, tr := range tiers {
		minOf[tr] = min(minOf[tr], vals[i])
		maxOf[tr] = max(maxOf[tr], vals[i])
	}
	if minOf[churn.TierA] < maxOf[churn.TierB] || minOf[churn.TierB] < maxOf[churn.TierC] {
		t.Errorf("tiers overlap: A from %v, B %v..%v, C up to %v", minOf[churn.TierA], minOf[churn.TierB], maxOf[churn.TierB], maxOf[churn.TierC])
	}
	c := countTiers(tiers)
	if a := float64(c[churn.TierA]) / float64(n); a < 0.10 || a > 0.20 {
		t.Errorf("A holds %.0f%% of customers, want 10-20%%", 100*a)
	}
}

func TestAssignTiersDoesNotDependOnRowOrder(t *testing.T) {
	id := ids(50)
	vals := make([]float32, 50)
	for i := range vals {
		vals[i] = float32(i % 7) // many ties
	}
	first := AssignTiers(id, vals, DefaultTierConfig())
	perm := rand.New(rand.NewPCG(3, 4)).Perm(50)
	pid, pv := make([]string, 50), make([]float32, 50)
	for i, p := range perm {
		pid[i], pv[i] = id[p], vals[p]
	}
	second := AssignTiers(pid, pv, DefaultTierConfig())
	for i, p := range perm {
		if second[i] != first[p] {
			t.Fatalf("customer %s is %s in one order and %s in another", id[p], first[p], second[i])
		}
	}
}

func TestValueConfigValidateNamesTheSetting(t *testing.T) {
	tests := []struct {
		field  string
		change func(*ValueConfig)
	}{
		{"margin_rate", func(c *ValueConfig) { c.MarginRate = 0 }},
		{"margin_rate", func(c *ValueConfig) { c.MarginRate = 1.5 }},
		{"discount_rate", func(c *ValueConfig) { c.DiscountRate = -0.1 }},
		{"default_churn", func(c *ValueConfig) { c.DefaultChurn = 0 }},
		{"base_churn.one_year", func(c *ValueConfig) { c.BaseChurn["one_year"] = 2 }},
		{"tiers.a_value_share", func(c *ValueConfig) { c.Tiers.AValueShare = 1.2 }},
		{"tiers.a_min_customers", func(c *ValueConfig) { c.Tiers.AMinCustomers = 0.3 }},
		{"tiers.b_value_share", func(c *ValueConfig) { c.Tiers.BValueShare = 0.4 }},
	}
	if err := DefaultValueConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tt := range tests {
		c := DefaultValueConfig()
		tt.change(&c)
		err := c.Validate()
		if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != tt.field {
			t.Errorf("%s: err = %v", tt.field, err)
		}
		if err != nil && !strings.Contains(err.Error(), tt.field) {
			t.Errorf("message %q does not name %s", err, tt.field)
		}
	}
}
