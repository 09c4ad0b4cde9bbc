package calibrate

import (
	"math"

	"github.com/telcoretain/churn/model/eval"
)

// Calibrator maps a raw model score (a probability in [0, 1]) to a calibrated
// probability. Isotonic is non-decreasing by construction and Platt is
// whenever the raw scores rank churners higher (a positive slope), so
// calibration keeps the ranking a model's AUC was measured on.
type Calibrator interface {
	Calibrate(p float64) float64
}

// Method names a calibration method in files and reports.
type Method string

// Methods.
const (
	MethodPlatt    Method = "platt"
	MethodIsotonic Method = "isotonic"
)

// inputEps keeps the logit of a raw score finite: models do output exact 0
// and 1 (a saturated tree ensemble), and logit(0) would be -Inf.
const inputEps = 1e-15

// Apply calibrates every score into a new slice.
func Apply(c Calibrator, probs []float64) []float64 {
	out := make([]float64, len(probs))
	for i, p := range probs {
		out[i] = c.Calibrate(p)
	}
	return out
}

// check validates training input for a calibrator: labelled probabilities with
// both classes present, since neither method can learn a rate from one class.
func check(op string, probs, labels []float64) (pos, neg int, err error) {
	pos, neg, err = eval.CheckProbabilities(op, probs, labels)
	if err != nil {
		return 0, 0, err
	}
	if pos == 0 || neg == 0 {
		return 0, 0, invalidClasses(op, pos, neg)
	}
	return pos, neg, nil
}

func logit(p float64) float64 {
	p = min(max(p, inputEps), 1-inputEps)
	return math.Log(p / (1 - p))
}

// sigmoid is 1/(1+exp(-z)) computed without overflow for large |z|.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
