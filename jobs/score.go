package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model"
)

// Scoring is the job that scores every active customer with the champion
// model and writes the run: all rows first, then the 'finished' mark, so
// readers never see a half written run.
type Scoring struct {
	Data    features.Store // the snapshot query and the usage range
	Models  ModelSource    // the champion
	Runs    RunRecorder
	Scores  ScoreWriter
	Log     *slog.Logger
	AsOf    time.Time // zero: the day after the latest usage day
	Horizon int       // days; default features.DefaultHorizon
	// Inactivity is the prepaid churn's days without activity, which decide
	// who is still active; default features.DefaultInactivity.
	Inactivity int
	Bands      churn.Bands // zero: churn.DefaultBands
	// ExactReasons computes reason codes from exact TreeSHAP values instead
	// of Saabas' path attribution (same ranking as a rule, many times slower).
	ExactReasons bool
	Now          func() time.Time
	// Progress, when set, hears "features" with the customers of the
	// snapshot, and "scored" and "written" with rows done.
	Progress func(step string, n int64)
	// SnapshotProgress, when set, hears the rows the feature snapshot's
	// queries have read so far and their estimated total (features.Spec).
	SnapshotProgress func(done, total int64)
	// Reconcile, when set, runs before each run: it marks failed the runs
	// left started by a process that died and removes the rows of failed
	// runs (clickhouse.Client.ReconcileScoreRuns). Its errors are logged,
	// not fatal: debris never stops a new run.
	Reconcile func(ctx context.Context) error
	// Finished, when set, hears the id of each run once it is finished, so
	// that an API server in the same process serves it at once rather than
	// at its next poll.
	Finished func(runID string)
	// Operator is the operator's vocabulary and feature families, which
	// the champion's snapshot is computed with.
	Operator features.Operator
	// Uplift, when set, finds the uplift champion. When it was trained on
	// the churn champion's features, the run stores each customer's uplift
	// with the score, so that a plan by uplift reads it rather than
	// computing the same snapshot again.
	Uplift UpliftModels
}

// ScoreResult describes a finished run.
type ScoreResult struct {
	RunID        string
	AsOf         time.Time
	ModelVersion churn.ModelVersion
	Rows         int
	ByBand       map[churn.RiskBand]int
	UpliftModel  churn.ModelVersion // the uplift model whose estimates the run stored; 0: none
	HighCut      float64            // probability cut-offs used
	MediumCut    float64
	Took         map[string]time.Duration
}

// Run scores and writes. A failure after the run started is recorded as a
// failed run; the previous finished run stays the one readers see.
func (s *Scoring) Run(ctx context.Context) (*ScoreResult, error) {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Progress == nil {
		s.Progress = func(string, int64) {}
	}
	if s.Bands == (churn.Bands{}) {
		s.Bands = churn.DefaultBands()
	}
	if err := s.Bands.Validate(); err != nil {
		return nil, err
	}
	if s.Reconcile != nil {
		if err := s.Reconcile(ctx); err != nil {
			s.Log.Warn("could not clean up after earlier scoring runs", "err", err)
		}
	}
	champ, err := s.Models.ChampionVersion(ctx)
	if err != nil {
		return nil, err
	}
	if champ == 0 {
		return nil, churn.Errorf(churn.KindNotFound, "score", "no champion model: train one with `churn train`")
	}
	m, err := loadModel(ctx, s.Models, champ)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	asOf := features.Date(s.AsOf)
	if s.AsOf.IsZero() {
		_, last, err := s.Data.UsageRange(ctx)
		if err != nil {
			return nil, err
		}
		asOf = features.DataEnd(last)
	}
	res := &ScoreResult{AsOf: asOf, ModelVersion: champ, Took: map[string]time.Duration{}, ByBand: map[churn.RiskBand]int{}}
	res.RunID = fmt.Sprintf("%s-m%d-%s", asOf.Format("20060102"), champ, s.Now().UTC().Format("20060102T150405.000"))
	if err := s.Runs.RecordScoreRun(ctx, res.RunID, asOf, champ, churn.ScoreRunStarted, 0, ""); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			_ = s.markFailed(ctx, res, fmt.Sprintf("panic: %v", r))
			panic(r)
		}
	}()
	scores, err := s.compute(ctx, m, res)
	if err == nil {
		began := time.Now()
		err = s.Scores.WriteScores(ctx, scores)
		res.Took["write"] = time.Since(began)
		if err == nil {
			s.Progress("written", int64(len(scores)))
		}
	}
	if err == nil {
		err = s.record(ctx, res, churn.ScoreRunFinished, len(scores), "")
	}
	if err != nil {
		ferr := s.markFailed(ctx, res, err.Error())
		return nil, errors.Join(fmt.Errorf("scoring run %s failed: %w", res.RunID, err), ferr)
	}
	res.Rows = len(scores)
	s.Log.Info("scoring run finished", "run", res.RunID, "as_of", asOf.Format(time.DateOnly), "model", champ, "customers", res.Rows)
	if s.Finished != nil {
		s.Finished(res.RunID)
	}
	return res, nil
}

// markFailed records the run as failed, best effort: the run is invisible to
// readers either way, and when the mark cannot be written the next run's
// Reconcile finds the run abandoned.
func (s *Scoring) markFailed(ctx context.Context, res *ScoreResult, msg string) error {
	return s.record(ctx, res, churn.ScoreRunFailed, 0, msg)
}

// record writes a status row of the run on a context a cancellation has not
// ended, within a bound so that a hung ClickHouse cannot hold it. A signal
// must not cut the finished row in half: cancelled while its insert is on
// the wire, the row could land while the run is reported failed, and readers
// would see a run its command called failed.
func (s *Scoring) record(ctx context.Context, res *ScoreResult, status churn.ScoreRunStatus, rows int, msg string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.Runs.RecordScoreRun(ctx, res.RunID, res.AsOf, res.ModelVersion, status, rows, msg)
}

// compute builds the snapshot with the champion's features and scores it.
func (s *Scoring) compute(ctx context.Context, m *model.Model, res *ScoreResult) ([]churn.Score, error) {
	began := time.Now()
	snap, err := features.Compute(ctx, s.Data, features.Spec{AsOf: res.AsOf, Horizon: s.Horizon, Inactivity: s.Inactivity, Operator: s.Operator, Features: m.FeatureDefs(),
		Progress: s.SnapshotProgress})
	if err != nil {
		return nil, err
	}
	x := snap.Matrix
	s.Progress("features", int64(x.Rows()))
	res.Took["features"] = time.Since(began)
	if x.Rows() == 0 {
		return nil, churn.Invalid("score", "as_of", "no active customers on %s", res.AsOf.Format(time.DateOnly))
	}
	began = time.Now()
	p, err := m.Predict(ctx, x)
	if err != nil {
		return nil, err
	}
	res.Took["predict"] = time.Since(began)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	began = time.Now()
	contrib, err := m.Contributions(ctx, x, s.ExactReasons)
	if err != nil {
		return nil, err
	}
	res.Took["reasons"] = time.Since(began)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	clv, tier := x.Col(features.NameLifetimeValue), x.Col(features.NameValueTier)
	if clv == nil || tier == nil {
		return nil, churn.Errorf(churn.KindInternal, "score", "snapshot lacks the %s or %s feature", features.NameLifetimeValue, features.NameValueTier)
	}
	began = time.Now()
	upModel, up, err := s.uplift(ctx, m, res.ModelVersion, x, p)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The scores matter more than the stored uplift: a plan by uplift
		// computes it (and meets the same error) when a run stored none.
		s.Log.Warn("uplift not stored with the scores", "err", err)
		upModel = 0
	}
	if upModel != 0 {
		res.UpliftModel, res.Took["uplift"] = upModel, time.Since(began)
	}
	res.HighCut, res.MediumCut = s.Bands.Cuts(p)
	nf := len(x.Features)
	out := make([]churn.Score, x.Rows())
	for i := range out {
		band := churn.BandOf(p[i], res.HighCut, res.MediumCut)
		res.ByBand[band]++
		t, ok := churn.TierOfRank(int(tier[i]))
		if math.IsNaN(float64(tier[i])) || !ok {
			t = churn.TierC
		}
		v := float64(clv[i])
		if math.IsNaN(v) {
			v = 0
		}
		out[i] = churn.Score{
			RunID: res.RunID, CustomerID: x.IDs[i], AsOf: res.AsOf, ModelVersion: res.ModelVersion,
			Probability: p[i], Band: band, Tier: t, LifetimeValue: v, ExpectedLoss: p[i] * v,
			Reasons: m.Reasons(x, i, contrib[i*nf:(i+1)*nf]),
		}
		if upModel != 0 {
			out[i].Uplift, out[i].UpliftModel = up[i], upModel
		}
	}
	s.Progress("scored", int64(len(out)))
	return out, nil
}

// uplift estimates each row's uplift with the uplift champion, when there
// is one and it was trained on the churn champion's features; else it
// returns version 0 and the plan computes the uplift itself. Its errors do
// not fail the run (see compute). The baseline is
// the probability as the scores store it (float32), which a plan that
// computes the uplift starts from too.
func (s *Scoring) uplift(ctx context.Context, m *model.Model, champ churn.ModelVersion, x *churn.Matrix, p []float64) (churn.ModelVersion, []float64, error) {
	if s.Uplift == nil {
		return 0, nil, nil
	}
	v, err := s.Uplift.ChampionOf(ctx, churn.ModelUplift)
	if err != nil || v == 0 {
		return 0, nil, err
	}
	tm, err := loadUplift(ctx, s.Uplift, v)
	if err != nil {
		return 0, nil, err
	}
	defer tm.Close()
	if !sameColumns(tm.Defs, m.FeatureDefs()) {
		s.Log.Info("uplift not stored with the scores: the uplift champion was trained on other features than the churn champion; a plan by uplift computes it",
			"uplift_model", v, "churn_model", champ)
		return 0, nil, nil
	}
	base := make([]float64, len(p))
	for i, q := range p {
		base[i] = float64(float32(q))
	}
	up, err := tm.Uplift(ctx, x, base)
	if err != nil {
		return 0, nil, fmt.Errorf("uplift model %d: %w", v, err)
	}
	return v, up, ctx.Err()
}

// loadModel reads a model version from the registry and decodes it; the
// caller closes it.
func loadModel(ctx context.Context, r ModelReader, version churn.ModelVersion) (*model.Model, error) {
	mv, err := r.Model(ctx, version)
	if err != nil {
		return nil, err
	}
	m, err := model.Unmarshal(mv.Artifact)
	if err != nil {
		return nil, fmt.Errorf("load model %d: %w", version, err)
	}
	return m, nil
}
