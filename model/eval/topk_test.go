package eval

import (
	"testing"

	"github.com/telcoretain/churn"
)

// twentyRows is a 20-row holdout with 4 churners; scores fall from 0.95 to
// 0.00 in steps of 0.05 and the churners sit at ranks 1, 4, 5 and 12.
func twentyRows() (scores, labels []float64) {
	scores, labels = make([]float64, 20), make([]float64, 20)
	for i := range scores {
		scores[i] = float64(19-i) * 0.05
	}
	for _, r := range []int{0, 3, 4, 11} {
		labels[r] = 1
	}
	return scores, labels
}

func TestTopFractionLiftAndCapture(t *testing.T) {
	scores, labels := twentyRows()
	// Ranks 4, 5 (churners) and 6 (not) share a score, so a cut at 5 rows
	// falls inside the tie.
	tied := append([]float64(nil), scores...)
	tied[4], tied[5] = tied[3], tied[3]
	tests := []struct {
		name     string
		scores   []float64
		fraction float64
		want     TopK
	}{
		// Top 10% = 2 rows (ranks 1, 2): 1 churner. Base rate 4/20 = 0.2.
		{"top 10%", scores, 0.1, TopK{Fraction: 0.1, Rows: 2, Positives: 1, Precision: 0.5, Lift: 2.5, Capture: 0.25, Threshold: 0.9}},
		// Top 25% = 5 rows: ranks 1, 4, 5 churn: 3/5 = 0.6, lift 3, capture 3/4.
		{"top 25%", scores, 0.25, TopK{Fraction: 0.25, Rows: 5, Positives: 3, Precision: 0.6, Lift: 3, Capture: 0.75, Threshold: 0.75}},
		// Top 25% = 5 rows, but ranks 4-6 tie (2 churners of 3) and only 2 of
		// their 3 slots are inside: 1 + 2 x 2/3 = 7/3 churners expected.
		{"tie at the cut is shared", tied, 0.25, TopK{Fraction: 0.25, Rows: 5, Positives: 1 + 4.0/3, Precision: (1 + 4.0/3) / 5,
			Lift: (1 + 4.0/3) / 5 / 0.2, Capture: (1 + 4.0/3) / 4, Threshold: tied[3], TiedAtCut: 3}},
		{"everything", scores, 1, TopK{Fraction: 1, Rows: 20, Positives: 4, Precision: 0.2, Lift: 1, Capture: 1, Threshold: 0}},
		// 0.07 x 20 = 1.4 rounds up to 2 rows.
		{"rows round up", scores, 0.07, TopK{Fraction: 0.07, Rows: 2, Positives: 1, Precision: 0.5, Lift: 2.5, Capture: 0.25, Threshold: 0.9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TopFraction(tt.scores, labels, tt.fraction)
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			if got.Rows != w.Rows || got.TiedAtCut != w.TiedAtCut || !near(got.Fraction, w.Fraction, 0) ||
				!near(got.Positives, w.Positives, 1e-12) || !near(got.Precision, w.Precision, 1e-12) ||
				!near(got.Lift, w.Lift, 1e-12) || !near(got.Capture, w.Capture, 1e-12) || !near(got.Threshold, w.Threshold, 1e-12) {
				t.Errorf("TopFraction =\n %+v, want\n %+v", got, w)
			}
		})
	}
}

func TestTopFractionOfConstantScoreHasLiftOne(t *testing.T) {
	scores := make([]float64, 20)
	_, labels := twentyRows()
	got, err := TopFraction(scores, labels, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got.Lift, 1, 1e-12) || got.TiedAtCut != 20 {
		t.Errorf("constant score: lift %v tied %d, want lift 1 with all 20 tied", got.Lift, got.TiedAtCut)
	}
}

func TestTopFractionRejectsBadFraction(t *testing.T) {
	scores, labels := twentyRows()
	for _, f := range []float64{0, -0.1, 1.5} {
		if _, err := TopFraction(scores, labels, f); churn.ErrorField(err) != "fraction" {
			t.Errorf("fraction %v: err %v, want a fraction error", f, err)
		}
	}
	if _, err := TopFraction(scores, make([]float64, 20), 0.1); churn.ErrorField(err) != "labels" {
		t.Errorf("no churners: err %v, want a labels error", err)
	}
}
