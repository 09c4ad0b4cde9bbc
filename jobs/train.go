package jobs

import (
	"context"
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
	Data      features.Store // the snapshot queries and the usage range
	Models    ModelSource    // the champion to beat
	Registry  ModelWriter    // where candidates are stored and promoted
	Log       *slog.Logger
	Snapshots int // training snapshots (monthly), the latest of them used for validation; default 6
	Horizon   int // label window in days; default features.DefaultHorizon
	Force     bool
	Actor     string // recorded with a promotion
	// Candidates to train; model.SnapshotCandidates(0) when nil.
	Candidates []model.Candidate
	// Progress, when set, hears about each step: "snapshot" with rows and
	// "candidate" when one is trained.
	Progress func(step string, n int64)
	// Now stamps each stored model's CreatedAt; nil: time.Now.
	Now func() time.Time
}

// TrainResult says what a training run did.
type TrainResult struct {
	Schedule   features.Schedule
	Rows       int // training rows (fit + validation)
	Candidates []TrainedVersion
	Best       TrainedVersion
	Champion   churn.ModelVersion // champion version before the run, 0 when none
	ChampionPR float64            // its PR-AUC on this holdout, NaN-free only when compared
	Compared   bool
	Promoted   bool
	Reason     string
}

// TrainedVersion is a stored candidate.
type TrainedVersion struct {
	Version churn.ModelVersion
	Name    string
	Model   *model.Model
	Took    time.Duration
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
// every step before the promotion succeeded.
func (t *Train) Run(ctx context.Context) (*TrainResult, error) {
	t.defaults()
	first, last, err := t.Data.UsageRange(ctx)
	if err != nil {
		return nil, err
	}
	dataEnd := features.DataEnd(last)
	// Two snapshots at least: one to fit on, the latest to validate on.
	sched, err := features.PlanSnapshots(features.PlanSpec{DataStart: first, DataEnd: dataEnd, Horizon: t.Horizon, Count: max(2, t.Snapshots)})
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
	feats := features.WithRegions(features.Registry(), regions)
	snap := func(asOf time.Time) (*churn.Matrix, error) {
		s, err := features.Compute(ctx, t.Data, features.Spec{AsOf: asOf, Horizon: t.Horizon, DataEnd: dataEnd, Features: feats})
		if err != nil {
			return nil, err
		}
		if !s.Labeled {
			return nil, churn.Errorf(churn.KindInternal, "train", "snapshot %s is not labelled", asOf.Format(time.DateOnly))
		}
		t.Progress("snapshot", int64(s.Matrix.Rows()))
		return s.Matrix, nil
	}
	fitM := &churn.Matrix{}
	for _, d := range sched.Train[:len(sched.Train)-1] {
		m, err := snap(d)
		if err != nil {
			return nil, err
		}
		if err := fitM.Append(m); err != nil {
			return nil, err
		}
	}
	validM, err := snap(sched.Train[len(sched.Train)-1])
	if err != nil {
		return nil, err
	}
	holdM, err := snap(sched.Holdout)
	if err != nil {
		return nil, err
	}
	t.Log.Info("snapshots computed", "train", len(sched.Train), "fit_rows", fitM.Rows(), "valid_rows", validM.Rows(), "holdout_rows", holdM.Rows(), "holdout", sched.Holdout.Format(time.DateOnly))
	cats := map[string][]string{}
	for _, f := range feats {
		if f.Categories != nil {
			cats[f.Name] = f.Categories
		}
	}
	trained, err := model.TrainOutOfTime(ctx, model.OutOfTime{
		Fit: fitM, Valid: validM, Holdout: holdM, Cats: cats,
		TrainFrom: sched.Train[0], TrainTo: sched.Train[len(sched.Train)-1], HoldoutAsOf: sched.Holdout,
	}, model.Options{Candidates: t.Candidates, Log: t.Log, Features: feats, OnCandidate: func() { t.Progress("candidate", 1) }})
	if err != nil {
		return nil, err
	}
	res := &TrainResult{Schedule: sched, Rows: fitM.Rows() + validM.Rows()}
	for _, tr := range trained {
		v, err := t.store(ctx, tr)
		if err != nil {
			return res, err
		}
		res.Candidates = append(res.Candidates, TrainedVersion{Version: v, Name: tr.Name, Model: tr.Model, Took: tr.Took})
	}
	res.Best = res.Candidates[0]
	return res, t.decide(ctx, res, holdM, feats, dataEnd)
}

// store saves one candidate in the registry.
func (t *Train) store(ctx context.Context, tr model.Trained) (churn.ModelVersion, error) {
	tr.Model.CreatedAt = t.Now().UTC()
	art, err := tr.Model.Marshal()
	if err != nil {
		return 0, err
	}
	return t.Registry.SaveModel(ctx, churn.Model{
		Algorithm: tr.Model.Algorithm, CreatedAt: tr.Model.CreatedAt, Params: tr.Model.Params,
		Features: tr.Model.FeatureNames(), TrainFrom: tr.Model.TrainFrom, TrainTo: tr.Model.TrainTo, HoldoutAsOf: tr.Model.HoldoutAsOf,
		Metrics: tr.Model.Report.Metrics(), LibraryVersions: tr.Model.Libraries,
		Description: fmt.Sprintf("%s; %s", tr.Name, tr.Model.Validation), Artifact: art,
	})
}

// decide applies the champion/challenger rule.
func (t *Train) decide(ctx context.Context, res *TrainResult, holdout *churn.Matrix, feats []churn.Feature, dataEnd time.Time) error {
	best := res.Best
	champ, err := t.Models.ChampionVersion(ctx)
	if err != nil {
		return err
	}
	res.Champion = champ
	bestPR := best.Model.Report.PRAUC
	switch {
	case t.Force:
		res.Reason = fmt.Sprintf("promoted by force (holdout PR-AUC %.4f)", bestPR)
	case champ == 0:
		res.Reason = fmt.Sprintf("first champion (holdout PR-AUC %.4f)", bestPR)
	default:
		cr, err := t.championReport(ctx, champ, holdout, feats, dataEnd)
		if err != nil {
			return err
		}
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
	mv, err := t.Models.Model(ctx, version)
	if err != nil {
		return nil, err
	}
	cm, err := model.Unmarshal(mv.Artifact)
	if err != nil {
		return nil, fmt.Errorf("load champion %d: %w", version, err)
	}
	defer cm.Close()
	if !slices.Equal(cm.FeatureNames(), features.Names(feats)) {
		return nil, nil
	}
	x := holdout
	if !sameCategories(cm.FeatureDefs(), feats) {
		s, err := features.Compute(ctx, t.Data, features.Spec{AsOf: holdout.AsOf, Horizon: t.Horizon, DataEnd: dataEnd, Features: cm.FeatureDefs()})
		if err != nil {
			return nil, err
		}
		x = s.Matrix
	}
	return cm.Evaluate(x)
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
