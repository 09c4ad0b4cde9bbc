package xgboost

import (
	"math"
	"runtime"
	"slices"
	"strconv"

	"github.com/telcoretain/churn"
)

// Params are the booster parameters, named as in XGBoost's documentation.
// Start from DefaultParams: every typed field is sent to XGBoost, so a zero
// value means zero, not "XGBoost's default".
type Params struct {
	Objective       string  // objective; "binary:logistic" for churn
	EvalMetric      string  // eval_metric used on the validation set; "" means the objective's default (logloss)
	Eta             float64 // learning rate, in (0, 1]
	MaxDepth        int     // max_depth of each tree, >= 0
	Subsample       float64 // row sampling per tree, in (0, 1]
	ColsampleBytree float64 // column sampling per tree, in (0, 1]
	MinChildWeight  float64 // min_child_weight (hessian sum per leaf), >= 0
	Lambda          float64 // L2 regularisation of leaf weights, >= 0
	Alpha           float64 // L1 regularisation of leaf weights, >= 0
	Gamma           float64 // min loss reduction to split, >= 0
	ScalePosWeight  float64 // weight of positive examples, > 0
	MaxBin          int     // histogram bins per feature, >= 2
	TreeMethod      string  // "hist" (the default), "approx", "exact"
	NThread         int     // OpenMP threads; 0 means runtime.NumCPU()
	Seed            int64   // random seed for subsampling

	// Extra holds any other XGBoost parameter by its XGBoost name. It is
	// applied after the typed fields, so it also overrides them.
	Extra map[string]string
}

// DefaultParams returns XGBoost 1.7's defaults for a binary churn model, with
// the hist tree method.
func DefaultParams() Params {
	return Params{
		Objective:       "binary:logistic",
		Eta:             0.3,
		MaxDepth:        6,
		Subsample:       1,
		ColsampleBytree: 1,
		MinChildWeight:  1,
		Lambda:          1,
		ScalePosWeight:  1,
		MaxBin:          256,
		TreeMethod:      "hist",
	}
}

// Validate reports the first field outside its range as a KindInvalid error
// naming the field.
func (p Params) Validate() error {
	const op = "xgboost params"
	in01 := func(v float64) bool { return v > 0 && v <= 1 }
	nonNeg := func(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
	switch {
	case p.Objective == "":
		return churn.Invalid(op, "objective", "is empty")
	case !in01(p.Eta):
		return churn.Invalid(op, "eta", "must be in (0, 1], got %v", p.Eta)
	case p.MaxDepth < 0:
		return churn.Invalid(op, "max_depth", "must be >= 0, got %d", p.MaxDepth)
	case !in01(p.Subsample):
		return churn.Invalid(op, "subsample", "must be in (0, 1], got %v", p.Subsample)
	case !in01(p.ColsampleBytree):
		return churn.Invalid(op, "colsample_bytree", "must be in (0, 1], got %v", p.ColsampleBytree)
	case !nonNeg(p.MinChildWeight):
		return churn.Invalid(op, "min_child_weight", "must be >= 0, got %v", p.MinChildWeight)
	case !nonNeg(p.Lambda):
		return churn.Invalid(op, "lambda", "must be >= 0, got %v", p.Lambda)
	case !nonNeg(p.Alpha):
		return churn.Invalid(op, "alpha", "must be >= 0, got %v", p.Alpha)
	case !nonNeg(p.Gamma):
		return churn.Invalid(op, "gamma", "must be >= 0, got %v", p.Gamma)
	case !(p.ScalePosWeight > 0) || math.IsInf(p.ScalePosWeight, 0):
		return churn.Invalid(op, "scale_pos_weight", "must be > 0, got %v", p.ScalePosWeight)
	case p.MaxBin < 2:
		return churn.Invalid(op, "max_bin", "must be >= 2, got %d", p.MaxBin)
	case p.TreeMethod == "":
		return churn.Invalid(op, "tree_method", "is empty")
	case p.NThread < 0:
		return churn.Invalid(op, "nthread", "must be >= 0, got %d", p.NThread)
	}
	for k := range p.Extra {
		if k == "" {
			return churn.Invalid(op, "extra", "has an empty parameter name")
		}
	}
	return nil
}

// threads returns the nthread value that is actually set.
func (p Params) threads() int {
	if p.NThread == 0 {
		return runtime.NumCPU()
	}
	return p.NThread
}

// value returns the value parameter name takes on the booster: the last of
// pairs that sets it ("" when none does).
func (p Params) value(name string) string {
	v := ""
	for _, kv := range p.pairs() {
		if kv[0] == name {
			v = kv[1]
		}
	}
	return v
}

// pairs returns the parameters in the order they are set on the booster.
func (p Params) pairs() [][2]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	kv := [][2]string{
		// Makes XGBoost warn about parameters it does not use (typos in Extra),
		// as the Python package does.
		{"validate_parameters", "1"},
		{"objective", p.Objective},
		{"eta", f(p.Eta)},
		{"max_depth", strconv.Itoa(p.MaxDepth)},
		{"subsample", f(p.Subsample)},
		{"colsample_bytree", f(p.ColsampleBytree)},
		{"min_child_weight", f(p.MinChildWeight)},
		{"lambda", f(p.Lambda)},
		{"alpha", f(p.Alpha)},
		{"gamma", f(p.Gamma)},
		{"scale_pos_weight", f(p.ScalePosWeight)},
		{"max_bin", strconv.Itoa(p.MaxBin)},
		{"tree_method", p.TreeMethod},
		{"nthread", strconv.Itoa(p.threads())},
		{"seed", strconv.FormatInt(p.Seed, 10)},
	}
	if p.EvalMetric != "" {
		kv = append(kv, [2]string{"eval_metric", p.EvalMetric})
	}
	// Sorted so that the same Params always configure the booster the same way.
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kv = append(kv, [2]string{k, p.Extra[k]})
	}
	return kv
}
