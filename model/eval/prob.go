package eval

import "math"

// LogLossEps is how far from 0 and 1 LogLoss clips probabilities. A model that
// says 0 for a churner would otherwise score +Inf and make every comparison
// between models meaningless; clipped, that row costs -ln(1e-15) ≈ 34.5.
const LogLossEps = 1e-15

// LogLoss returns the mean negative log-likelihood of the labels under the
// predicted probabilities (natural log), with probabilities clipped to
// [LogLossEps, 1-LogLossEps]. Lower is better; always guessing the base rate q
// scores -(q ln q + (1-q) ln(1-q)). Scores must be probabilities in [0, 1].
func LogLoss(probs, labels []float64) (float64, error) {
	if _, _, err := classCounts("log loss", probs, labels, true); err != nil {
		return 0, err
	}
	return logLoss(probs, labels), nil
}

// logLoss is LogLoss on validated input.
func logLoss(probs, labels []float64) float64 {
	var sum float64
	for i, p := range probs {
		p = min(max(p, LogLossEps), 1-LogLossEps)
		if labels[i] == 1 {
			sum -= math.Log(p)
		} else {
			sum -= math.Log1p(-p)
		}
	}
	return sum / float64(len(probs))
}

// Brier returns the mean squared difference between predicted probability and
// label: 0 is perfect, 0.25 is a constant 0.5. Unlike log loss it stays finite
// for confident mistakes, so one bad row cannot dominate it. Scores must be
// probabilities in [0, 1].
func Brier(probs, labels []float64) (float64, error) {
	if _, _, err := classCounts("brier score", probs, labels, true); err != nil {
		return 0, err
	}
	var sum float64
	for i, p := range probs {
		d := p - labels[i]
		sum += d * d
	}
	return sum / float64(len(probs)), nil
}
