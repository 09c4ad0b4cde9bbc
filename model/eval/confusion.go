package eval

import (
	"cmp"
	"math"
	"slices"

	"github.com/telcoretain/churn"
)

// Confusion is the confusion matrix at an operating point: a row is flagged
// (predicted to churn) when its score is >= Threshold.
type Confusion struct {
	Threshold float64 `json:"threshold"`
	TP        int     `json:"tp"` // flagged churners
	FP        int     `json:"fp"` // flagged non-churners
	TN        int     `json:"tn"` // unflagged non-churners
	FN        int     `json:"fn"` // unflagged churners
	// Precision, Recall and F1 are 0 where their denominator is 0 (nothing
	// flagged, no churners), as scikit-learn reports with zero_division=0.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Accuracy  float64 `json:"accuracy"`
}

// ConfusionAt returns the confusion matrix when rows with score >= threshold
// are flagged.
func ConfusionAt(scores, labels []float64, threshold float64) (Confusion, error) {
	const op = "confusion matrix"
	if _, _, err := classCounts(op, scores, labels, false); err != nil {
		return Confusion{}, err
	}
	if math.IsNaN(threshold) {
		return Confusion{}, churn.Invalid(op, "threshold", "is NaN")
	}
	c := Confusion{Threshold: threshold}
	for i, s := range scores {
		switch flagged, churned := s >= threshold, labels[i] == 1; {
		case flagged && churned:
			c.TP++
		case flagged:
			c.FP++
		case churned:
			c.FN++
		default:
			c.TN++
		}
	}
	c.fillRates()
	return c, nil
}

// fillRates derives the rates from the four counts.
func (c *Confusion) fillRates() {
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	c.Precision = ratio(c.TP, c.TP+c.FP)
	c.Recall = ratio(c.TP, c.TP+c.FN)
	c.F1 = ratio(2*c.TP, 2*c.TP+c.FP+c.FN)
	c.Accuracy = ratio(c.TP+c.TN, c.TP+c.FP+c.TN+c.FN)
}

// MaxF1 chooses the operating point with the highest F1 among the thresholds
// equal to one of the scores, and returns the confusion matrix there. Between
// thresholds with the same F1 it keeps the highest, which flags fewer rows for
// the same quality. It needs at least one positive.
func MaxF1(scores, labels []float64) (Confusion, error) {
	const op = "max f1 threshold"
	pos, neg, err := classCounts(op, scores, labels, false)
	if err != nil {
		return Confusion{}, err
	}
	if err := needPositives(op, pos); err != nil {
		return Confusion{}, err
	}
	return maxF1(sortedDesc(scores, labels), pos, neg), nil
}

// maxF1 is MaxF1 on rows sorted by descending score.
func maxF1(rows []row, pos, neg int) Confusion {
	var best Confusion
	best.F1 = -1
	tp, fp := 0, 0
	eachTieGroup(rows, func(score float64, p, n float64) {
		tp += int(p)
		fp += int(n)
		if f1 := float64(2*tp) / float64(tp+pos+fp); f1 > best.F1 {
			best = Confusion{Threshold: score, TP: tp, FP: fp, FN: pos - tp, TN: neg - fp, F1: f1}
		}
	})
	best.fillRates()
	return best
}

// ThresholdForTop returns the threshold that flags the top fraction of rows by
// score (0 < fraction <= 1): the score of the k-th highest row, k =
// ceil(fraction x n). Rows tied with the k-th row are flagged too, so ties at
// the cut can flag more than k rows; a capacity-bound campaign should break
// such ties itself (e.g. by expected value). Only scores are needed, so the
// threshold can be set on an unlabeled scoring run.
func ThresholdForTop(scores []float64, fraction float64) (float64, error) {
	const op = "top fraction threshold"
	if len(scores) == 0 {
		return 0, churn.Invalid(op, "scores", "no rows")
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return 0, churn.Invalid(op, "scores", "row %d is NaN", i)
		}
	}
	k, err := topRows(op, len(scores), fraction)
	if err != nil {
		return 0, err
	}
	sorted := slices.Clone(scores)
	slices.SortFunc(sorted, func(a, b float64) int { return cmp.Compare(b, a) })
	return sorted[k-1], nil
}
