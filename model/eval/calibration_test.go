package eval

import (
	"testing"

	"github.com/telcoretain/churn"
)

func TestCalibrationEqualWidthBinsEdgesAndCounts(t *testing.T) {
	// 0.3 and 0.7 sit exactly on edges and belong to the bin they open;
	// 1.0 belongs to the last bin.
	probs := []float64{0, 0.05, 0.1, 0.15, 0.3, 0.7, 0.95, 1.0, 1.0}
	labels := []float64{0, 0, 0, 1, 0, 1, 1, 1, 0}
	got, err := Calibration(probs, labels, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []CalibrationBin{
		{Lo: 0, Hi: 0.1, Count: 2, MeanPredicted: 0.025, ObservedRate: 0},
		{Lo: 0.1, Hi: 0.2, Count: 2, MeanPredicted: 0.125, ObservedRate: 0.5},
		{Lo: 0.2, Hi: 0.3},
		{Lo: 0.3, Hi: 0.4, Count: 1, MeanPredicted: 0.3, ObservedRate: 0},
		{Lo: 0.4, Hi: 0.5},
		{Lo: 0.5, Hi: 0.6},
		{Lo: 0.6, Hi: 0.7},
		{Lo: 0.7, Hi: 0.8, Count: 1, MeanPredicted: 0.7, ObservedRate: 1},
		{Lo: 0.8, Hi: 0.9},
		{Lo: 0.9, Hi: 1, Count: 3, MeanPredicted: 2.95 / 3, ObservedRate: 2.0 / 3},
	}
	if got.Binning != EqualWidth || len(got.Bins) != len(want) {
		t.Fatalf("binning %q with %d bins, want %q with %d", got.Binning, len(got.Bins), EqualWidth, len(want))
	}
	for i, w := range want {
		g := got.Bins[i]
		if g.Count != w.Count || !near(g.Lo, w.Lo, 1e-12) || !near(g.Hi, w.Hi, 1e-12) ||
			!near(g.MeanPredicted, w.MeanPredicted, 1e-12) || !near(g.ObservedRate, w.ObservedRate, 1e-12) {
			t.Errorf("bin %d = %+v, want %+v", i, g, w)
		}
	}
	// |gap| x count: 0.025x2 + 0.375x2 + 0.3x1 + 0.3x1 + (2.95/3-2/3)x3 = 2.35, over 9 rows.
	if wantECE := 2.35 / 9; !near(got.ECE, wantECE, 1e-12) {
		t.Errorf("ECE = %v, want %v", got.ECE, wantECE)
	}
}

func TestCalibrationEqualFrequencyKeepsTiesInOneBin(t *testing.T) {
	probs := []float64{0.8, 0.2, 0.1, 0.5, 0.2, 0.7, 0.2, 0.6}
	labels := []float64{1, 0, 0, 1, 1, 1, 0, 0}
	got, err := Calibration(probs, labels, 4, EqualFrequency)
	if err != nil {
		t.Fatal(err)
	}
	// Sorted: 0.1 0.2 0.2 0.2 | 0.5 0.6 | 0.7 0.8. The first cut (after 2
	// rows) moves past the 0.2 tie, which swallows the second bin.
	want := []CalibrationBin{
		{Lo: 0.1, Hi: 0.2, Count: 4, MeanPredicted: 0.175, ObservedRate: 0.25},
		{Lo: 0.5, Hi: 0.6, Count: 2, MeanPredicted: 0.55, ObservedRate: 0.5},
		{Lo: 0.7, Hi: 0.8, Count: 2, MeanPredicted: 0.75, ObservedRate: 1},
	}
	if len(got.Bins) != len(want) {
		t.Fatalf("%d bins %+v, want %d", len(got.Bins), got.Bins, len(want))
	}
	for i, w := range want {
		g := got.Bins[i]
		if g.Count != w.Count || g.Lo != w.Lo || g.Hi != w.Hi ||
			!near(g.MeanPredicted, w.MeanPredicted, 1e-12) || !near(g.ObservedRate, w.ObservedRate, 1e-12) {
			t.Errorf("bin %d = %+v, want %+v", i, g, w)
		}
	}
	// (0.075x4 + 0.05x2 + 0.25x2) / 8
	if wantECE := 0.9 / 8; !near(got.ECE, wantECE, 1e-12) {
		t.Errorf("ECE = %v, want %v", got.ECE, wantECE)
	}
}

func TestCalibrationRejectsBadOptions(t *testing.T) {
	probs, labels := []float64{0.2, 0.8}, []float64{0, 1}
	if _, err := Calibration(probs, labels, -1, EqualWidth); churn.ErrorField(err) != "bins" {
		t.Errorf("bins -1: err %v, want a bins error", err)
	}
	if _, err := Calibration(probs, labels, 10, "quantile"); churn.ErrorField(err) != "binning" {
		t.Errorf("binning quantile: err %v, want a binning error", err)
	}
	if _, err := Calibration([]float64{0.2, 1.2}, labels, 10, EqualWidth); churn.ErrorField(err) != "scores" {
		t.Errorf("probability 1.2: err %v, want a scores error", err)
	}
}
