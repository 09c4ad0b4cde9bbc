package calibrate

import (
	"math"

	"github.com/telcoretain/churn"
)

// Platt is Platt scaling: Calibrate(p) = sigmoid(Slope x logit(p) + Intercept).
// Slope 1 and Intercept 0 is the identity; Slope > 1 spreads over-cautious
// scores apart, Slope < 1 tempers over-confident ones. (Platt's paper writes
// 1/(1+exp(A f + B)), i.e. A = -Slope, B = -Intercept.)
type Platt struct {
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
}

// Calibrate returns the calibrated probability of raw score p. Scores at 0 or
// 1 are moved 1e-15 inside so their logit is finite.
func (c *Platt) Calibrate(p float64) float64 {
	return sigmoid(c.Slope*logit(p) + c.Intercept)
}

// Newton iteration limits from Lin, Lin and Weng, "A note on Platt's
// probabilistic outputs for support vector machines" (2007), whose
// algorithm FitPlatt follows: it stays stable where Platt's original
// pseudo-code overflows or stalls.
const (
	plattMaxIter = 100
	plattMinStep = 1e-10
	plattSigma   = 1e-12 // keeps the Hessian positive definite
	plattGradTol = 1e-5
)

// FitPlatt fits Platt scaling to raw scores and labels by Newton's method with
// a backtracking line search, maximising the likelihood of Platt's smoothed
// targets: (N+ + 1)/(N+ + 2) for churners and 1/(N- + 2) for the others. The
// smoothing is a prior that keeps the fit finite when the classes are
// separable and shrinks it toward the base rate when churners are few. Both
// classes are needed.
func FitPlatt(probs, labels []float64) (*Platt, error) {
	const op = "fit platt"
	pos, neg, err := check(op, probs, labels)
	if err != nil {
		return nil, err
	}
	hi := (float64(pos) + 1) / (float64(pos) + 2)
	lo := 1 / (float64(neg) + 2)
	f := make([]float64, len(probs))
	t := make([]float64, len(probs))
	for i, p := range probs {
		f[i] = logit(p)
		t[i] = lo
		if labels[i] == 1 {
			t[i] = hi
		}
	}
	// Platt's sign convention inside: P(churn) = 1/(1+exp(a f + b)).
	a, b := 0.0, math.Log((float64(neg)+1)/(float64(pos)+1))
	fval := plattObjective(f, t, a, b)
	for range plattMaxIter {
		h11, h22, h21, g1, g2 := plattSigma, plattSigma, 0.0, 0.0, 0.0
		for i, fi := range f {
			z := fi*a + b
			var p, q float64 // p = P(churn), q = 1 - p
			if z >= 0 {
				e := math.Exp(-z)
				p, q = e/(1+e), 1/(1+e)
			} else {
				e := math.Exp(z)
				p, q = 1/(1+e), e/(1+e)
			}
			d2 := p * q
			h11 += fi * fi * d2
			h22 += d2
			h21 += fi * d2
			d1 := t[i] - p
			g1 += fi * d1
			g2 += d1
		}
		if math.Abs(g1) < plattGradTol && math.Abs(g2) < plattGradTol {
			break
		}
		det := h11*h22 - h21*h21
		da := -(h22*g1 - h21*g2) / det
		db := -(-h21*g1 + h11*g2) / det
		gd := g1*da + g2*db
		step := 1.0
		for ; step >= plattMinStep; step /= 2 {
			na, nb := a+step*da, b+step*db
			if nf := plattObjective(f, t, na, nb); nf < fval+1e-4*step*gd {
				a, b, fval = na, nb, nf
				break
			}
		}
		if step < plattMinStep {
			// No step improves the likelihood: we are at its optimum as
			// closely as floating point allows.
			break
		}
	}
	if math.IsNaN(a) || math.IsNaN(b) {
		return nil, churn.Errorf(churn.KindInternal, op, "Newton's method diverged")
	}
	return &Platt{Slope: -a, Intercept: -b}, nil
}

// plattObjective is the negative log-likelihood of targets t under
// P = 1/(1+exp(a f + b)), written so that exp never overflows.
func plattObjective(f, t []float64, a, b float64) float64 {
	var sum float64
	for i, fi := range f {
		z := fi*a + b
		if z >= 0 {
			sum += t[i]*z + math.Log1p(math.Exp(-z))
		} else {
			sum += (t[i]-1)*z + math.Log1p(math.Exp(z))
		}
	}
	return sum
}

func invalidClasses(op string, pos, neg int) error {
	return churn.Invalid(op, "labels", "%d positive and %d negative rows: calibration needs both classes", pos, neg)
}
