package jobs

import (
	"math"

	"github.com/telcoretain/churn/model"
)

// psiFloor keeps an empty bin from making the index infinite: a bin that
// holds nothing counts as holding one value in ten thousand.
const psiFloor = 1e-4

// PSI is the population stability index of values against a reference
// histogram: the sum over the bins, missing values included, of
// (actual - expected) x ln(actual / expected). Under 0.1 is usually read as
// stable, 0.1-0.2 as a moderate shift and over 0.2 as a shift that matters.
// It is NaN when there are no values or no reference.
func PSI(ref model.Histogram, values []float32) float64 {
	if len(values) == 0 || len(ref.Shares) != len(ref.Edges)+1 {
		return math.NaN()
	}
	got, missing := ref.Distribution(values)
	psi := psiTerm(missing, ref.Missing)
	for i, a := range got {
		psi += psiTerm(a, ref.Shares[i])
	}
	return psi
}

func psiTerm(actual, expected float64) float64 {
	if actual == 0 && expected == 0 {
		return 0
	}
	a, e := max(actual, psiFloor), max(expected, psiFloor)
	return (a - e) * math.Log(a/e)
}
