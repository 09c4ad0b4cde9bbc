package calibrate

import (
	"testing"

	"github.com/telcoretain/churn"
)

func TestChooseFallsBackToPlattWithFewChurners(t *testing.T) {
	// About 5% churn in 2000 rows: ~100 churners, below the 200 needed.
	truth := func(s float64) float64 { return 0.1 * s }
	fitS, fitL := draw(6, 2000, truth)
	valS, valL := draw(7, 2000, truth)
	ch, err := Choose(fitS, fitL, valS, valL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Method != MethodPlatt || ch.IsotonicTried {
		t.Errorf("method %s, isotonic tried %v: want Platt without trying isotonic", ch.Method, ch.IsotonicTried)
	}
	if _, ok := ch.Calibrator.(*Platt); !ok {
		t.Errorf("calibrator is %T", ch.Calibrator)
	}
	if ch.PlattLogLoss >= ch.RawLogLoss {
		t.Errorf("Platt log loss %v not below raw %v on over-confident scores", ch.PlattLogLoss, ch.RawLogLoss)
	}
}

func TestChoosePrefersIsotonicWhenTheMiscalibrationIsNotASigmoid(t *testing.T) {
	// Churn jumps from 10% to 60% at score 0.5 and is flat on either side: no
	// sigmoid of the logit fits a step, isotonic regression does.
	step := func(s float64) float64 {
		if s < 0.5 {
			return 0.1
		}
		return 0.6
	}
	fitS, fitL := draw(8, 20000, step)
	valS, valL := draw(9, 20000, step)
	ch, err := Choose(fitS, fitL, valS, valL, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw %.4f platt %.4f isotonic %.4f", ch.RawLogLoss, ch.PlattLogLoss, ch.IsotonicLogLoss)
	if ch.Method != MethodIsotonic || !ch.IsotonicTried || ch.IsotonicLogLoss >= ch.PlattLogLoss {
		t.Errorf("method %s (platt %v, isotonic %v), want isotonic", ch.Method, ch.PlattLogLoss, ch.IsotonicLogLoss)
	}
	if _, ok := ch.Calibrator.(*Isotonic); !ok {
		t.Errorf("calibrator is %T", ch.Calibrator)
	}
}

func TestChooseRejectsABadValidationSplit(t *testing.T) {
	fitS, fitL := draw(10, 100, func(s float64) float64 { return s })
	_, err := Choose(fitS, fitL, []float64{0.2, 1.3}, []float64{0, 1}, 0)
	if churn.ErrorField(err) != "scores" {
		t.Errorf("err %v, want a scores error", err)
	}
}
