package model

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/calibrate"
	"github.com/telcoretain/churn/model/eval"
)

// SnapshotCandidates are the configurations tried on the contract tables,
// where the data are large (customers x monthly snapshots) and the candidates
// are compared on an out-of-time holdout rather than by cross-validation.
func SnapshotCandidates(threads int) []Candidate {
	all := Candidates(threads)
	d4, d6 := all[4], all[5]
	d4.XGB.Eta, d6.XGB.Eta = 0.1, 0.1
	d4.Rounds, d6.Rounds = 600, 400
	return []Candidate{all[1], all[2], d4, d6}
}

// OutOfTime is the data of a training run on the contract tables.
type OutOfTime struct {
	Fit *churn.Matrix // older training snapshots: the models learn here
	// FitWeights are the sampling weights of Fit's rows (FitSample.Weights);
	// nil when Fit holds every row.
	FitWeights []float32
	// MaxLogisticRows caps the rows the logistic candidates fit on: they
	// share one sub-sample of Fit (SubSample, drawn once with Options.Seed)
	// while the boosted trees fit on all of Fit. DefaultMaxLogisticRows when
	// 0.
	MaxLogisticRows int
	Valid           *churn.Matrix // the latest training snapshot: early stopping, calibration, operating point
	Holdout         *churn.Matrix // the out-of-time holdout every candidate is judged on
	Cats            map[string][]string
	// Window of the training snapshots and the holdout date, for the model file.
	TrainFrom, TrainTo, HoldoutAsOf time.Time
}

// Trained is a candidate model with its holdout report.
type Trained struct {
	Name    string
	Model   *Model
	Took    time.Duration
	FitRows int // the rows it fit on (a logistic candidate: the sub-sample)
}

// TrainOutOfTime fits every candidate on d.Fit (stopping early on d.Valid;
// the logistic candidates on one sub-sample of it, see
// OutOfTime.MaxLogisticRows), calibrates it on d.Valid (Platt or isotonic,
// chosen on two halves of it), picks its operating threshold there (max F1),
// and evaluates it on the holdout. It returns all candidates, best first by Better on their holdout
// reports.
func TrainOutOfTime(ctx context.Context, d OutOfTime, opts Options) ([]Trained, error) {
	opts.defaults()
	if opts.Candidates == nil {
		opts.Candidates = SnapshotCandidates(0)
	}
	for name, m := range map[string]*churn.Matrix{"fit": d.Fit, "valid": d.Valid, "holdout": d.Holdout} {
		if m == nil || m.Rows() == 0 {
			return nil, churn.Invalid("train", name, "no rows in the %s snapshot(s)", name)
		}
		if err := m.Validate(); err != nil {
			return nil, err
		}
	}
	if d.FitWeights != nil && len(d.FitWeights) != d.Fit.Rows() {
		return nil, churn.Invalid("train", "fit_weights", "%d weights for %d fit rows", len(d.FitWeights), d.Fit.Rows())
	}
	validLabels := eval.Float64s(d.Valid.Labels)
	holdLabels := eval.Float64s(d.Holdout.Labels)
	halves, err := eval.StratifiedKFold(validLabels, 2, opts.Seed)
	if err != nil {
		return nil, churn.Invalid("train", "valid", "the validation snapshot cannot be split for calibration: %v", err)
	}
	if d.MaxLogisticRows == 0 {
		d.MaxLogisticRows = DefaultMaxLogisticRows
	}
	// One sub-sample for all logistic candidates, dropped after the last of
	// them so that the boosted trees run without it.
	lastLogistic := -1
	for i, c := range opts.Candidates {
		if c.Algorithm == AlgoLogistic {
			lastLogistic = i
		}
	}
	var logFit *churn.Matrix
	var logWeights []float32
	if lastLogistic >= 0 {
		if logFit, logWeights, err = SubSample(d.Fit, d.FitWeights, d.MaxLogisticRows, opts.Seed); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if logFit != d.Fit {
			opts.Log.Info("logistic candidates fit on a sub-sample", "rows", logFit.Rows(), "of", d.Fit.Rows(),
				"churners", churners(logFit.Labels), "of_churners", churners(d.Fit.Labels))
		}
	}
	var out []Trained
	for i, c := range opts.Candidates {
		start := time.Now()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		x, w := d.Fit, d.FitWeights
		if c.Algorithm == AlgoLogistic {
			x, w = logFit, logWeights
		}
		rows := x.Rows()
		f, err := fit(ctx, c, x, w, d.Valid, d.Cats, 0)
		if i == lastLogistic {
			logFit, logWeights = nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", c.Name, err)
		}
		t, err := finish(ctx, f, d, validLabels, holdLabels, halves, opts)
		f.close()
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", c.Name, err)
		}
		t.Took, t.FitRows = time.Since(start), rows
		t.Model.Params["fit_rows"] = strconv.Itoa(rows)
		opts.Log.Info("candidate trained", "candidate", c.Name, "fit_rows", rows, "holdout_pr_auc", round4(t.Model.Report.PRAUC),
			"holdout_roc_auc", round4(t.Model.Report.AUC), "took", t.Took.Round(time.Millisecond).String())
		out = append(out, t)
		if opts.OnCandidate != nil {
			opts.OnCandidate()
		}
	}
	sortTrained(out)
	return out, nil
}

// churners counts the rows labelled 1.
func churners(labels []float32) int {
	n := 0
	for _, l := range labels {
		if l == 1 {
			n++
		}
	}
	return n
}

func finish(ctx context.Context, f *fitted, d OutOfTime, validLabels, holdLabels []float64, halves []eval.Fold, opts Options) (Trained, error) {
	vp, err := f.probs(d.Valid)
	if err != nil {
		return Trained{}, err
	}
	pick := func(idx []int, v []float64) []float64 {
		out := make([]float64, len(idx))
		for i, r := range idx {
			out[i] = v[r]
		}
		return out
	}
	a, b := halves[0].Test, halves[1].Test
	choice, err := calibrate.Choose(pick(a, vp), pick(a, validLabels), pick(b, vp), pick(b, validLabels), 0)
	if err != nil {
		return Trained{}, err
	}
	calValid := calibrate.Apply(choice.Calibrator, vp)
	opPoint, err := eval.MaxF1(calValid, validLabels)
	if err != nil {
		return Trained{}, err
	}
	if err := ctx.Err(); err != nil {
		return Trained{}, err
	}
	hp, err := f.probs(d.Holdout)
	if err != nil {
		return Trained{}, err
	}
	calHold := calibrate.Apply(choice.Calibrator, hp)
	report, err := eval.Evaluate(calHold, holdLabels, eval.Options{Threshold: &opPoint.Threshold})
	if err != nil {
		return Trained{}, err
	}
	// The medians (the usual values reason texts compare with) come from the
	// validation snapshot, a whole population, not from the sampled fit rows
	// where churners are over-represented.
	m, err := assemble(f, d.Valid, d.Cats, choice.Calibrator, opPoint.Threshold, report, calValid, opts.Features)
	if err != nil {
		return Trained{}, err
	}
	m.Validation = fmt.Sprintf("out-of-time holdout as of %s (%d customers); calibrated (%s) on the snapshot of %s",
		d.HoldoutAsOf.Format(time.DateOnly), d.Holdout.Rows(), choice.Method, d.TrainTo.Format(time.DateOnly))
	m.TrainFrom, m.TrainTo, m.HoldoutAsOf = d.TrainFrom, d.TrainTo, d.HoldoutAsOf
	// The latest training snapshot, not the older fit rows, is the drift
	// reference: it is the population closest in time to the scoring runs,
	// and its scores are out-of-sample as a scoring run's are.
	if m.Drift, err = m.driftReference(d.Valid, calValid); err != nil {
		return Trained{}, err
	}
	return Trained{Name: f.cand.Name, Model: m}, nil
}

// Evaluate scores a labelled matrix with the model and reports the metrics at
// the model's own operating threshold: how a champion is judged on a
// challenger's holdout.
func (m *Model) Evaluate(ctx context.Context, x *churn.Matrix) (*eval.Report, error) {
	p, err := m.Predict(ctx, x)
	if err != nil {
		return nil, err
	}
	return eval.Evaluate(p, eval.Float64s(x.Labels), eval.Options{Threshold: &m.Threshold})
}

// FeatureDefs returns the model's features as registry entries (name,
// description, unit, categories), for computing snapshots encoded exactly as
// in training.
func (m *Model) FeatureDefs() []churn.Feature {
	out := make([]churn.Feature, len(m.Features))
	for i, f := range m.Features {
		out[i] = churn.Feature{Name: f.Name, Description: f.Description, Unit: f.Unit, Categories: f.Categories}
	}
	return out
}
