package eval

import (
	"cmp"
	"slices"
)

// row is one scored, labelled row; sorting rows keeps each label with its score.
type row struct {
	score, label float64
}

// sortedDesc returns the rows ordered by score, highest first. Inputs must be
// validated (no NaN) because NaN breaks the ordering.
func sortedDesc(scores, labels []float64) []row {
	rows := make([]row, len(scores))
	for i, s := range scores {
		rows[i] = row{s, labels[i]}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.score, a.score) })
	return rows
}

// eachTieGroup calls fn for each run of equal scores in rows (sorted), with the
// score and the number of positive and negative rows in the run. Both ranking
// metrics treat a run of ties as one threshold: a model cannot order rows it
// gives the same score, so no order among them may earn or lose credit.
func eachTieGroup(rows []row, fn func(score float64, pos, neg float64)) {
	for i := 0; i < len(rows); {
		j := i
		var pos, neg float64
		for ; j < len(rows) && rows[j].score == rows[i].score; j++ {
			if rows[j].label == 1 {
				pos++
			} else {
				neg++
			}
		}
		fn(rows[i].score, pos, neg)
		i = j
	}
}

// AUC returns the area under the ROC curve: the probability that a random
// churner scores above a random non-churner, a tie counting 1/2 (the
// Mann-Whitney statistic, equal to the trapezoidal area under the ROC curve
// with tied scores as one point). It is 0.5 for a constant score. It needs
// both classes. Cost: one sort and one pass.
func AUC(scores, labels []float64) (float64, error) {
	const op = "roc auc"
	pos, neg, err := classCounts(op, scores, labels, false)
	if err != nil {
		return 0, err
	}
	if err := needBoth(op, pos, neg); err != nil {
		return 0, err
	}
	return auc(sortedDesc(scores, labels), pos, neg), nil
}

// auc is AUC on rows sorted by descending score.
func auc(rows []row, pos, neg int) float64 {
	// For each negative, count the positives scored above it plus half of
	// those tied with it; the sum over negatives is the Mann-Whitney U.
	var u, posAbove float64
	eachTieGroup(rows, func(_ float64, p, n float64) {
		u += n * (posAbove + p/2)
		posAbove += p
	})
	return u / (float64(pos) * float64(neg))
}

// AveragePrecision returns the area under the precision-recall curve as
// scikit-learn's average_precision_score defines it: the sum over distinct
// score thresholds, highest first, of (recall gained) x (precision at that
// threshold), with all rows tied at a threshold entering together. It needs at
// least one positive; with no negatives it is 1. Its baseline is the positive
// rate, not 0.5, which is why it is the headline metric for rare churn.
func AveragePrecision(scores, labels []float64) (float64, error) {
	const op = "average precision"
	pos, _, err := classCounts(op, scores, labels, false)
	if err != nil {
		return 0, err
	}
	if err := needPositives(op, pos); err != nil {
		return 0, err
	}
	return averagePrecision(sortedDesc(scores, labels), pos), nil
}

// averagePrecision is AveragePrecision on rows sorted by descending score.
func averagePrecision(rows []row, pos int) float64 {
	var ap, tp, fp float64
	eachTieGroup(rows, func(_ float64, p, n float64) {
		tp += p
		fp += n
		if p > 0 {
			ap += p / float64(pos) * tp / (tp + fp)
		}
	})
	return ap
}
