package model

import "github.com/telcoretain/churn/model/eval"

// selectTolerance is how close two figures must be to count as a tie: closer
// than the noise of summing the same scores in another order.
const selectTolerance = 1e-9

// Better reports whether a model with report a is better than one with report
// b. It is the one definition of "best" in the service: TrainOutOfTime ranks
// candidates with it on the out-of-time holdout, TrainCV (the CSV path) on the
// out-of-fold scores, and the train job promotes a challenger only when it is
// Better than the champion on the same holdout.
//
// The rule is the higher PR-AUC (average precision), ties broken by the higher
// ROC-AUC; when both tie, neither is better, and callers keep the earlier
// candidate (the candidate lists run from simpler to more complex models, and
// a champion stays). PR-AUC comes first because churners are a few percent of
// customers and retention budgets reach only the top of the ranking: PR-AUC
// is decided there, while ROC-AUC is mostly decided by the ordering of the
// many easy non-churners. The two rarely disagree on which candidate is best
// (see `make accuracy`, whose target is stated in ROC-AUC).
func Better(a, b *eval.Report) bool {
	if a.PRAUC > b.PRAUC+selectTolerance {
		return true
	}
	if a.PRAUC < b.PRAUC-selectTolerance {
		return false
	}
	return a.AUC > b.AUC+selectTolerance
}

// betterScore is Better on cross-validation figures.
func betterScore(a, b CandidateScore) bool {
	return Better(&eval.Report{PRAUC: a.PRAUC, AUC: a.AUC}, &eval.Report{PRAUC: b.PRAUC, AUC: b.AUC})
}

// sortTrained orders candidates best first by Better. Insertion sort is
// stable, so tied candidates keep their (simplest first) order.
func sortTrained(ts []Trained) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && Better(ts[j].Model.Report, ts[j-1].Model.Report); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
