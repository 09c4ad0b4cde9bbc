package eval

import (
	"math"
	"slices"
	"sort"
)

// Histogram is a reference distribution kept in a model file for drift
// checks: quantile bin edges and the share of the reference values that fell
// in each bin. Bin 0 holds values below Edges[0], bin i values in
// [Edges[i-1], Edges[i]), the last bin values from the last edge up; missing
// values (NaN) have a share of their own. Shares are measured, not assumed to
// be equal, because tied values (isotonic calibration steps, counts that are
// mostly zero) make quantile bins uneven.
type Histogram struct {
	Edges   []float64 `json:"edges"`
	Shares  []float64 `json:"shares"` // len(Edges)+1, summing with Missing to 1
	Missing float64   `json:"missing,omitempty"`
}

// NewHistogram cuts values into at most bins quantile bins. Values are
// compared at float32 precision, the precision scores and features are stored
// with, so that a value equal to an edge falls in the same bin wherever it was
// read from.
func NewHistogram(values []float32, bins int) Histogram {
	var s []float64
	missing := 0
	for _, v := range values {
		if v != v {
			missing++
			continue
		}
		s = append(s, float64(v))
	}
	slices.Sort(s)
	var h Histogram
	for k := 1; k < bins && len(s) > 0; k++ {
		e := s[min(len(s)-1, k*len(s)/bins)]
		if len(h.Edges) == 0 || e > h.Edges[len(h.Edges)-1] {
			h.Edges = append(h.Edges, e)
		}
	}
	// An edge at the minimum leaves bin 0 empty by construction; drop it.
	if len(h.Edges) > 0 && len(s) > 0 && h.Edges[0] <= s[0] {
		h.Edges = h.Edges[1:]
	}
	h.Shares, h.Missing = h.Distribution(values)
	return h
}

// Distribution returns the shares of values in each bin of h and the share
// of missing values; all zero when values is empty.
func (h Histogram) Distribution(values []float32) (shares []float64, missing float64) {
	shares = make([]float64, len(h.Edges)+1)
	if len(values) == 0 {
		return shares, 0
	}
	n := 0
	for _, v := range values {
		if v != v {
			n++
			continue
		}
		// The first edge above v is v's bin: bin i covers [Edges[i-1], Edges[i]).
		shares[sort.Search(len(h.Edges), func(i int) bool { return h.Edges[i] > float64(v) })]++
	}
	for i := range shares {
		shares[i] /= float64(len(values))
	}
	return shares, float64(n) / float64(len(values))
}

// psiFloor keeps an empty bin from making the index infinite: a bin that
// holds nothing counts as holding one value in ten thousand.
const psiFloor = 1e-4

// PSI is the population stability index of values against a reference
// histogram: the sum over the bins, missing values included, of
// (actual - expected) x ln(actual / expected). Under 0.1 is usually read as
// stable, 0.1-0.2 as a moderate shift and over 0.2 as a shift that matters.
// It is NaN when there are no values or no reference.
func PSI(ref Histogram, values []float32) float64 {
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
