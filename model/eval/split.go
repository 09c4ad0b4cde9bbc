package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/telcoretain/churn"
)

// Fold is one cross-validation split: row indices to fit on and to score.
// Both lists are in ascending row order.
type Fold struct {
	Train []int
	Test  []int
}

// ClassRows returns the indexes of the rows labelled 1 and of those labelled
// 0, in row order; bad is the first row with any other label, -1 when there is
// none.
func ClassRows[T ~float32 | ~float64](labels []T) (pos, neg []int, bad int) {
	for i, l := range labels {
		switch l {
		case 1:
			pos = append(pos, i)
		case 0:
			neg = append(neg, i)
		default:
			return nil, nil, i
		}
	}
	return pos, neg, -1
}

// StratifiedKFold splits rows into k folds whose test parts are disjoint and
// cover every row once. Each class is shuffled with the seed and dealt to the
// folds in turn, so every fold holds the same number of churners and of
// non-churners within one row, and fold sizes differ by at most one row.
// The same labels, k and seed give the same folds. Each class needs at least k
// rows, or some fold would have no churners to measure.
func StratifiedKFold(labels []float64, k int, seed uint64) ([]Fold, error) {
	const op = "stratified k-fold"
	if k < 2 {
		return nil, churn.Invalid(op, "k", "%d folds, want at least 2", k)
	}
	pos, neg, bad := ClassRows(labels)
	if bad >= 0 {
		return nil, churn.Invalid(op, "labels", "row %d is %g, want 0 or 1", bad, labels[bad])
	}
	if len(pos) < k || len(neg) < k {
		return nil, churn.Invalid(op, "labels", "%d positive and %d negative rows: each class needs at least k=%d", len(pos), len(neg), k)
	}
	// Two PCG words from one seed: the second is a fixed odd constant so a
	// seed of 0 still gives a well-mixed stream.
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	rng.Shuffle(len(pos), func(i, j int) { pos[i], pos[j] = pos[j], pos[i] })
	rng.Shuffle(len(neg), func(i, j int) { neg[i], neg[j] = neg[j], neg[i] })
	fold := make([]int, len(labels))
	// Negatives continue the turn where positives stopped, which keeps the
	// total fold sizes within one row as well as each class.
	for i, r := range append(pos, neg...) {
		fold[r] = i % k
	}
	folds := make([]Fold, k)
	for r, f := range fold {
		for g := range folds {
			if g == f {
				folds[g].Test = append(folds[g].Test, r)
			} else {
				folds[g].Train = append(folds[g].Train, r)
			}
		}
	}
	return folds, nil
}

// OutOfFold runs fit for each fold and collects its scores for the fold's test
// rows into one slice in row order, so every row is scored by a model that did
// not see it: the input for choosing between candidate models, or for fitting a
// calibrator without reusing training rows. fit must return one score per test
// row, in the order of fold.Test.
func OutOfFold(ctx context.Context, n int, folds []Fold, fit func(ctx context.Context, fold Fold) ([]float64, error)) ([]float64, error) {
	const op = "out-of-fold scores"
	out := make([]float64, n)
	seen := make([]bool, n)
	for f, fold := range folds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		scores, err := fit(ctx, fold)
		if err != nil {
			return nil, &churn.Error{Op: op, Kind: churn.ErrorKind(err), Msg: fmt.Sprintf("fold %d", f), Err: err}
		}
		if len(scores) != len(fold.Test) {
			return nil, churn.Errorf(churn.KindInternal, op, "fold %d: %d scores for %d test rows", f, len(scores), len(fold.Test))
		}
		for i, r := range fold.Test {
			if r < 0 || r >= n || seen[r] {
				return nil, churn.Invalid(op, "folds", "fold %d: row %d is out of range or in two test parts", f, r)
			}
			seen[r] = true
			out[r] = scores[i]
		}
	}
	if i := slices.Index(seen, false); i >= 0 {
		return nil, churn.Invalid(op, "folds", "row %d is in no test part", i)
	}
	return out, nil
}

// TimeSplit splits rows by their snapshot date for an out-of-time evaluation:
// test rows are those dated on or after cutoff; train rows are those whose
// label window [date, date+horizon) closed by cutoff, so no training label
// uses an outcome seen after the test snapshot began. Rows in between are in
// neither list. Both lists must be non-empty.
func TimeSplit(dates []time.Time, cutoff time.Time, horizon time.Duration) (train, test []int, err error) {
	const op = "time split"
	if horizon < 0 {
		return nil, nil, churn.Invalid(op, "horizon", "%v is negative", horizon)
	}
	for i, d := range dates {
		switch {
		case !d.Before(cutoff):
			test = append(test, i)
		case !d.Add(horizon).After(cutoff):
			train = append(train, i)
		}
	}
	if len(test) == 0 {
		return nil, nil, churn.Invalid(op, "cutoff", "no rows dated on or after %s", cutoff.Format(time.DateOnly))
	}
	if len(train) == 0 {
		return nil, nil, churn.Invalid(op, "cutoff", "no rows whose %v label window closes by %s", horizon, cutoff.Format(time.DateOnly))
	}
	return train, test, nil
}

// LatestCutoff returns the latest snapshot date among rows, the usual cutoff
// for TimeSplit: the holdout is the latest snapshot whose horizon has passed.
func LatestCutoff(dates []time.Time) (time.Time, error) {
	if len(dates) == 0 {
		return time.Time{}, churn.Invalid("latest cutoff", "dates", "no rows")
	}
	latest := dates[0]
	for _, d := range dates[1:] {
		if d.After(latest) {
			latest = d
		}
	}
	return latest, nil
}
