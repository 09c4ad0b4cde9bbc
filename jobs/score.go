package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model"
)

// ScoreStore is what the scoring job reads and writes.
type ScoreStore interface {
	features.Store
	Model(ctx context.Context, version int) (churn.ModelVersion, error)
	ChampionVersion(ctx context.Context) (uint32, error)
	RecordScoreRun(ctx context.Context, runID string, asOf time.Time, model int, status string, rows int, errMsg string) error
	WriteScores(ctx context.Context, scores []churn.Score) error
}

// Run statuses, as package clickhouse stores them.
const (
	runStarted  = "started"
	runFinished = "finished"
	runFailed   = "failed"
)

// Bands sets how risk bands are cut. With ByShare, High and Medium are the
// cumulative shares of customers, ranked by probability, that are high and
// high-or-medium risk (0.05 and 0.20: the top 5% high, the next 15% medium).
// Otherwise they are probability thresholds (high >= High, medium >= Medium).
type Bands struct {
	ByShare      bool
	High, Medium float64
}

// DefaultBands puts the top 5% of customers in the high band and the next
// 15% in the medium band: with churn rates of a few percent a month, fixed
// probability cut-offs would leave the high band nearly empty.
func DefaultBands() Bands { return Bands{ByShare: true, High: 0.05, Medium: 0.20} }

// Validate checks the thresholds.
func (b Bands) Validate() error {
	if !(b.High > 0 && b.High <= 1 && b.Medium > 0 && b.Medium <= 1) {
		return churn.Invalid("risk bands", "bands", "thresholds must be in (0, 1], got high %g medium %g", b.High, b.Medium)
	}
	if b.ByShare && b.Medium < b.High {
		return churn.Invalid("risk bands", "bands", "the medium share (%g) is cumulative and must be at least the high share (%g)", b.Medium, b.High)
	}
	if !b.ByShare && b.Medium > b.High {
		return churn.Invalid("risk bands", "bands", "the medium threshold (%g) must not exceed the high threshold (%g)", b.Medium, b.High)
	}
	return nil
}

// thresholds turns the bands into probability cut-offs for these scores.
func (b Bands) thresholds(p []float64) (high, medium float64) {
	if !b.ByShare {
		return b.High, b.Medium
	}
	s := append([]float64(nil), p...)
	sort.Sort(sort.Reverse(sort.Float64Slice(s)))
	at := func(share float64) float64 {
		k := int(math.Ceil(share*float64(len(s)))) - 1
		return s[max(0, min(k, len(s)-1))]
	}
	return at(b.High), at(b.Medium)
}

// Score scores every active customer with the champion model and writes the
// run: all rows first, then the 'finished' mark, so readers never see a half
// written run.
type Score struct {
	Store   ScoreStore
	Log     *slog.Logger
	AsOf    time.Time // zero: the day after the latest usage day
	Horizon int       // days; default features.DefaultHorizon
	Bands   Bands     // zero: DefaultBands
	// ExactReasons computes reason codes from exact TreeSHAP values instead
	// of Saabas' path attribution (same ranking as a rule, many times slower).
	ExactReasons bool
	Now          func() time.Time
	// Progress, when set, hears "features" with rows read, and "scored"
	// and "written" with rows done.
	Progress func(step string, n int64)
}

// ScoreResult describes a finished run.
type ScoreResult struct {
	RunID        string
	AsOf         time.Time
	ModelVersion int
	Rows         int
	ByBand       map[churn.RiskBand]int
	HighCut      float64 // probability cut-offs used
	MediumCut    float64
	Took         map[string]time.Duration
}

// Run scores and writes. A failure after the run started is recorded as a
// failed run; the previous finished run stays the one readers see.
func (s *Score) Run(ctx context.Context) (*ScoreResult, error) {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Progress == nil {
		s.Progress = func(string, int64) {}
	}
	if s.Bands == (Bands{}) {
		s.Bands = DefaultBands()
	}
	if err := s.Bands.Validate(); err != nil {
		return nil, err
	}
	champ, err := s.Store.ChampionVersion(ctx)
	if err != nil {
		return nil, err
	}
	if champ == 0 {
		return nil, churn.Errorf(churn.KindNotFound, "score", "no champion model: train one with `churn train`")
	}
	mv, err := s.Store.Model(ctx, int(champ))
	if err != nil {
		return nil, err
	}
	m, err := model.Unmarshal(mv.Artifact)
	if err != nil {
		return nil, fmt.Errorf("load champion %d: %w", champ, err)
	}
	defer m.Close()
	asOf := features.Date(s.AsOf)
	if s.AsOf.IsZero() {
		_, last, err := s.Store.UsageRange(ctx)
		if err != nil {
			return nil, err
		}
		asOf = features.DataEnd(last)
	}
	res := &ScoreResult{AsOf: asOf, ModelVersion: int(champ), Took: map[string]time.Duration{}, ByBand: map[churn.RiskBand]int{}}
	res.RunID = fmt.Sprintf("%s-m%d-%s", asOf.Format("20060102"), champ, s.Now().UTC().Format("20060102T150405.000"))
	if err := s.Store.RecordScoreRun(ctx, res.RunID, asOf, int(champ), runStarted, 0, ""); err != nil {
		return nil, err
	}
	scores, err := s.compute(ctx, m, res)
	if err == nil {
		began := time.Now()
		err = s.Store.WriteScores(ctx, scores)
		res.Took["write"] = time.Since(began)
		s.Progress("written", int64(len(scores)))
	}
	if err == nil {
		err = s.Store.RecordScoreRun(ctx, res.RunID, asOf, int(champ), runFinished, len(scores), "")
	}
	if err != nil {
		// Best effort: the run is invisible to readers either way.
		ferr := s.Store.RecordScoreRun(context.WithoutCancel(ctx), res.RunID, asOf, int(champ), runFailed, 0, err.Error())
		return nil, errors.Join(fmt.Errorf("scoring run %s failed: %w", res.RunID, err), ferr)
	}
	res.Rows = len(scores)
	s.Log.Info("scoring run finished", "run", res.RunID, "as_of", asOf.Format(time.DateOnly), "model", champ, "customers", res.Rows)
	return res, nil
}

// compute builds the snapshot with the champion's features and scores it.
func (s *Score) compute(ctx context.Context, m *model.Model, res *ScoreResult) ([]churn.Score, error) {
	began := time.Now()
	snap, err := features.Compute(ctx, s.Store, features.Spec{AsOf: res.AsOf, Horizon: s.Horizon, Features: m.FeatureDefs()})
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
	p, err := m.Predict(x)
	if err != nil {
		return nil, err
	}
	res.Took["predict"] = time.Since(began)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	began = time.Now()
	contrib, err := m.Contributions(x, s.ExactReasons)
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
	tiers := []churn.ValueTier{churn.TierA, churn.TierB, churn.TierC}
	res.HighCut, res.MediumCut = s.Bands.thresholds(p)
	nf := len(x.Features)
	out := make([]churn.Score, x.Rows())
	for i := range out {
		band := churn.RiskLow
		switch {
		case p[i] >= res.HighCut:
			band = churn.RiskHigh
		case p[i] >= res.MediumCut:
			band = churn.RiskMedium
		}
		res.ByBand[band]++
		t := churn.TierC
		if k := int(tier[i]); !math.IsNaN(float64(tier[i])) && k >= 0 && k < len(tiers) {
			t = tiers[k]
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
	}
	s.Progress("scored", int64(len(out)))
	return out, nil
}
