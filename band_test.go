package churn

import "testing"

func TestBandsByShareCutAtTheRankOfEachShare(t *testing.T) {
	p := []float64{0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.05, 0.4, 0.6, 0.8}
	high, medium := Bands{ByShare: true, High: 0.1, Medium: 0.3}.Cuts(p)
	if high != 0.9 || medium != 0.7 {
		t.Fatalf("cuts %g %g, want 0.9 (top 10%%) and 0.7 (top 30%%)", high, medium)
	}
	counts := map[RiskBand]int{}
	for _, v := range p {
		counts[BandOf(v, high, medium)]++
	}
	if counts[RiskHigh] != 1 || counts[RiskMedium] != 2 || counts[RiskLow] != 7 {
		t.Fatalf("bands %v, want 1 high, 2 medium, 7 low", counts)
	}
}

func TestBandsByProbabilityUseTheThresholdsAsGiven(t *testing.T) {
	b := Bands{High: 0.5, Medium: 0.2}
	high, medium := b.Cuts([]float64{0.99, 0.01})
	if high != 0.5 || medium != 0.2 {
		t.Fatalf("cuts %g %g, want the thresholds", high, medium)
	}
	for _, c := range []struct {
		p    float64
		want RiskBand
	}{{0.5, RiskHigh}, {0.49, RiskMedium}, {0.2, RiskMedium}, {0.19, RiskLow}} {
		if got := BandOf(c.p, high, medium); got != c.want {
			t.Errorf("BandOf(%g) = %s, want %s", c.p, got, c.want)
		}
	}
}

func TestBandsValidateRejectsThresholdsOutOfOrder(t *testing.T) {
	for _, c := range []struct {
		name string
		b    Bands
		ok   bool
	}{
		{"default", DefaultBands(), true},
		{"zero share", Bands{ByShare: true, High: 0, Medium: 0.2}, false},
		{"medium share below high", Bands{ByShare: true, High: 0.3, Medium: 0.2}, false},
		{"medium threshold above high", Bands{High: 0.3, Medium: 0.4}, false},
		{"above one", Bands{High: 1.5, Medium: 0.4}, false},
	} {
		if err := c.b.Validate(); (err == nil) != c.ok || (err != nil && ErrorKind(err) != KindInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestTiersAndBandsKeepTheirOrder(t *testing.T) {
	if TierA.Rank() != 0 || TierC.Rank() != 2 || ValueTier("D").Rank() != -1 {
		t.Fatal("tier ranks")
	}
	if RiskHigh.Rank() != 0 || RiskLow.Rank() != 2 || RiskBand("x").Rank() != -1 {
		t.Fatal("band ranks")
	}
	if tier, ok := TierOfRank(1); !ok || tier != TierB {
		t.Fatalf("TierOfRank(1) = %q %v", tier, ok)
	}
	if _, ok := TierOfRank(3); ok {
		t.Fatal("TierOfRank(3) must fail")
	}
	if _, err := ParseValueTier("a"); err == nil {
		t.Fatal(`ParseValueTier("a") must fail: tiers are upper case`)
	}
	if b, err := ParseRiskBand("medium"); err != nil || b != RiskMedium {
		t.Fatalf("ParseRiskBand(medium) = %q %v", b, err)
	}
}
