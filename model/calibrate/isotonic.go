package calibrate

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// DefaultIsotonicEps is how far from 0 and 1 isotonic calibration clips. A
// step fitted on a stretch with no churners is exactly 0, which would claim
// certainty and give an infinite log loss to the first churner found there.
const DefaultIsotonicEps = 1e-6

// Isotonic is isotonic-regression calibration: a non-decreasing piecewise
// linear function through knots (X[i], Y[i]). Each fitted step contributes a
// knot at its lowest and highest raw score, so the function is flat within a
// step and linear between steps; below X[0] and above the last knot it is
// flat. Results are clipped to [Eps, 1-Eps].
type Isotonic struct {
	X   []float64 `json:"x"` // raw scores, strictly increasing
	Y   []float64 `json:"y"` // calibrated probabilities, non-decreasing
	Eps float64   `json:"eps"`
}

// Calibrate returns the calibrated probability of raw score p; NaN stays NaN.
func (c *Isotonic) Calibrate(p float64) float64 {
	if math.IsNaN(p) {
		return p
	}
	n := len(c.X)
	var y float64
	switch i := sort.SearchFloat64s(c.X, p); {
	case i == 0:
		y = c.Y[0]
	case i == n:
		y = c.Y[n-1]
	case c.X[i] == p:
		y = c.Y[i]
	default:
		x0, x1 := c.X[i-1], c.X[i]
		y = c.Y[i-1] + (c.Y[i]-c.Y[i-1])*(p-x0)/(x1-x0)
	}
	return min(max(y, c.Eps), 1-c.Eps)
}

// block is a run of raw scores pooled to one value by PAV.
type block struct {
	lo, hi float64 // lowest and highest raw score in the block
	sum    float64 // churners in the block
	weight float64 // rows in the block
}

func (b block) mean() float64 { return b.sum / b.weight }

// FitIsotonic fits isotonic regression of labels on raw scores by
// pool-adjacent-violators: rows are sorted by score, rows with equal scores
// are pooled first (a model cannot tell them apart), then adjacent blocks
// whose churn rates decrease are merged until the rates never decrease. Both
// classes are needed. It costs one sort and one pass.
func FitIsotonic(probs, labels []float64) (*Isotonic, error) {
	if _, _, err := check("fit isotonic", probs, labels); err != nil {
		return nil, err
	}
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(probs[a], probs[b]) })

	var stack []block
	for k := 0; k < len(idx); {
		x := probs[idx[k]]
		b := block{lo: x, hi: x}
		for ; k < len(idx) && probs[idx[k]] == x; k++ {
			b.sum += labels[idx[k]]
			b.weight++
		}
		// Compare by cross-multiplication to avoid dividing: prev.mean >
		// b.mean means the pair violates monotonicity and is merged.
		for len(stack) > 0 {
			prev := stack[len(stack)-1]
			if prev.sum*b.weight <= b.sum*prev.weight {
				break
			}
			b = block{lo: prev.lo, hi: b.hi, sum: prev.sum + b.sum, weight: prev.weight + b.weight}
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, b)
	}

	c := &Isotonic{Eps: DefaultIsotonicEps}
	for _, b := range stack {
		c.X = append(c.X, b.lo)
		c.Y = append(c.Y, b.mean())
		if b.hi > b.lo {
			c.X = append(c.X, b.hi)
			c.Y = append(c.Y, b.mean())
		}
	}
	return c, nil
}
