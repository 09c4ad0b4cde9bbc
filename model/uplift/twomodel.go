package uplift

import (
	"context"
	"fmt"
	"math"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/xgboost"
)

// Enough outcomes for an uplift model: below these a group's classifier
// would learn noise, and targeting stays risk-based.
const (
	MinTreated = 1000
	MinControl = 300
)

// Options tune the two classifiers.
type Options struct {
	Params xgboost.Params // nil-valued fields take ShallowParams
	Rounds int            // boosting rounds; 0 means DefaultRounds
}

// DefaultRounds is the classifiers' boosting rounds when Options has none.
const DefaultRounds = 150

// ShallowParams are the classifiers' defaults: shallow, slow and
// regularised trees, because the control group is small and an uplift is a
// difference of two estimates whose errors add up.
func ShallowParams() xgboost.Params {
	p := xgboost.DefaultParams()
	p.Eta, p.MaxDepth, p.MinChildWeight, p.Subsample, p.Lambda = 0.05, 3, 5, 0.8, 5
	p.NThread, p.Seed = 1, 1
	return p
}

// TwoModel is a two-model (T-learner) uplift model: Uplift is
// P(churn | control) - P(churn | treated), the churn an action prevents.
//
// Control groups are small (a tenth of the planned customers), and a
// classifier fit on them makes errors that swamp the difference. So with a
// baseline, the churn model's calibrated probability of each customer, the
// control arm is the baseline recalibrated on the control group (one
// log-odds shift), and the treated classifier starts from the baseline (as
// XGBoost base margins) and learns only how treated customers depart from
// it: the action's effect. Without a baseline both arms are classifiers fit
// from nothing (a plain T-learner).
type TwoModel struct {
	Features []string
	// Defs are the features' definitions (categories included), which a
	// snapshot to predict on is computed with; set by the trainer before
	// Marshal.
	Defs []churn.Feature
	// Holdout is the out-of-time evaluation, kept in the model file.
	Holdout *Holdout
	treated *xgboost.Booster
	control *xgboost.Booster // nil with a baseline
	shift   float64          // log-odds shift of the baseline for the control arm
}

// Train fits the classifiers on m (m.Labels: 1 churned, 0 retained) whose
// rows treated marks as treated (the rest: control), from the baseline
// churn probabilities of the rows (nil: none). It refuses fewer than
// MinTreated treated or MinControl control rows.
func Train(ctx context.Context, m *churn.Matrix, treated []bool, baseline []float64, o Options) (*TwoModel, error) {
	const op = "train uplift model"
	if len(treated) != m.Rows() || len(m.Labels) != m.Rows() || baseline != nil && len(baseline) != m.Rows() {
		return nil, fmt.Errorf("%s: %d rows, %d labels, %d treatment flags, %d baselines", op, m.Rows(), len(m.Labels), len(treated), len(baseline))
	}
	nt := 0
	for _, t := range treated {
		if t {
			nt++
		}
	}
	if nt < MinTreated || m.Rows()-nt < MinControl {
		return nil, churn.Errorf(churn.KindInvalid, op, "%d treated and %d control outcomes: an uplift model needs at least %d and %d",
			nt, m.Rows()-nt, MinTreated, MinControl)
	}
	if o.Params.Objective == "" {
		o.Params = ShallowParams()
	}
	if o.Rounds == 0 {
		o.Rounds = DefaultRounds
	}
	t := &TwoModel{Features: m.Features}
	var err error
	margin := margins(baseline)
	if t.treated, err = fit(ctx, m, treated, true, margin, o); err != nil {
		return nil, fmt.Errorf("%s: treated: %w", op, err)
	}
	if margin != nil {
		t.shift = calibrate(margin, m.Labels, treated)
		return t, nil
	}
	if t.control, err = fit(ctx, m, treated, false, nil, o); err != nil {
		t.Close()
		return nil, fmt.Errorf("%s: control: %w", op, err)
	}
	return t, nil
}

// calibrate finds the log-odds shift d with which the control rows' mean
// of sigmoid(margin + d) equals their churn rate (bisection: the mean
// grows with d).
func calibrate(margin []float32, labels []float32, treated []bool) float64 {
	var churned, n float64
	for i, t := range treated {
		if !t {
			n++
			churned += float64(labels[i])
		}
	}
	target := churned / n
	lo, hi := -10.0, 10.0
	for range 60 {
		d := (lo + hi) / 2
		sum := 0.0
		for i, t := range treated {
			if !t {
				sum += sigmoid(float64(margin[i]) + d)
			}
		}
		if sum/n < target {
			lo = d
		} else {
			hi = d
		}
	}
	return (lo + hi) / 2
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// margins turns probabilities into log-odds, nil for nil.
func margins(p []float64) []float32 {
	if p == nil {
		return nil
	}
	out := make([]float32, len(p))
	for i, v := range p {
		v = math.Min(math.Max(v, 1e-6), 1-1e-6)
		out[i] = float32(math.Log(v / (1 - v)))
	}
	return out
}

func fit(ctx context.Context, m *churn.Matrix, treated []bool, group bool, margin []float32, o Options) (*xgboost.Booster, error) {
	var rows []int
	for i, t := range treated {
		if t == group {
			rows = append(rows, i)
		}
	}
	sub := model.Subset(m, rows)
	var base []float32
	if margin != nil {
		base = make([]float32, len(rows))
		for k, i := range rows {
			base[k] = margin[i]
		}
	}
	d, err := xgboost.NewFitMatrixFromColumns(o.Params, sub.Cols, xgboost.MatrixOptions{Labels: sub.Labels, BaseMargin: base, NThread: 1})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return xgboost.Train(ctx, d, o.Params, xgboost.TrainOptions{Rounds: o.Rounds, FeatureNames: m.Features})
}

// Uplift predicts, per row of m (the training features, in order), the
// churn an action prevents, from the rows' baseline churn probabilities
// (nil when the model was trained without). It predicts in chunks on every
// core and stops with ctx's error soon after ctx ends.
func (t *TwoModel) Uplift(ctx context.Context, m *churn.Matrix, baseline []float64) ([]float64, error) {
	const op = "predict uplift"
	if fmt.Sprint(m.Features) != fmt.Sprint(t.Features) {
		return nil, churn.Errorf(churn.KindInvalid, op, "the matrix's features differ from the model's")
	}
	if baseline != nil && len(baseline) != m.Rows() {
		return nil, churn.Errorf(churn.KindInvalid, op, "%d baseline probabilities for %d rows", len(baseline), m.Rows())
	}
	if t.control == nil && baseline == nil {
		return nil, churn.Errorf(churn.KindInvalid, op, "the model was trained from baseline probabilities and needs them")
	}
	margin := margins(baseline)
	out := make([]float64, m.Rows())
	err := model.ByChunks(ctx, m, margin, func(d *xgboost.DMatrix, lo int) error {
		pt, err := t.treated.Predict(d)
		if err != nil {
			return err
		}
		pc := make([]float32, len(pt))
		if t.control != nil {
			if pc, err = t.control.Predict(d); err != nil {
				return err
			}
		} else {
			for i := range pc {
				pc[i] = float32(sigmoid(float64(margin[lo+i]) + t.shift))
			}
		}
		for i := range pt {
			out[lo+i] = float64(pc[i]) - float64(pt[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Close frees the classifiers.
func (t *TwoModel) Close() {
	for _, b := range []*xgboost.Booster{t.treated, t.control} {
		if b != nil {
			b.Close()
		}
	}
}
