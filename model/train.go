package model

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/calibrate"
	"github.com/telcoretain/churn/model/eval"
	"github.com/telcoretain/churn/model/xgboost"
)

// Candidate is one model configuration to try.
type Candidate struct {
	Name      string
	Algorithm string
	C         float64        // logistic: liblinear's C
	XGB       xgboost.Params // xgboost: booster parameters
	Rounds    int            // xgboost: round limit (early stopping picks fewer)
}

// Candidates returns the configurations `churn train` tries: logistic
// regressions over a small grid of regularisation strengths and boosted trees
// from shallow and heavily regularised to deeper ones. Small learning rates
// with early stopping let the data choose the number of rounds.
func Candidates(threads int) []Candidate {
	xgb := func(depth int, eta, minChild, sub, col, lambda float64) xgboost.Params {
		p := xgboost.DefaultParams()
		p.EvalMetric = "logloss"
		p.MaxDepth, p.Eta, p.MinChildWeight = depth, eta, minChild
		p.Subsample, p.ColsampleBytree, p.Lambda = sub, col, lambda
		p.NThread, p.Seed = threads, 7
		return p
	}
	return []Candidate{
		{Name: "logistic-c0.01", Algorithm: AlgoLogistic, C: 0.01},
		{Name: "logistic-c0.1", Algorithm: AlgoLogistic, C: 0.1},
		{Name: "logistic-c1", Algorithm: AlgoLogistic, C: 1},
		{Name: "xgboost-d2", Algorithm: AlgoXGBoost, XGB: xgb(2, 0.05, 5, 0.8, 0.8, 5), Rounds: 1500},
		{Name: "xgboost-d4", Algorithm: AlgoXGBoost, XGB: xgb(4, 0.05, 5, 0.8, 0.8, 5), Rounds: 1000},
		{Name: "xgboost-d6", Algorithm: AlgoXGBoost, XGB: xgb(6, 0.05, 10, 0.8, 0.6, 10), Rounds: 800},
	}
}

// params describes a candidate's configuration for the registry.
func (c Candidate) params() map[string]string {
	p := map[string]string{"candidate": c.Name}
	if c.Algorithm == AlgoLogistic {
		p["C"] = strconv.FormatFloat(c.C, 'g', -1, 64)
		p["penalty"] = "l2"
		return p
	}
	p["max_depth"] = strconv.Itoa(c.XGB.MaxDepth)
	p["eta"] = strconv.FormatFloat(c.XGB.Eta, 'g', -1, 64)
	p["min_child_weight"] = strconv.FormatFloat(c.XGB.MinChildWeight, 'g', -1, 64)
	p["subsample"] = strconv.FormatFloat(c.XGB.Subsample, 'g', -1, 64)
	p["colsample_bytree"] = strconv.FormatFloat(c.XGB.ColsampleBytree, 'g', -1, 64)
	p["lambda"] = strconv.FormatFloat(c.XGB.Lambda, 'g', -1, 64)
	p["tree_method"] = c.XGB.TreeMethod
	return p
}

// earlyStop is the patience of early stopping, in rounds.
const earlyStop = 50

// fitted is a candidate trained on some rows, before calibration.
type fitted struct {
	cand     Candidate
	logistic *Logistic
	booster  *xgboost.Booster
	rounds   int // xgboost: rounds actually used (best iteration + 1)
}

func (f *fitted) close() {
	if f.booster != nil {
		f.booster.Close()
	}
}

// fit trains a candidate on train. For XGBoost, valid (when not nil) drives
// early stopping; otherwise rounds fixes the number of rounds. weights (nil
// for equal weights) are the sampling weights of train's rows (FitSample):
// XGBoost fits with them as sample weights; golearn's liblinear takes none,
// so the logistic regression fits the sample as it is and its intercept gets
// the prior correction for the sampling (PriorOffset). Either way the
// uncalibrated probabilities are the population's, before calibration.
func fit(ctx context.Context, c Candidate, train *churn.Matrix, weights []float32, valid *churn.Matrix, cats map[string][]string, rounds int) (*fitted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.Algorithm == AlgoLogistic {
		l, err := TrainLogistic(ctx, train, cats, c.C)
		if err != nil {
			return nil, err
		}
		l.Intercept += PriorOffset(train.Labels, weights)
		return &fitted{cand: c, logistic: l}, nil
	}
	// XGBoost's memory is C memory, beside the Go heap: collect the heap's
	// garbage and hand it back to the system first (one forced collection),
	// or the fit stacks on top of whatever the collector has not yet
	// returned (docs/scaling.md, session 31).
	debug.FreeOSMemory()
	// A quantile matrix for the hist method: about 0.5 GB less than a
	// DMatrix during each fit at a million fit rows (docs/scaling.md,
	// session 30).
	d, err := xgboost.NewFitMatrixFromColumns(c.XGB, train.Cols, xgboost.MatrixOptions{Labels: train.Labels, Weights: weights, NThread: c.XGB.NThread})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	opts := xgboost.TrainOptions{Rounds: rounds, FeatureNames: train.Features}
	if valid != nil {
		v, err := xgboost.NewDMatrixFromColumns(valid.Cols, xgboost.MatrixOptions{Labels: valid.Labels, NThread: c.XGB.NThread})
		if err != nil {
			return nil, err
		}
		defer v.Close()
		opts.Rounds, opts.Valid, opts.EarlyStoppingRounds = c.Rounds, v, earlyStop
	}
	b, err := xgboost.Train(ctx, d, c.XGB, opts)
	if err != nil {
		return nil, err
	}
	used := b.Rounds()
	if valid != nil {
		used = b.BestIteration() + 1
	}
	return &fitted{cand: c, booster: b, rounds: used}, nil
}

// probs returns the uncalibrated probabilities of x.
func (f *fitted) probs(x *churn.Matrix) ([]float64, error) {
	if f.logistic != nil {
		z, err := f.logistic.Margins(x)
		for i := range z {
			z[i] = Sigmoid(z[i])
		}
		return z, err
	}
	d, err := xgboost.NewDMatrixFromColumns(x.Cols, xgboost.MatrixOptions{NThread: f.cand.XGB.NThread})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	p, err := f.booster.Predict(d)
	if err != nil {
		return nil, err
	}
	return eval.Float64s(p), nil
}

// Subset returns the rows idx of m.
func Subset(m *churn.Matrix, idx []int) *churn.Matrix {
	out := &churn.Matrix{Features: m.Features, AsOf: m.AsOf, IDs: make([]string, len(idx)), Cols: make([][]float32, len(m.Cols))}
	for i, r := range idx {
		out.IDs[i] = m.IDs[r]
	}
	for j, col := range m.Cols {
		c := make([]float32, len(idx))
		for i, r := range idx {
			c[i] = col[r]
		}
		out.Cols[j] = c
	}
	if m.Labels != nil {
		out.Labels = make([]float32, len(idx))
		for i, r := range idx {
			out.Labels[i] = m.Labels[r]
		}
	}
	return out
}

// Result is what a training run produced: the chosen model and the
// evaluation of every candidate.
type Result struct {
	Best       *Model
	Candidates []CandidateScore
}

// CandidateScore is one candidate's validation figures.
type CandidateScore struct {
	Name   string
	AUC    float64
	PRAUC  float64
	Rounds int
	Took   time.Duration
}

// Options tune training.
type Options struct {
	Folds      int // cross-validation folds for TrainCV; 5 when 0
	Seed       uint64
	Candidates []Candidate // Candidates(0) when nil
	Log        *slog.Logger
	Features   []churn.Feature // descriptions and units for the model file, by name; optional
	// OnCandidate, when set, is called after each candidate is evaluated
	// (for progress reports).
	OnCandidate func()
}

func (o *Options) defaults() {
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.Candidates == nil {
		o.Candidates = Candidates(0)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// TrainCV chooses between the candidates by stratified K-fold cross-validation
// on m (Better on the out-of-fold scores' PR-AUC and ROC-AUC), calibrates the winner on its
// out-of-fold scores, and refits it on all rows. It is the path of
// `churn train --csv`, where rows have no dates.
func TrainCV(ctx context.Context, m *churn.Matrix, cats map[string][]string, opts Options) (*Result, error) {
	const op = "train (cross-validation)"
	opts.defaults()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	labels := eval.Float64s(m.Labels)
	folds, err := eval.StratifiedKFold(labels, opts.Folds, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	res := &Result{}
	var bestOOF []float64
	bestIdx, bestRounds := -1, 0
	for ci, c := range opts.Candidates {
		start := time.Now()
		var rounds []int
		oof, err := eval.OutOfFold(ctx, m.Rows(), folds, func(ctx context.Context, fold eval.Fold) ([]float64, error) {
			// XGBoost stops early on a slice of the fold's training rows;
			// the logistic model trains on all of them.
			var train, valid *churn.Matrix
			if c.Algorithm == AlgoXGBoost {
				tr, va := innerSplit(fold.Train, labels, opts.Seed)
				train, valid = Subset(m, tr), Subset(m, va)
			} else {
				train = Subset(m, fold.Train)
			}
			f, err := fit(ctx, c, train, nil, valid, cats, 0)
			if err != nil {
				return nil, err
			}
			defer f.close()
			rounds = append(rounds, f.rounds)
			return f.probs(Subset(m, fold.Test))
		})
		if err != nil {
			return nil, fmt.Errorf("%s: candidate %s: %w", op, c.Name, err)
		}
		auc, _ := eval.AUC(oof, labels)
		ap, _ := eval.AveragePrecision(oof, labels)
		r := 0
		if len(rounds) > 0 && c.Algorithm == AlgoXGBoost {
			// Refit on all rows for the mean early-stopped length, a little
			// longer since it sees more data than each fold did.
			r = int(math.Ceil(mean(rounds) * 1.1))
		}
		res.Candidates = append(res.Candidates, CandidateScore{Name: c.Name, AUC: auc, PRAUC: ap, Rounds: r, Took: time.Since(start)})
		opts.Log.Info("candidate evaluated", "candidate", c.Name, "cv_roc_auc", round4(auc), "cv_pr_auc", round4(ap), "rounds", r, "took", time.Since(start).Round(time.Millisecond).String())
		if opts.OnCandidate != nil {
			opts.OnCandidate()
		}
		if bestIdx < 0 || betterScore(res.Candidates[ci], res.Candidates[bestIdx]) {
			bestIdx, bestOOF, bestRounds = ci, oof, r
		}
	}
	best := opts.Candidates[bestIdx]
	// Calibrate on out-of-fold scores: even folds fit, odd folds validate
	// the choice between Platt and isotonic.
	var fitP, fitL, valP, valL []float64
	for f, fold := range folds {
		for _, r := range fold.Test {
			if f%2 == 0 {
				fitP, fitL = append(fitP, bestOOF[r]), append(fitL, labels[r])
			} else {
				valP, valL = append(valP, bestOOF[r]), append(valL, labels[r])
			}
		}
	}
	choice, err := calibrate.Choose(fitP, fitL, valP, valL, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: calibrate: %w", op, err)
	}
	calibrated := calibrate.Apply(choice.Calibrator, bestOOF)
	op2, err := eval.MaxF1(calibrated, labels)
	if err != nil {
		return nil, err
	}
	report, err := eval.Evaluate(calibrated, labels, eval.Options{Threshold: &op2.Threshold})
	if err != nil {
		return nil, err
	}
	f, err := fit(ctx, best, m, nil, nil, cats, max(bestRounds, 1))
	if err != nil {
		return nil, fmt.Errorf("%s: final fit of %s: %w", op, best.Name, err)
	}
	defer f.close()
	model, err := assemble(f, m, cats, choice.Calibrator, op2.Threshold, report, calibrated, opts.Features)
	if err != nil {
		return nil, err
	}
	model.Validation = fmt.Sprintf("%d-fold stratified cross-validation (out-of-fold scores)", opts.Folds)
	res.Best = model
	return res, nil
}

// innerSplit takes about 15% of the rows, stratified, as an early-stopping
// set.
func innerSplit(rows []int, labels []float64, seed uint64) (train, valid []int) {
	sub := make([]float64, len(rows))
	for i, r := range rows {
		sub[i] = labels[r]
	}
	folds, err := eval.StratifiedKFold(sub, 7, seed+1)
	if err != nil {
		return rows, rows // too few rows to split: stop on the training rows
	}
	for _, i := range folds[0].Train {
		train = append(train, rows[i])
	}
	for _, i := range folds[0].Test {
		valid = append(valid, rows[i])
	}
	return train, valid
}

// assemble builds the model file of a fitted candidate.
func assemble(f *fitted, m *churn.Matrix, cats map[string][]string, cal calibrate.Calibrator, threshold float64,
	report *eval.Report, scores []float64, registry []churn.Feature) (*Model, error) {
	calJSON, err := calibrate.Marshal(cal)
	if err != nil {
		return nil, err
	}
	byName := map[string]churn.Feature{}
	for _, rf := range registry {
		byName[rf.Name] = rf
	}
	out := &Model{
		Format: FormatVersion, Algorithm: f.cand.Algorithm, Params: f.cand.params(),
		Calibration: calJSON, Threshold: threshold, Report: report, Libraries: Libraries(), TrainScores: deciles(scores),
		cal: cal,
	}
	for j, name := range m.Features {
		fi := FeatureInfo{Name: name, Categories: cats[name], Median: medianNonNaN(m.Cols[j])}
		if rf, ok := byName[name]; ok {
			fi.Description, fi.Unit = rf.Description, rf.Unit
		}
		out.Features = append(out.Features, fi)
	}
	switch f.cand.Algorithm {
	case AlgoLogistic:
		out.Logistic = f.logistic
	case AlgoXGBoost:
		out.Params["rounds"] = strconv.Itoa(f.booster.Rounds())
		b, err := f.booster.Save("json")
		if err != nil {
			return nil, err
		}
		out.XGBoost = b
	}
	if err := out.prepare(); err != nil {
		return nil, err
	}
	return out, nil
}

func medianNonNaN(col []float32) float64 {
	v := make([]float64, 0, len(col))
	for _, x := range col {
		if !isNaN32(x) {
			v = append(v, float64(x))
		}
	}
	return median(v)
}

func mean(v []int) float64 {
	s := 0
	for _, x := range v {
		s += x
	}
	return float64(s) / float64(len(v))
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
