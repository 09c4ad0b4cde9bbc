package xgboost

// #include <stdlib.h>
// #include <xgboost/c_api.h>
import "C"

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/telcoretain/churn"
)

// TrainOptions say how long to train and what to watch.
type TrainOptions struct {
	Rounds int // boosting rounds, > 0: the limit when stopping early

	// Valid, when set, is evaluated after each round with the booster's
	// eval_metric (the last one when there are several, as in Python).
	Valid *DMatrix
	// EarlyStoppingRounds > 0 stops training once the metric on Valid has not
	// improved for that many rounds; predictions then use the best round.
	EarlyStoppingRounds int

	FeatureNames []string     // optional, one per column: set on the booster
	Log          *slog.Logger // optional: the metric of each round at debug level
}

// Train fits a booster on train, which must have labels. Cancelling ctx
// stops training between rounds with ctx's error.
func Train(ctx context.Context, train *DMatrix, p Params, o TrainOptions) (*Booster, error) {
	const op = "train"
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := o.validate(train); err != nil {
		return nil, err
	}
	unlock, err := lockForTraining(op, train, o.Valid)
	if err != nil {
		return nil, err
	}
	defer unlock()

	cache := []C.DMatrixHandle{train.h}
	if o.Valid != nil && o.Valid != train {
		cache = append(cache, o.Valid.h)
	}
	b, err := newBooster(op, cache)
	if err != nil {
		return nil, err
	}
	b.features = train.Cols()
	err = b.do(op, func(h C.BoosterHandle) error { return b.train(ctx, h, train, p, o) })
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (o TrainOptions) validate(train *DMatrix) error {
	const op = "xgboost train"
	switch {
	case train == nil:
		return churn.Invalid(op, "train", "is nil")
	case o.Rounds <= 0:
		return churn.Invalid(op, "rounds", "must be > 0, got %d", o.Rounds)
	case o.EarlyStoppingRounds < 0:
		return churn.Invalid(op, "early_stopping_rounds", "must be >= 0, got %d", o.EarlyStoppingRounds)
	case o.EarlyStoppingRounds > 0 && o.Valid == nil:
		return churn.Invalid(op, "early_stopping_rounds", "needs a validation set")
	case o.Valid != nil && o.Valid.Cols() != train.Cols():
		return churn.Invalid(op, "valid", "has %d columns, the training set %d", o.Valid.Cols(), train.Cols())
	case o.FeatureNames != nil && len(o.FeatureNames) != train.Cols():
		return churn.Invalid(op, "feature_names", "has %d names for %d columns", len(o.FeatureNames), train.Cols())
	}
	return nil
}

// lockForTraining takes train and valid exclusively (XGBoost caches its
// histogram index and predictions in them) and returns the unlock function.
// Locks are taken in address order so two trainings that swap the two
// matrices cannot deadlock.
func lockForTraining(op string, train, valid *DMatrix) (func(), error) {
	ms := []*DMatrix{train}
	if valid != nil && valid != train {
		ms = append(ms, valid)
		if uintptr(unsafe.Pointer(valid)) < uintptr(unsafe.Pointer(train)) {
			ms[0], ms[1] = valid, train
		}
	}
	for _, m := range ms {
		m.mu.Lock()
	}
	unlock := func() {
		for _, m := range ms {
			m.mu.Unlock()
		}
	}
	for _, m := range ms {
		if m.h == nil {
			unlock()
			return nil, closedError(op, "dmatrix")
		}
	}
	return unlock, nil
}

// train runs on the booster's thread.
func (b *Booster) train(ctx context.Context, h C.BoosterHandle, train *DMatrix, p Params, o TrainOptions) error {
	const op = "train"
	for _, kv := range p.pairs() {
		if err := setParam(h, kv[0], kv[1]); err != nil {
			return &churn.Error{Op: "xgboost " + op, Kind: churn.KindInvalid, Field: kv[0], Err: err}
		}
	}
	var validH C.DMatrixHandle
	cname := C.CString("valid")
	defer C.free(unsafe.Pointer(cname))
	if o.Valid != nil {
		validH = o.Valid.h
	}
	b.bestScore = math.NaN()
	var maximize bool
	for i := 0; i < o.Rounds; i++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("xgboost %s: round %d: %w", op, i, err)
		}
		if err := lastError("XGBoosterUpdateOneIter", C.XGBoosterUpdateOneIter(h, C.int(i), train.h)); err != nil {
			return wrap(fmt.Sprintf("%s: round %d", op, i), churn.KindInvalid, err)
		}
		b.rounds = i + 1
		if validH == nil {
			continue
		}
		var out *C.char
		if err := lastError("XGBoosterEvalOneIter",
			C.XGBoosterEvalOneIter(h, C.int(i), &validH, &cname, 1, &out)); err != nil {
			return wrap(fmt.Sprintf("%s: round %d: evaluate", op, i), churn.KindInvalid, err)
		}
		metric, score, err := parseEval(C.GoString(out))
		if err != nil {
			return err
		}
		if o.Log != nil {
			o.Log.Debug("xgboost round", "round", i, "metric", metric, "valid", score)
		}
		b.evals = append(b.evals, score)
		if i == 0 {
			b.metric = metric
			maximize = maximizeMetric(metric)
		}
		if o.EarlyStoppingRounds == 0 {
			continue
		}
		if math.IsNaN(score) {
			return churn.Invalid("xgboost "+op, "valid", "round %d: %s is NaN, so early stopping cannot compare rounds (does the validation set hold both classes?)", i, metric)
		}
		if b.best < 0 || (maximize && score > b.bestScore) || (!maximize && score < b.bestScore) {
			b.best, b.bestScore = i, score
		}
		if i-b.best >= o.EarlyStoppingRounds {
			break
		}
	}
	if b.best >= 0 {
		// The attribute names are those of Python's early stopping, so Python
		// finds the best round in our models too.
		for _, kv := range [][2]string{
			{"best_iteration", strconv.Itoa(b.best)},
			{"best_score", strconv.FormatFloat(b.bestScore, 'g', -1, 64)},
		} {
			if err := setAttr(h, kv[0], kv[1]); err != nil {
				return wrap(op, churn.KindInternal, err)
			}
		}
	}
	if o.FeatureNames != nil {
		return setFeatureNames(op, h, train.Cols(), o.FeatureNames)
	}
	return nil
}

// parseEval reads the last metric of an XGBoosterEvalOneIter result such as
// "[3]\tvalid-auc:0.71\tvalid-logloss:0.52".
func parseEval(s string) (string, float64, error) {
	fields := strings.Split(strings.TrimSpace(s), "\t")
	last := fields[len(fields)-1]
	i := strings.LastIndexByte(last, ':')
	name, ok := strings.CutPrefix(last[:max(i, 0)], "valid-")
	if i < 0 || !ok {
		return "", 0, churn.Errorf(churn.KindInternal, "xgboost evaluate", "cannot read a metric from %q", s)
	}
	v, err := strconv.ParseFloat(last[i+1:], 64)
	if err != nil {
		return "", 0, churn.Errorf(churn.KindInternal, "xgboost evaluate", "cannot read a metric from %q: %v", s, err)
	}
	return name, v, nil
}

// maximizeMetric says whether a larger value of metric is better; the list is
// the one Python's early stopping uses.
func maximizeMetric(metric string) bool {
	for _, p := range []string{"auc", "aucpr", "pre", "map", "ndcg"} {
		if metric == p || strings.HasPrefix(metric, p+"@") {
			return true
		}
	}
	return false
}
