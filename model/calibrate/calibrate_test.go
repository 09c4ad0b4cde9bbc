package calibrate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/eval"
)

// draw returns n raw scores uniform in (0.01, 0.99) and labels drawn with
// P(churn) = truth(score).
func draw(seed uint64, n int, truth func(s float64) float64) (scores, labels []float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	scores, labels = make([]float64, n), make([]float64, n)
	for i := range scores {
		scores[i] = 0.01 + 0.98*rng.Float64()
		if rng.Float64() < truth(scores[i]) {
			labels[i] = 1
		}
	}
	return scores, labels
}

func rawLogit(p float64) float64 { return math.Log(p / (1 - p)) }

func TestFitPlattRecoversAKnownSigmoid(t *testing.T) {
	tests := []struct{ slope, intercept float64 }{
		{2, -1},
		{0.5, 0.3},
		{1, 0},
	}
	for _, tt := range tests {
		scores, labels := draw(1, 50000, func(s float64) float64 {
			return sigmoid(tt.slope*rawLogit(s) + tt.intercept)
		})
		got, err := FitPlatt(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("want %v %v, got %.4f %.4f", tt.slope, tt.intercept, got.Slope, got.Intercept)
		// Standard errors at n=50000 are about 0.01-0.02.
		if math.Abs(got.Slope-tt.slope) > 0.06 || math.Abs(got.Intercept-tt.intercept) > 0.06 {
			t.Errorf("FitPlatt = slope %.4f intercept %.4f, want %v %v", got.Slope, got.Intercept, tt.slope, tt.intercept)
		}
	}
}

func TestFitPlattStaysFiniteOnSeparableClasses(t *testing.T) {
	// Every churner scores above every other row: plain maximum likelihood
	// would send the slope to infinity; Platt's targets keep it finite.
	got, err := FitPlatt([]float64{0.1, 0.2, 0.3, 0.7, 0.8, 0.9}, []float64{0, 0, 0, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.IsInf(got.Slope, 0) || math.IsNaN(got.Slope) || got.Slope <= 0 {
		t.Fatalf("slope %v, want finite and positive", got.Slope)
	}
	// The targets are 1/5 and 4/5, so the fit cannot be more confident than that.
	if p := got.Calibrate(0.9); p > 0.95 || p < 0.6 {
		t.Errorf("Calibrate(0.9) = %v, want near the smoothed target 0.8", p)
	}
}

func TestFitIsotonicPoolsViolatorsAndInterpolates(t *testing.T) {
	// Pools: 0.1 -> 0; {0.2, 0.3} violate (1 then 0) -> 0.5; the two 0.4 rows
	// tie -> 0.5, not a violation of 0.5; 0.5 -> 1.
	scores := []float64{0.3, 0.1, 0.2, 0.5, 0.4, 0.4}
	labels := []float64{0, 0, 1, 1, 1, 0}
	c, err := FitIsotonic(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	wantY := []float64{0, 0.5, 0.5, 0.5, 1}
	if len(c.X) != len(wantX) {
		t.Fatalf("knots %v -> %v, want %v -> %v", c.X, c.Y, wantX, wantY)
	}
	for i := range wantX {
		if c.X[i] != wantX[i] || !near(c.Y[i], wantY[i]) {
			t.Fatalf("knots %v -> %v, want %v -> %v", c.X, c.Y, wantX, wantY)
		}
	}
	tests := []struct{ p, want float64 }{
		{0.05, DefaultIsotonicEps}, // below the first knot, 0 clipped
		{0.1, DefaultIsotonicEps},
		{0.15, 0.25}, // halfway between 0 and 0.5
		{0.25, 0.5},  // flat inside the pooled block
		{0.45, 0.75},
		{0.5, 1 - DefaultIsotonicEps},
		{0.99, 1 - DefaultIsotonicEps},
	}
	for _, tt := range tests {
		if got := c.Calibrate(tt.p); !near(got, tt.want) {
			t.Errorf("Calibrate(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if !math.IsNaN(c.Calibrate(math.NaN())) {
		t.Error("Calibrate(NaN) is not NaN")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestIsotonicIsMonotoneAndNearIdentityOnCalibratedScores(t *testing.T) {
	scores, labels := draw(2, 100000, func(s float64) float64 { return s })
	c, err := FitIsotonic(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	prev, worst := -1.0, 0.0
	for p := 0.0; p <= 1; p += 0.001 {
		got := c.Calibrate(p)
		if got < prev {
			t.Fatalf("Calibrate(%v) = %v is below Calibrate(previous) = %v", p, got, prev)
		}
		prev = got
		if p >= 0.05 && p <= 0.95 {
			worst = max(worst, math.Abs(got-p))
		}
	}
	if worst > 0.05 {
		t.Errorf("calibrated input moved by up to %v, want within 0.05 of identity", worst)
	}
}

func TestCalibrationReducesLogLossOfCubedProbabilities(t *testing.T) {
	// The model ranks perfectly by the true probability p but reports p^3:
	// badly under-confident about churn.
	cube := func(seed uint64) (raw, labels []float64) {
		truth, labels := draw(seed, 20000, func(s float64) float64 { return s })
		raw = make([]float64, len(truth))
		for i, p := range truth {
			raw[i] = p * p * p
		}
		return raw, labels
	}
	fitRaw, fitLabels := cube(3)
	testRaw, testLabels := cube(4)
	before, _ := eval.LogLoss(testRaw, testLabels)
	platt, err := FitPlatt(fitRaw, fitLabels)
	if err != nil {
		t.Fatal(err)
	}
	iso, err := FitIsotonic(fitRaw, fitLabels)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Calibrator{"platt": platt, "isotonic": iso} {
		after, _ := eval.LogLoss(Apply(c, testRaw), testLabels)
		t.Logf("%s: log loss %.4f -> %.4f", name, before, after)
		// Raw ~0.82 here; the true probabilities score ~0.50 (the mean
		// entropy of a uniform p).
		if after > 0.52 || after >= before {
			t.Errorf("%s: log loss %v -> %v, want a drop to near the true 0.50", name, before, after)
		}
	}
}

func TestCalibratorsRejectOneClassAndBadScores(t *testing.T) {
	tests := []struct {
		name          string
		probs, labels []float64
		field         string
	}{
		{"one class", []float64{0.1, 0.2}, []float64{1, 1}, "labels"},
		{"NaN score", []float64{0.1, math.NaN()}, []float64{0, 1}, "scores"},
		{"not a probability", []float64{-0.1, 0.5}, []float64{0, 1}, "scores"},
		{"mismatched lengths", []float64{0.1, 0.5}, []float64{0}, "labels"},
	}
	for _, tt := range tests {
		_, perr := FitPlatt(tt.probs, tt.labels)
		_, ierr := FitIsotonic(tt.probs, tt.labels)
		for name, err := range map[string]error{"platt": perr, "isotonic": ierr} {
			if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != tt.field {
				t.Errorf("%s %s: err %v, want an invalid %s error", tt.name, name, err, tt.field)
			}
		}
	}
}
