package calibrate

import (
	"github.com/telcoretain/churn/model/eval"
)

// DefaultMinIsotonicPositives is how many churners the fitting split needs
// before isotonic regression is tried. With fewer, its steps follow noise and
// Platt's two parameters generalise better.
const DefaultMinIsotonicPositives = 200

// Choice is the calibrator Choose kept and the validation log losses behind
// the decision.
type Choice struct {
	Calibrator Calibrator
	Method     Method
	// Validation log loss of the raw scores and of each calibrated version.
	RawLogLoss   float64
	PlattLogLoss float64
	// IsotonicLogLoss is 0 when isotonic was not tried (IsotonicTried false).
	IsotonicLogLoss float64
	IsotonicTried   bool
}

// Choose fits Platt scaling on the fit split and, when the fit split has at
// least minPositives churners (DefaultMinIsotonicPositives when 0), isotonic
// regression too; it keeps the one with the lower log loss on the validation
// split (Platt on a tie, being simpler). The calibrator is not refitted on the
// validation rows, so they stay an honest check of it.
func Choose(fitProbs, fitLabels, validProbs, validLabels []float64, minPositives int) (*Choice, error) {
	pos, _, err := check("choose calibrator: fit split", fitProbs, fitLabels)
	if err != nil {
		return nil, err
	}
	if _, _, err := eval.CheckProbabilities("choose calibrator: validation split", validProbs, validLabels); err != nil {
		return nil, err
	}
	if minPositives == 0 {
		minPositives = DefaultMinIsotonicPositives
	}
	platt, err := FitPlatt(fitProbs, fitLabels)
	if err != nil {
		return nil, err
	}
	ch := &Choice{Calibrator: platt, Method: MethodPlatt}
	// The inputs are validated above, so the log losses cannot fail.
	ch.RawLogLoss, _ = eval.LogLoss(validProbs, validLabels)
	ch.PlattLogLoss, _ = eval.LogLoss(Apply(platt, validProbs), validLabels)
	if pos < minPositives {
		return ch, nil
	}
	iso, err := FitIsotonic(fitProbs, fitLabels)
	if err != nil {
		return nil, err
	}
	ch.IsotonicTried = true
	ch.IsotonicLogLoss, _ = eval.LogLoss(Apply(iso, validProbs), validLabels)
	if ch.IsotonicLogLoss < ch.PlattLogLoss {
		ch.Calibrator, ch.Method = iso, MethodIsotonic
	}
	return ch, nil
}
