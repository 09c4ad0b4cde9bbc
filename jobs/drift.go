package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/eval"
)

// Drift defaults.
const (
	DefaultPSIThreshold = 0.2
	DefaultAUCFloor     = 0.65
)

// Drift checks the latest scoring run against the training snapshot of the
// model that scored it: the population stability index (PSI) of the scores
// and of the model's most important features. Once a past run's horizon has
// passed it also measures that run's AUC against what really happened. A
// score PSI over Threshold, or an AUC under AUCFloor for a run of the current
// champion, starts a retraining run through Retrain (at most one per scoring
// run); the new candidates then face the usual champion/challenger rule.
type Drift struct {
	Data             features.Store // the snapshot query and the usage range
	Models           ModelSource    // the model that scored a run, and the champion
	Runs             ScoredRunReader
	Checks           DriftLog
	Log              *slog.Logger
	Now              func() time.Time
	Threshold        float64 // score PSI; 0: DefaultPSIThreshold
	FeatureThreshold float64 // feature PSI marked as breached (reported, never retrains); 0: Threshold
	AUCFloor         float64 // 0: DefaultAUCFloor
	Horizon          int     // days; 0: features.DefaultHorizon
	Inactivity       int     // prepaid churn's days without activity; 0: features.DefaultInactivity
	Metrics          *DriftMetrics
	// Retrain starts a retraining run; nil: drift is only reported.
	Retrain func(ctx context.Context, reason string) error
	// Operator is the operator's vocabulary and feature families.
	Operator features.Operator
}

// FeatureDrift is the PSI of one feature.
type FeatureDrift struct {
	Name       string
	PSI        float64
	Importance float64
}

// DriftResult is what a check measured and decided.
type DriftResult struct {
	Run      *churn.ScoreRun // nil when there was no finished run to check
	ScorePSI float64
	Features []FeatureDrift
	AUC      float64         // NaN when no past run has its labels yet
	AUCRun   *churn.ScoreRun // the run AUC was measured on
	Retrain  bool            // a retraining run was started
	Reason   string          // why it was or was not
}

// Run checks the latest scoring run; see Check.
func (d *Drift) Run(ctx context.Context) error {
	res, err := d.Check(ctx)
	if res != nil && res.Run != nil {
		AddRows(ctx, int64(1+len(res.Features)))
	}
	return err
}

func (d *Drift) defaults() {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Threshold == 0 {
		d.Threshold = DefaultPSIThreshold
	}
	if d.FeatureThreshold == 0 {
		d.FeatureThreshold = d.Threshold
	}
	if d.AUCFloor == 0 {
		d.AUCFloor = DefaultAUCFloor
	}
	if d.Horizon == 0 {
		d.Horizon = features.DefaultHorizon
	}
}

// Check measures, stores and exports the drift of the latest scoring run and
// starts a retraining run when it is needed.
func (d *Drift) Check(ctx context.Context) (*DriftResult, error) {
	d.defaults()
	if d.Threshold < 0 || d.FeatureThreshold < 0 || d.AUCFloor < 0 || d.AUCFloor > 1 {
		return nil, churn.Invalid("drift", "threshold", "PSI thresholds must be positive and the AUC floor in (0, 1], got %g, %g and %g", d.Threshold, d.FeatureThreshold, d.AUCFloor)
	}
	res := &DriftResult{AUC: math.NaN(), ScorePSI: math.NaN()}
	run, err := d.Runs.FinishedScoreRun(ctx, time.Time{})
	if err != nil || run == nil {
		if err == nil {
			d.Log.Info("drift: no finished scoring run to check yet")
		}
		return res, err
	}
	res.Run = run
	m, err := loadModel(ctx, d.Models, run.ModelVersion)
	if err != nil {
		return res, err
	}
	defer m.Close()
	if err := d.measure(ctx, m, res); err != nil {
		return res, err
	}
	if err := d.measureAUC(ctx, res); err != nil {
		return res, err
	}
	if err := d.decide(ctx, res); err != nil {
		return res, err
	}
	if err := d.Checks.SaveDriftChecks(ctx, d.measures(res)); err != nil {
		return res, err
	}
	d.Metrics.publish(res)
	d.Log.Info("drift checked", "run", run.ID, "model", run.ModelVersion, "score_psi", round4(res.ScorePSI),
		"features", len(res.Features), "auc", round4(res.AUC), "retrain", res.Retrain, "reason", res.Reason)
	return res, nil
}

// measure computes the PSI of the run's scores and of the reference
// features, whose values are recomputed for the run's as-of date.
func (d *Drift) measure(ctx context.Context, m *model.Model, res *DriftResult) error {
	ref, ok := m.ScoreReference()
	if !ok {
		return churn.Invalid("drift", "model", "model %d keeps no training score distribution to compare with; retrain it", res.Run.ModelVersion)
	}
	p, err := d.Runs.RunProbabilities(ctx, res.Run.ID)
	if err != nil {
		return err
	}
	if len(p) == 0 {
		return churn.Invalid("drift", "scores", "run %s has no scores", res.Run.ID)
	}
	res.ScorePSI = eval.PSI(ref, p)
	if m.Drift == nil || len(m.Drift.Features) == 0 {
		d.Log.Info("drift: the model file keeps no feature reference (trained before drift checks); checking the score only", "model", res.Run.ModelVersion)
		return nil
	}
	snap, err := features.Compute(ctx, d.Data, features.Spec{AsOf: res.Run.AsOf, Horizon: d.Horizon, Inactivity: d.Inactivity, Operator: d.Operator, Features: m.FeatureDefs()})
	if err != nil {
		return err
	}
	for _, f := range m.Drift.Features {
		col := snap.Matrix.Col(f.Name)
		if col == nil {
			return churn.Errorf(churn.KindInternal, "drift", "feature %s of model %d is not in the snapshot", f.Name, res.Run.ModelVersion)
		}
		res.Features = append(res.Features, FeatureDrift{Name: f.Name, PSI: eval.PSI(f.Histogram, col), Importance: f.Importance})
	}
	return nil
}

// measureAUC finds the latest run whose horizon has passed and measures how
// well its scores ranked the customers who then churned.
func (d *Drift) measureAUC(ctx context.Context, res *DriftResult) error {
	_, last, err := d.Data.UsageRange(ctx)
	if err != nil {
		return err
	}
	dataEnd := features.DataEnd(last)
	settle, err := settleDays(ctx, d.Data, d.Inactivity)
	if err != nil {
		return err
	}
	run, err := d.Runs.FinishedScoreRun(ctx, dataEnd.AddDate(0, 0, -d.Horizon-settle))
	if err != nil || run == nil {
		return err
	}
	probs, labels, err := d.Runs.RunOutcomes(ctx, run.ID, run.AsOf, run.AsOf.AddDate(0, 0, d.Horizon))
	if err != nil {
		return err
	}
	auc, err := eval.AUC(probs, labels)
	if err != nil {
		// One class only (no churner yet): nothing to measure.
		d.Log.Info("drift: no AUC for the labelled run", "run", run.ID, "err", err)
		return nil
	}
	res.AUC, res.AUCRun = auc, run
	return nil
}

// decide starts a retraining run when the score drifted or the champion's
// AUC fell below the floor, once per scoring run.
func (d *Drift) decide(ctx context.Context, res *DriftResult) error {
	var why string
	switch {
	case res.ScorePSI > d.Threshold:
		why = fmt.Sprintf("score PSI %.3f of run %s is over %.3f", res.ScorePSI, res.Run.ID, d.Threshold)
	case !math.IsNaN(res.AUC) && res.AUC < d.AUCFloor:
		champ, err := d.Models.ChampionVersion(ctx)
		if err != nil {
			return err
		}
		if champ != res.AUCRun.ModelVersion {
			res.Reason = fmt.Sprintf("AUC %.3f of run %s is under %.3f, but model %d has been replaced by %d since", res.AUC, res.AUCRun.ID, d.AUCFloor, res.AUCRun.ModelVersion, champ)
			return nil
		}
		why = fmt.Sprintf("AUC %.3f of champion %d on run %s (labels now known) is under %.3f", res.AUC, champ, res.AUCRun.ID, d.AUCFloor)
	default:
		res.Reason = fmt.Sprintf("score PSI %.3f is within %.3f", res.ScorePSI, d.Threshold)
		return nil
	}
	done, err := d.Checks.DriftRetrained(ctx, res.Run.ID)
	if err != nil {
		return err
	}
	switch {
	case done:
		res.Reason = why + "; a retraining run was already started for this run"
	case d.Retrain == nil:
		res.Reason = why + "; retraining is off"
	default:
		if err := d.Retrain(ctx, why); err != nil {
			if churn.ErrorKind(err) != churn.KindConflict {
				return fmt.Errorf("drift: start retraining: %w", err)
			}
			res.Reason = why + "; a training run is already going"
			return nil
		}
		res.Retrain, res.Reason = true, why+"; retraining started"
		d.Log.Warn("drift: retraining", "reason", why)
	}
	return nil
}

func (d *Drift) measures(res *DriftResult) []churn.DriftMeasure {
	at := d.Now().UTC()
	base := churn.DriftMeasure{RunID: res.Run.ID, At: at, ModelVersion: res.Run.ModelVersion, Retrain: res.Retrain}
	score := base
	score.Kind, score.Value, score.Threshold, score.Breached = churn.DriftScore, res.ScorePSI, d.Threshold, res.ScorePSI > d.Threshold
	out := []churn.DriftMeasure{score}
	for _, f := range res.Features {
		m := base
		m.Kind, m.Feature, m.Value, m.Threshold, m.Breached = churn.DriftFeature, f.Name, f.PSI, d.FeatureThreshold, f.PSI > d.FeatureThreshold
		out = append(out, m)
	}
	if !math.IsNaN(res.AUC) {
		m := base
		m.Kind, m.Feature, m.Value, m.Threshold, m.Breached = churn.DriftAUC, res.AUCRun.ID, res.AUC, d.AUCFloor, res.AUC < d.AUCFloor
		out = append(out, m)
	}
	return out
}
