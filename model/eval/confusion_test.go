package eval

import (
	"math"
	"testing"

	"github.com/telcoretain/churn"
)

func TestConfusionAtFlagsScoresAtOrAboveThreshold(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.6, 0.4, 0.3, 0.1}
	labels := []float64{1, 0, 1, 1, 0, 0}
	tests := []struct {
		threshold float64
		want      Confusion
	}{
		// Flagged 0.9 (TP), 0.8 (FP), 0.6 (TP, on the threshold); missed 0.4.
		{0.6, Confusion{Threshold: 0.6, TP: 2, FP: 1, TN: 2, FN: 1, Precision: 2.0 / 3, Recall: 2.0 / 3, F1: 2.0 / 3, Accuracy: 4.0 / 6}},
		{0, Confusion{Threshold: 0, TP: 3, FP: 3, Precision: 0.5, Recall: 1, F1: 2.0 / 3, Accuracy: 0.5}},
		// Nothing flagged: precision and F1 are 0, not NaN.
		{0.95, Confusion{Threshold: 0.95, TN: 3, FN: 3, Accuracy: 0.5}},
	}
	for _, tt := range tests {
		got, err := ConfusionAt(scores, labels, tt.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if !sameConfusion(got, tt.want) {
			t.Errorf("ConfusionAt(%v) =\n %+v, want\n %+v", tt.threshold, got, tt.want)
		}
	}
	if _, err := ConfusionAt(scores, labels, math.NaN()); churn.ErrorField(err) != "threshold" {
		t.Errorf("NaN threshold: err %v, want a threshold error", err)
	}
}

func sameConfusion(a, b Confusion) bool {
	return a.TP == b.TP && a.FP == b.FP && a.TN == b.TN && a.FN == b.FN && a.Threshold == b.Threshold &&
		near(a.Precision, b.Precision, 1e-12) && near(a.Recall, b.Recall, 1e-12) &&
		near(a.F1, b.F1, 1e-12) && near(a.Accuracy, b.Accuracy, 1e-12)
}

func TestMaxF1PicksTheBestScoreAsThreshold(t *testing.T) {
	// F1 at each score as threshold: 0.9: 2/4, 0.8: 2/5, 0.6: 4/6,
	// 0.4: 6/7, 0.3: 6/8, 0.1: 6/9. Best is 0.4.
	scores := []float64{0.1, 0.9, 0.3, 0.6, 0.4, 0.8}
	labels := []float64{0, 1, 0, 1, 1, 0}
	got, err := MaxF1(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := Confusion{Threshold: 0.4, TP: 3, FP: 1, TN: 2, FN: 0, Precision: 0.75, Recall: 1, F1: 6.0 / 7, Accuracy: 5.0 / 6}
	if !sameConfusion(got, want) {
		t.Errorf("MaxF1 =\n %+v, want\n %+v", got, want)
	}
	// The same matrix as asking for that threshold directly.
	at, err := ConfusionAt(scores, labels, got.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	if !sameConfusion(got, at) {
		t.Errorf("MaxF1 %+v differs from ConfusionAt its threshold %+v", got, at)
	}
}

func TestMaxF1KeepsTheHigherThresholdOnEqualF1(t *testing.T) {
	// Threshold 0.9: TP 1, FN 1 -> F1 2/3; threshold 0.5: TP 2, FP 2 -> F1 2/3.
	got, err := MaxF1([]float64{0.9, 0.5, 0.5, 0.5}, []float64{1, 1, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if got.Threshold != 0.9 {
		t.Errorf("threshold %v, want 0.9 (fewer rows flagged for the same F1)", got.Threshold)
	}
}

func TestThresholdForTopFlagsTiesAtTheCut(t *testing.T) {
	scores := []float64{0.2, 0.9, 0.5, 0.7, 0.5, 0.1, 0.3, 0.5, 0.05, 0.6}
	tests := []struct {
		fraction float64
		want     float64
	}{
		{0.1, 0.9},
		{0.3, 0.6},
		// 4th highest is 0.5, tied with two more: 6 rows get flagged.
		{0.4, 0.5},
		{1, 0.05},
	}
	for _, tt := range tests {
		got, err := ThresholdForTop(scores, tt.fraction)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("ThresholdForTop(%v) = %v, want %v", tt.fraction, got, tt.want)
		}
	}
	if _, err := ThresholdForTop(nil, 0.1); churn.ErrorField(err) != "scores" {
		t.Errorf("no rows: err %v, want a scores error", err)
	}
	if _, err := ThresholdForTop(scores, 0); churn.ErrorField(err) != "fraction" {
		t.Errorf("fraction 0: err %v, want a fraction error", err)
	}
}
