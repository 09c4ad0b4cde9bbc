package eval

import (
	"math"

	"github.com/telcoretain/churn"
)

// TopK is what targeting the highest-scored fraction of customers would catch.
type TopK struct {
	Fraction float64 `json:"fraction"` // share of rows targeted, e.g. 0.1
	Rows     int     `json:"rows"`     // k: rows targeted, ceil(fraction x n)
	// Positives is the number of churners among the k rows; fractional when
	// rows tied at the cut are shared (see TopFraction).
	Positives float64 `json:"positives"`
	Precision float64 `json:"precision"` // churn rate among the k rows
	Lift      float64 `json:"lift"`      // Precision / base rate; 1 is no better than random
	Capture   float64 `json:"capture"`   // share of all churners among the k rows (recall)
	Threshold float64 `json:"threshold"` // score of the k-th highest row
	// TiedAtCut is the number of rows whose score equals Threshold when that
	// tie group straddles the cut, 0 when the cut falls between two scores.
	TiedAtCut int `json:"tied_at_cut"`
}

// TopFraction returns lift and capture rate when the top fraction of rows by
// score is targeted (0 < fraction <= 1). k is ceil(fraction x n), at least 1.
//
// Ties at the cut: when the rows on both sides of the cut share a score, the
// model has not said which of them to target, so the tie group is shared: it
// contributes its churn rate times the number of slots left (the expected
// count under a random order within the tie). Exactly k rows are counted, a
// model that gives everyone the same score gets lift 1, and the result does not
// depend on the input order. Positives may therefore be fractional.
func TopFraction(scores, labels []float64, fraction float64) (TopK, error) {
	const op = "top fraction"
	pos, _, err := classCounts(op, scores, labels, false)
	if err != nil {
		return TopK{}, err
	}
	if err := needPositives(op, pos); err != nil {
		return TopK{}, err
	}
	k, err := topRows(op, len(scores), fraction)
	if err != nil {
		return TopK{}, err
	}
	return topFraction(sortedDesc(scores, labels), pos, fraction, k), nil
}

// topFraction is TopFraction on rows sorted by descending score, with k rows
// targeted.
func topFraction(rows []row, pos int, fraction float64, k int) TopK {
	t := TopK{Fraction: fraction, Rows: k}
	taken := 0
	eachTieGroup(rows, func(score float64, p, n float64) {
		if taken >= k {
			return
		}
		t.Threshold = score
		g := int(p + n)
		if taken+g <= k {
			t.Positives += p
			taken += g
			return
		}
		t.Positives += p * float64(k-taken) / float64(g)
		t.TiedAtCut = g
		taken = k
	})
	base := float64(pos) / float64(len(rows))
	t.Precision = t.Positives / float64(k)
	t.Lift = t.Precision / base
	t.Capture = t.Positives / float64(pos)
	return t
}

// topRows turns a fraction of n rows into a row count, at least 1. The small
// tolerance keeps 0.07 x 100 (7.000000000000001 in floating point) at 7 rows.
func topRows(op string, n int, fraction float64) (int, error) {
	if !(fraction > 0 && fraction <= 1) {
		return 0, churn.Invalid(op, "fraction", "%g is not in (0, 1]", fraction)
	}
	k := int(math.Ceil(fraction*float64(n) - 1e-9))
	return min(max(k, 1), n), nil
}
