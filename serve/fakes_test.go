package serve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/telcoretain/churn"
)

// fakeStore is an in-memory ScoreStore, ModelRegistry, Pinger and
// ChampionReader. down makes every call fail as an unreachable ClickHouse.
type fakeStore struct {
	mu       sync.Mutex
	runs     []fakeRun // oldest first; all finished
	down     bool
	scans    int
	models   []churn.Model
	champion []churn.ModelVersion // promotion stack
}

type fakeRun struct {
	run    churn.ScoreRun
	scores []churn.Score
}

var errDown = churn.Unavailable("ping ClickHouse", errors.New("dial tcp 127.0.0.1:9000: connection refused"))

func (f *fakeStore) addRun(r churn.ScoreRun, scores []churn.Score) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r.Rows = int64(len(scores))
	f.runs = append(f.runs, fakeRun{run: r, scores: scores})
}

func (f *fakeStore) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakeStore) LatestFinishedRun(context.Context) (*churn.ScoreRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	if len(f.runs) == 0 {
		return nil, nil
	}
	r := f.runs[len(f.runs)-1].run
	return &r, nil
}

func (f *fakeStore) ScanRunScores(ctx context.Context, runID string, fn func(churn.Score) error) error {
	f.mu.Lock()
	if f.down {
		f.mu.Unlock()
		return errDown
	}
	f.scans++
	var scores []churn.Score
	for _, r := range f.runs {
		if r.run.ID == runID {
			scores = r.scores
		}
	}
	f.mu.Unlock()
	for _, s := range scores {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeStore) CustomerHistory(_ context.Context, id string, limit int) ([]churn.Score, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	var out []churn.Score
	for _, r := range f.runs {
		for _, s := range r.scores {
			if s.CustomerID == id {
				out = append(out, s)
			}
		}
	}
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

func (f *fakeStore) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	return nil
}

func (f *fakeStore) ChampionVersion(context.Context) (churn.ModelVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.champion) == 0 {
		return 0, nil
	}
	return f.champion[len(f.champion)-1], nil
}

func (f *fakeStore) Models(context.Context) ([]churn.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	out := make([]churn.Model, len(f.models))
	for i, m := range f.models {
		m.Artifact = nil
		m.Champion = len(f.champion) > 0 && f.champion[len(f.champion)-1] == m.Version
		out[i] = m
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, nil
}

func (f *fakeStore) Model(_ context.Context, v churn.ModelVersion) (churn.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.models {
		if m.Version == v {
			m.Champion = len(f.champion) > 0 && f.champion[len(f.champion)-1] == v
			return m, nil
		}
	}
	return churn.Model{}, churn.Errorf(churn.KindNotFound, "load model", "model version %d is not in the registry", v)
}

func (f *fakeStore) Promote(ctx context.Context, v churn.ModelVersion, actor, reason string) error {
	if _, err := f.Model(ctx, v); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.champion) > 0 && f.champion[len(f.champion)-1] == v {
		return churn.Errorf(churn.KindConflict, "promote model", "version %d is already the champion", v)
	}
	f.champion = append(f.champion, v)
	return nil
}

func (f *fakeStore) Rollback(_ context.Context, kind churn.ModelKind, _, _ string) (churn.ModelVersion, error) {
	if kind != churn.ModelChurn {
		return 0, churn.Errorf(churn.KindConflict, "roll back model", "there is no earlier %s champion to roll back to", kind)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.champion) < 2 {
		return 0, churn.Errorf(churn.KindConflict, "roll back model", "there is no earlier champion to roll back to")
	}
	f.champion = f.champion[:len(f.champion)-1]
	return f.champion[len(f.champion)-1], nil
}

// makeScores builds n deterministic scores of run with many ties in every
// sort key, so that pagination must rely on the customer-id tie-break.
func makeScores(runID string, asOf time.Time, model churn.ModelVersion, n int, shift int) []churn.Score {
	out := make([]churn.Score, n)
	for i := range n {
		p := float64((i*7+shift)%20) / 20 // 20 distinct probabilities: ties
		clv := float64(100 * ((i*13 + shift) % 9))
		band := churn.BandOf(p, 0.6, 0.3)
		tier := []churn.ValueTier{churn.TierA, churn.TierB, churn.TierC}[i%3]
		out[i] = churn.Score{RunID: runID, CustomerID: fmt.Sprintf("C%05d", i), AsOf: asOf, ModelVersion: model,
			Probability: p, Band: band, Tier: tier, LifetimeValue: clv, ExpectedLoss: float64(float32(p) * float32(clv)),
			Reasons: []churn.Reason{
				{Feature: "dropped_calls_30d", Value: float64(i % 5), Contribution: 0.5, Text: fmt.Sprintf("dropped calls up %dx in 30 days", i%5)},
				{Feature: "tenure_days", Value: 120, Contribution: 0.25, Text: "customer for 4 months"},
			}}
	}
	return out
}

// testModels is a registry of three versions.
func testModels() []churn.Model {
	var out []churn.Model
	for v := churn.ModelVersion(1); v <= 3; v++ {
		out = append(out, churn.Model{Version: v, Kind: churn.ModelChurn, Algorithm: []string{"logistic", "xgboost", "xgboost"}[v-1],
			CreatedAt: asOf1.AddDate(0, 0, -10+int(v)), Params: map[string]string{"max_depth": "6"},
			Features: []string{"dropped_calls_30d", "tenure_days"}, TrainFrom: asOf1.AddDate(-1, 0, 0),
			TrainTo: asOf1.AddDate(0, -2, 0), HoldoutAsOf: asOf1.AddDate(0, -1, 0),
			Metrics:         map[string]float64{"roc_auc": 0.8 + float64(v)/100, "pr_auc": math.NaN()},
			LibraryVersions: map[string]string{"xgboost": "2.1.4"}, Description: fmt.Sprintf("model %d", v),
			Artifact: []byte("model file bytes")})
	}
	return out
}
