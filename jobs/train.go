package jobs

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/eval"
)

// Train trains every candidate on point-in-time snapshots of the contract
// tables, stores each in the registry, and promotes the best one when it
// beats the champion on the same out-of-time holdout (or when Force is set,
// or when there is no champion yet).
type Train struct {
	Data      features.Store   // the snapshot queries and the usage range
	Models    ModelSource      // the champion to beat
	Registry  ModelWriter      // where candidates are stored and promoted
	Runs      TrainRunRecorder // the training run's status
	Log       *slog.Logger
	Snapshots int // training snapshots (monthly), the latest of them used for validation; default 6
	Horizon   int // label window in days; default features.DefaultHorizon
	// Inactivity is the days without usage and top-up after which a prepaid
	// customer has churned; default features.DefaultInactivity.
	Inactivity int
	Force      bool
	Actor      string // recorded with a promotion
	// MaxFitRows caps the rows the candidates fit on: every churner is kept
	// and non-churners are sampled, weighted, per snapshot (model.FitSample);
	// model.DefaultMaxFitRows when 0. Validation and holdout rows are never
	// sampled.
	MaxFitRows int
	// MaxLogisticRows caps the rows the logistic (liblinear) candidates fit
	// on: one seeded sub-sample of the fit rows shared by all of them
	// (model.SubSample), every churner kept while they fit within half of
	// it; the boosted trees fit on all fit rows.
	// model.DefaultMaxLogisticRows when 0.
	MaxLogisticRows int
	// Seed is the seed of the fit-row sample, the logistic sub-sample and
	// the split of the validation snapshot for calibration.
	Seed uint64
	// Candidates to train; model.SnapshotCandidates(0) when nil.
	Candidates []model.Candidate
	// Progress, when set, hears about each step: "snapshot" with rows and
	// "candidate" when one is trained.
	Progress func(step string, n int64)
	// Now stamps each stored model's CreatedAt; nil: time.Now.
	Now func() time.Time
	// Operator is the operator's vocabulary and feature families: the
	// candidates train on the registry and the families' features.
	Operator features.Operator
}

// TrainResult says what a training run did.
type TrainResult struct {
	RunID    string // the training run, recorded in train_runs
	Schedule features.Schedule
	Rows     int // training rows (fit + validation)
	FitRows  int // rows the candidates fit on (sampled)
	FitSeen  int // rows of the fit snapshots before sampling
	// LogisticFitRows is the rows the logistic candidates fit on (their
	// sub-sample of the fit rows); 0 when no logistic candidate ran.
	LogisticFitRows int
	Candidates      []TrainedVersion
	Best            TrainedVersion
	Champion        churn.ModelVersion // champion version before the run, 0 when none
	ChampionPR      float64            // its PR-AUC on this holdout, NaN-free only when compared
	Compared        bool
	Promoted        bool
	Reason          string

	// The champion as judged before anything was written (see train).
	champ       churn.ModelVersion
	champReport *eval.Report
}

// TrainedVersion is a stored candidate.
type TrainedVersion struct {
	Version churn.ModelVersion
	Name    string
	Model   *model.Model
	Took    time.Duration
	FitRows int // the rows it fit on
}

func (t *Train) defaults() {
	if t.Log == nil {
		t.Log = slog.New(slog.DiscardHandler)
	}
	if t.Snapshots == 0 {
		t.Snapshots = 6
	}
	if t.Horizon == 0 {
		t.Horizon = features.DefaultHorizon
	}
	if t.Inactivity == 0 {
		t.Inactivity = features.DefaultInactivity
	}
	if t.Actor == "" {
		t.Actor = "job:train"
	}
	if t.Progress == nil {
		t.Progress = func(string, int64) {}
	}
	if t.Now == nil {
		t.Now = time.Now
	}
}

// Run trains, stores and maybe promotes. It leaves the champion alone unless
// every step before the promotion succeeded. The run is recorded in
// train_runs: finished once every candidate is stored, failed when it stops
// before (an error, a cancellation, a panic), so that candidates of a run
// that died are never promoted.
func (t *Train) Run(ctx context.Context) (res *TrainResult, err error) {
	t.defaults()
	// A random suffix: two runs may start within a millisecond of each
	// other's clock (tests, a clock that stands still), and the id only has
	// to be unique.
	var suffix [3]byte
	_, _ = rand.Read(suffix[:])
	runID := fmt.Sprintf("train-%s-%x", t.Now().UTC().Format("20060102T150405.000"), suffix)
	if err := t.Runs.RecordTrainRun(ctx, runID, churn.ScoreRunStarted, ""); err != nil {
		return nil, err
	}
	finished := false
	defer func() {
		if finished {
			return
		}
		msg := "stopped"
		r := recover()
		switch {
		case r != nil:
			msg = fmt.Sprintf("panic: %v", r)
		case err != nil:
			msg = err.Error()
		}
		// Best effort, on a context a cancellation has not ended: when it
		// fails the run stays started, which is not promotable either.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if ferr := t.Runs.RecordTrainRun(rctx, runID, churn.ScoreRunFailed, msg); ferr != nil {
			t.Log.Warn("could not mark the training run failed", "run", runID, "err", ferr)
		}
		if r != nil {
			panic(r)
		}
	}()
	res, err = t.train(ctx, runID)
	if err != nil {
		return res, err
	}
	wctx := context.WithoutCancel(ctx) // train has stored the candidates: finish the writes
	if err := t.Runs.RecordTrainRun(wctx, runID, churn.ScoreRunFinished, ""); err != nil {
		return res, err
	}
	finished = true
	return res, t.decide(wctx, res)
}

// train computes the snapshots, trains the candidates and stores them under
// runID.
func (t *Train) train(ctx context.Context, runID string) (*TrainResult, error) {
	// Checked before the snapshots, which take minutes on a large base.
	if t.MaxLogisticRows < 0 || t.MaxLogisticRows == 1 {
		return nil, churn.Invalid("train", "max_logistic_rows", "must be 0 (the default) or at least 2 rows, got %d", t.MaxLogisticRows)
	}
	first, last, err := t.Data.UsageRange(ctx)
	if err != nil {
		return nil, err
	}
	dataEnd := features.DataEnd(last)
	prepaid, err := t.Data.HasPrepaid(ctx)
	if err != nil {
		return nil, err
	}
	settle := 0
	if prepaid {
		settle = t.Inactivity // prepaid labels need the silence after the horizon
	}
	// Two snapshots at least: one to fit on, the latest to validate on.
	sched, err := features.PlanSnapshots(features.PlanSpec{DataStart: first, DataEnd: dataEnd, Horizon: t.Horizon, Settle: settle, Count: max(2, t.Snapshots)})
	if err != nil {
		return nil, err
	}
	if len(sched.Train) < 2 {
		return nil, churn.Invalid("train", "data", "only %d training snapshot fits before the holdout %s; need at least 2 (more months of usage)", len(sched.Train), sched.Holdout.Format(time.DateOnly))
	}
	regions, err := t.Data.Regions(ctx, sched.Holdout)
	if err != nil {
		return nil, err
	}
	feats := features.WithRegions(features.Catalog(t.Operator.Families), regions)
	snap := func(asOf time.Time) (*churn.Matrix, error) {
		s, err := features.Compute(ctx, t.Data, features.Spec{AsOf: asOf, Horizon: t.Horizon, Inactivity: t.Inactivity, Operator: t.Operator, DataEnd: dataEnd, Features: feats})
		if err != nil {
			return nil, err
		}
		if !s.Labeled {
			return nil, churn.Errorf(churn.KindInternal, "train", "snapshot %s is not labelled", asOf.Format(time.DateOnly))
		}
		t.Progress("snapshot", int64(s.Matrix.Rows()))
		return s.Matrix, nil
	}
	// Each fit snapshot is sampled as soon as it is computed and then
	// dropped, so memory holds the capped sample and one snapshot, however
	// many months the run trains on.
	sample, err := model.NewFitSample(t.MaxFitRows, len(sched.Train)-1, t.Seed)
	if err != nil {
		return nil, err
	}
	for _, d := range sched.Train[:len(sched.Train)-1] {
		m, err := snap(d)
		if err != nil {
			return nil, err
		}
		if err := sample.Add(m); err != nil {
			return nil, err
		}
	}
	fitM := sample.Matrix()
	validM, err := snap(sched.Train[len(sched.Train)-1])
	if err != nil {
		return nil, err
	}
	holdM, err := snap(sched.Holdout)
	if err != nil {
		return nil, err
	}
	t.Log.Info("snapshots computed", "train", len(sched.Train), "fit_rows", fitM.Rows(), "fit_rows_before_sampling", sample.Seen(), "valid_rows", validM.Rows(), "holdout_rows", holdM.Rows(), "holdout", sched.Holdout.Format(time.DateOnly))
	cats := map[string][]string{}
	for _, f := range feats {
		if f.Categories != nil {
			cats[f.Name] = f.Categories
		}
	}
	trained, err := model.TrainOutOfTime(ctx, model.OutOfTime{
		Fit: fitM, FitWeights: sample.Weights(), MaxLogisticRows: t.MaxLogisticRows, Valid: validM, Holdout: holdM, Cats: cats,
		TrainFrom: sched.Train[0], TrainTo: sched.Train[len(sched.Train)-1], HoldoutAsOf: sched.Holdout,
	}, model.Options{Candidates: t.Candidates, Seed: t.Seed, Log: t.Log, Features: feats, OnCandidate: func() { t.Progress("candidate", 1) }})
	if err != nil {
		return nil, err
	}
	res := &TrainResult{RunID: runID, Schedule: sched, Rows: fitM.Rows() + validM.Rows(), FitRows: fitM.Rows(), FitSeen: sample.Seen()}
	for _, tr := range trained {
		if tr.Model.Algorithm == model.AlgoLogistic {
			res.LogisticFitRows = tr.FitRows
		}
	}
	// The champion is judged before anything is written, so that every slow
	// step can be cancelled with nothing stored.
	res.champ, res.champReport, err = t.judge(ctx, holdM, feats, dataEnd)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	// From here the run only writes: the candidates, the run's end, then
	// maybe the promotion (Run). A few small inserts; they run to the end
	// even when ctx is cancelled (SIGTERM), so that a stopped run leaves all
	// of it or none.
	wctx := context.WithoutCancel(ctx)
	for _, tr := range trained {
		v, err := t.store(wctx, runID, tr)
		if err != nil {
			return res, err
		}
		res.Candidates = append(res.Candidates, TrainedVersion{Version: v, Name: tr.Name, Model: tr.Model, Took: tr.Took, FitRows: tr.FitRows})
	}
	res.Best = res.Candidates[0]
	return res, nil
}

// store saves one candidate in the registry.
func (t *Train) store(ctx context.Context, runID string, tr model.Trained) (churn.ModelVersion, error) {
	tr.Model.CreatedAt = t.Now().UTC()
	art, err := tr.Model.Marshal()
	if err != nil {
		return 0, err
	}
	return t.Registry.SaveModel(ctx, churn.Model{
		Algorithm: tr.Model.Algorithm, CreatedAt: tr.Model.CreatedAt, Params: tr.Model.Params,
		Features: tr.Model.FeatureNames(), TrainFrom: tr.Model.TrainFrom, TrainTo: tr.Model.TrainTo, HoldoutAsOf: tr.Model.HoldoutAsOf,
		Metrics: tr.Model.Report.Metrics(), LibraryVersions: tr.Model.Libraries,
		Description: fmt.Sprintf("%s; %s", tr.Name, tr.Model.Validation), Artifact: art, TrainRun: runID,
	})
}

// judge reads the champion and, unless the run promotes anyway, evaluates
// it on the challenger's holdout. The report is nil when there is nothing to
// compare: forced promotion, no champion, or a champion trained on another
// feature set.
func (t *Train) judge(ctx context.Context, holdout *churn.Matrix, feats []churn.Feature, dataEnd time.Time) (churn.ModelVersion, *eval.Report, error) {
	champ, err := t.Models.ChampionVersion(ctx)
	if err != nil || t.Force || champ == 0 {
		return champ, nil, err
	}
	cr, err := t.championReport(ctx, champ, holdout, feats, dataEnd)
	return champ, cr, err
}

// decide applies the champion/challenger rule to the stored candidates.
func (t *Train) decide(ctx context.Context, res *TrainResult) error {
	best, champ, cr := res.Best, res.champ, res.champReport
	res.Champion = champ
	bestPR := best.Model.Report.PRAUC
	switch {
	case t.Force:
		res.Reason = fmt.Sprintf("promoted by force (holdout PR-AUC %.4f)", bestPR)
	case champ == 0:
		res.Reason = fmt.Sprintf("first champion (holdout PR-AUC %.4f)", bestPR)
	default:
		if cr == nil {
			res.Reason = fmt.Sprintf("champion %d was trained on another feature set; the challenger replaces it (holdout PR-AUC %.4f)", champ, bestPR)
			break
		}
		res.Compared, res.ChampionPR = true, cr.PRAUC
		if !model.Better(best.Model.Report, cr) {
			res.Reason = fmt.Sprintf("champion %d kept: holdout PR-AUC %.4f vs challenger %d's %.4f", champ, cr.PRAUC, best.Version, bestPR)
			t.Log.Info("champion kept", "champion", champ, "challenger", best.Version, "champion_pr_auc", round4(cr.PRAUC), "challenger_pr_auc", round4(bestPR))
			return nil
		}
		res.Reason = fmt.Sprintf("beats champion %d on the holdout of %s: PR-AUC %.4f vs %.4f", champ, res.Schedule.Holdout.Format(time.DateOnly), bestPR, cr.PRAUC)
	}
	if err := t.Registry.Promote(ctx, best.Version, t.Actor, res.Reason); err != nil {
		return err
	}
	res.Promoted = true
	t.Log.Info("model promoted", "version", best.Version, "reason", res.Reason)
	return nil
}

// championReport evaluates the champion on the challenger's holdout date,
// with the snapshot encoded as the champion was trained. It returns nil when
// the champion's features are not the current registry's.
func (t *Train) championReport(ctx context.Context, version churn.ModelVersion, holdout *churn.Matrix, feats []churn.Feature, dataEnd time.Time) (*eval.Report, error) {
	cm, err := loadModel(ctx, t.Models, version)
	if err != nil {
		return nil, err
	}
	defer cm.Close()
	if !slices.Equal(cm.FeatureNames(), features.Names(feats)) {
		return nil, nil
	}
	x := holdout
	if !sameCategories(cm.FeatureDefs(), feats) {
		s, err := features.Compute(ctx, t.Data, features.Spec{AsOf: holdout.AsOf, Horizon: t.Horizon, Inactivity: t.Inactivity, Operator: t.Operator, DataEnd: dataEnd, Features: cm.FeatureDefs()})
		if err != nil {
			return nil, err
		}
		x = s.Matrix
	}
	return cm.Evaluate(ctx, x)
}

func sameCategories(a, b []churn.Feature) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i].Categories, b[i].Categories) {
			return false
		}
	}
	return true
}

// round4 keeps log lines readable.
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
