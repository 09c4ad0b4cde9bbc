package eval

import (
	"math"
	"slices"
	"testing"

	"github.com/telcoretain/churn"
)

func TestHistogramMeasuresTheSharesOfTiedValues(t *testing.T) {
	nan := churn.NaN32
	tests := []struct {
		name        string
		values      []float32
		wantEdges   []float64
		wantShares  []float64
		wantMissing float64
	}{
		{"distinct values make equal bins", []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			[]float64{2, 3, 4, 5, 6, 7, 8, 9, 10}, []float64{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}, 0},
		{"mostly zero counts merge into one bin", []float32{0, 0, 0, 0, 0, 0, 0, 1, 1, 2},
			[]float64{1, 2}, []float64{.7, .2, .1}, 0},
		{"missing values have their own share", []float32{nan, nan, 1, 1, 2, 2, 3, 3, 4, 4},
			[]float64{2, 3, 4}, []float64{.2, .2, .2, .2}, .2},
		{"one value is one bin", []float32{5, 5, 5}, nil, []float64{1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistogram(tt.values, 10)
			if !slices.Equal(h.Edges, tt.wantEdges) || !nearAll(h.Shares, tt.wantShares) || math.Abs(h.Missing-tt.wantMissing) > 1e-12 {
				t.Fatalf("edges %v shares %v missing %g, want %v %v %g", h.Edges, h.Shares, h.Missing, tt.wantEdges, tt.wantShares, tt.wantMissing)
			}
		})
	}
}

func TestHistogramBinsAFloat64ScoreLikeItsFloat32Copy(t *testing.T) {
	// Scores are calibrated in float64 and stored as Float32; a tied score
	// must land in the same bin either way.
	p := 0.1 + 0.2 // not exactly representable in float32
	ref := []float32{float32(p), float32(p), float32(p), 0.9}
	h := NewHistogram(ref, 10)
	got, _ := h.Distribution([]float32{float32(p)})
	if got[0] != 1 {
		t.Fatalf("shares %v with edges %v, want the stored score in bin 0", got, h.Edges)
	}
}

func TestPSIIsZeroForTheReferenceAndGrowsWithTheShift(t *testing.T) {
	ref := make([]float32, 1000)
	for i := range ref {
		ref[i] = float32(i)
	}
	h := NewHistogram(ref, 10)
	shifted := func(by float32) []float32 {
		out := make([]float32, len(ref))
		for i, v := range ref {
			out[i] = v + by
		}
		return out
	}
	tests := []struct {
		name     string
		values   []float32
		min, max float64
	}{
		{"the reference itself", ref, 0, 1e-12},
		{"a small shift stays small", shifted(10), 0.001, 0.01},
		{"a tenth of the range empties the first bin", shifted(100), 0.5, 1},
		{"half shifted up", shifted(500), 1, 10},
		{"all above the last edge: the empty bins are floored", shifted(5000), 5, 20},
		{"all missing", []float32{churn.NaN32, churn.NaN32}, 5, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PSI(h, tt.values); !(got >= tt.min && got <= tt.max) {
				t.Fatalf("PSI %g, want within [%g, %g]", got, tt.min, tt.max)
			}
		})
	}
	if !math.IsNaN(PSI(h, nil)) || !math.IsNaN(PSI(Histogram{}, ref)) {
		t.Fatal("PSI of nothing, or against no reference, must be NaN")
	}
}

func nearAll(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) < 1e-9 })
}
