package model

import (
	"math/rand/v2"
	"slices"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/eval"
)

// DefaultMaxLogisticRows is the default cap on the rows the logistic
// candidates of a training run on the contract tables fit on, a sub-sample
// of the fit rows (SubSample). liblinear's time grows faster than its rows
// (at 1M customers the two logistic candidates took 4 and 8 minutes on a
// million fit rows, more than the boosted trees), while the few dozen
// coefficients of a logistic regression need far fewer rows: on 100k
// customers their holdout ROC-AUC did not fall down to a twelfth of the fit
// rows, though their PR-AUC fell as churners' share grew (docs/scaling.md).
const DefaultMaxLogisticRows = 250_000

// logisticStream tells SubSample's random stream from other uses of the
// same seed.
const logisticStream = 0x6c6f676973746963 // "logistic"

// SubSample draws at most maxRows rows of the fit rows m, whose sampling
// weights are weights (nil: every row weighs 1), for learners that cannot
// afford all of them. Every churner is kept while the churners fit within
// half the cap (otherwise they are sampled to half of it, or to what the
// non-churners leave); non-churners are sampled to the rest. Rows are drawn
// without replacement with a PCG stream of seed, so the same rows and seed
// give the same sub-sample; they keep their order in m.
//
// The sampling is carried into the weights: a kept row weighs its weight in
// m times its class's weight in m over the kept rows' weight, so the
// sub-sample's weighted class totals are m's exactly and PriorOffset on the
// sub-sample corrects a model fitted on it to the same population as on m.
// When m has at most maxRows rows it is returned as it is, weights too.
// Only the kept rows are copied.
func SubSample(m *churn.Matrix, weights []float32, maxRows int, seed uint64) (*churn.Matrix, []float32, error) {
	const op = "sub-sample fit rows"
	if maxRows < 2 {
		return nil, nil, churn.Invalid(op, "max_logistic_rows", "%d rows cannot hold both classes", maxRows)
	}
	if weights != nil && len(weights) != m.Rows() {
		return nil, nil, churn.Invalid(op, "fit_weights", "%d weights for %d fit rows", len(weights), m.Rows())
	}
	if m.Rows() <= maxRows {
		return m, weights, nil
	}
	pos, neg, bad := eval.ClassRows(m.Labels)
	if bad >= 0 {
		return nil, nil, churn.Invalid(op, "label", "row %d (%s) has label %v, want 0 or 1", bad, m.IDs[bad], m.Labels[bad])
	}
	keepPos := min(len(pos), max(maxRows/2, maxRows-len(neg)))
	keepNeg := min(len(neg), maxRows-keepPos)
	rng := rand.New(rand.NewPCG(seed, logisticStream))
	pos, neg = draw(rng, pos, keepPos), draw(rng, neg, keepNeg)
	keep := slices.Concat(pos, neg)
	slices.Sort(keep)

	weight := func(r int) float64 {
		if weights == nil {
			return 1
		}
		return float64(weights[r])
	}
	var total, kept [2]float64 // by class: 0 non-churners, 1 churners
	for r, l := range m.Labels {
		total[int(l)] += weight(r)
	}
	for _, r := range keep {
		kept[int(m.Labels[r])] += weight(r)
	}
	var scale [2]float64
	for c := range scale {
		scale[c] = 1
		if kept[c] > 0 {
			scale[c] = total[c] / kept[c]
		}
	}
	w := make([]float32, len(keep))
	for i, r := range keep {
		w[i] = float32(weight(r) * scale[int(m.Labels[r])])
	}
	return Subset(m, keep), w, nil
}

// draw returns k of the rows idx chosen uniformly without replacement (a
// partial Fisher-Yates shuffle, which reorders idx).
func draw(rng *rand.Rand, idx []int, k int) []int {
	for i := range k {
		j := i + rng.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx[:k]
}
