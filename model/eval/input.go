package eval

import (
	"math"

	"github.com/telcoretain/churn"
)

// Float64s converts float32 values (churn.Matrix labels, model outputs) to the
// float64 slices this package takes. NaN stays NaN, so unknown labels are still
// rejected by the metrics rather than silently read as 0.
func Float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// classCounts validates scores and labels for op and counts the classes.
// probs additionally requires every score to lie in [0, 1].
func classCounts(op string, scores, labels []float64, probs bool) (pos, neg int, err error) {
	if len(scores) != len(labels) {
		return 0, 0, churn.Invalid(op, "labels", "%d labels for %d scores", len(labels), len(scores))
	}
	if len(scores) == 0 {
		return 0, 0, churn.Invalid(op, "scores", "no rows")
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return 0, 0, churn.Invalid(op, "scores", "row %d is NaN", i)
		}
		if probs && (s < 0 || s > 1) {
			return 0, 0, churn.Invalid(op, "scores", "row %d is %g, not a probability in [0, 1]", i, s)
		}
	}
	for i, l := range labels {
		switch l {
		case 1:
			pos++
		case 0:
			neg++
		default:
			return 0, 0, churn.Invalid(op, "labels", "row %d is %g, want 0 or 1", i, l)
		}
	}
	return pos, neg, nil
}

// needBoth reports the error for a metric that is undefined without both classes.
func needBoth(op string, pos, neg int) error {
	if pos == 0 {
		return churn.Invalid(op, "labels", "no positive rows (label 1): the metric is undefined with one class")
	}
	if neg == 0 {
		return churn.Invalid(op, "labels", "no negative rows (label 0): the metric is undefined with one class")
	}
	return nil
}

// needPositives reports the error for a metric that is undefined without positives.
func needPositives(op string, pos int) error {
	if pos == 0 {
		return churn.Invalid(op, "labels", "no positive rows (label 1): the metric is undefined")
	}
	return nil
}

// CheckProbabilities validates labelled probabilities exactly as the metrics
// of this package do (same lengths, at least one row, no NaN, probabilities in
// [0, 1], labels 0 or 1) and counts the classes, so that packages fitting on
// the same data (calibrate) reject bad input with the same messages.
func CheckProbabilities(op string, probs, labels []float64) (pos, neg int, err error) {
	return classCounts(op, probs, labels, true)
}
