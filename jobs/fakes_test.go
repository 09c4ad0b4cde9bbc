package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
)

// memStore is an in-memory stand-in for ClickHouse behind every port of the
// jobs. Its operator is synthetic and deterministic: customer i has a fixed
// risk that shows in a few support and network features, and churns within
// the horizon of an as-of date with a probability that grows with that risk
// by signal (0: labels are noise). From shiftFrom on, the risk features are
// multiplied by shift, as a change in the network would do.
type memStore struct {
	customers int
	first     time.Time // usage range
	last      time.Time
	signal    float64
	shift     float64
	shiftFrom time.Time
	regions   []string // of every customer, whenever they signed up

	mu             sync.Mutex
	fail           map[string]error // method name: the error it returns from now on
	calls          []string         // writes, in order, for tests of sequencing
	queries        []map[string]any // parameters of every snapshot query
	models         []churn.Model
	champion       churn.ModelVersion
	upliftChampion churn.ModelVersion
	runs           []runRecord // the latest record of each run, in first-recorded order
	scores         map[string][]churn.Score
	checks         []churn.DriftMeasure
	churned        map[string]time.Time
	outcomes       []churn.Outcome
	trains         map[string]churn.ScoreRunStatus // the latest status of each training run
}

type runRecord struct {
	run    churn.ScoreRun
	status churn.ScoreRunStatus
	err    string
}

// newMemStore is an operator of n customers with a year of usage in 2025
// whose churn follows its risk features.
func newMemStore(n int) *memStore {
	return &memStore{customers: n, signal: 1, shift: 1, regions: []string{"north", "south"},
		first: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), last: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
		fail: map[string]error{}, scores: map[string][]churn.Score{}, churned: map[string]time.Time{}}
}

var errFake = churn.Unavailable("fake ClickHouse", errors.New("connection refused"))

// failOn makes the named method fail from now on.
func (f *memStore) failOn(method string) {
	f.mu.Lock()
	f.fail[method] = errFake
	f.mu.Unlock()
}

// called logs a call and returns the error it was told to fail with. The
// caller holds f.mu.
func (f *memStore) called(method, detail string) error {
	if err := f.fail[method]; err != nil {
		return err
	}
	f.calls = append(f.calls, method+" "+detail)
	return nil
}

// unit is a deterministic number in [0, 1) for a customer, a day and a
// purpose (splitmix64).
func unit(i, day, salt int) float64 {
	x := uint64(i)*0x9E3779B97F4A7C15 ^ uint64(day)*0xBF58476D1CE4E5B9 ^ uint64(salt)*0x94D049BB133111EB
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func (f *memStore) id(i int) string { return fmt.Sprintf("c%05d", i) }

// churns says whether customer i churns within the horizon of asOf.
func (f *memStore) churns(i int, asOf time.Time) bool {
	risk := unit(i, 0, 1)
	return unit(i, int(asOf.Unix()/86400), 2) < 0.08+f.signal*0.5*risk*risk
}

// QueryTable answers a side of the snapshot for the as-of date in params:
// customer i's risk shows in its network tickets and complaints (support)
// and its dropped calls (usage_recent), its label is a churn event in the
// horizon (lifecycle), its plan fee is its revenue, and the other columns
// are noise.
func (f *memStore) QueryTable(_ context.Context, q string, params map[string]any, _ func(done, total int64)) (*churn.Table, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail["QueryMatrix"]; err != nil {
		return nil, err
	}
	side := strings.SplitN(q, "\"", 3)[1]
	if side == "customers" {
		f.queries = append(f.queries, params)
	}
	asOf, err := time.Parse(time.DateOnly, params["as_of"].(string))
	if err != nil {
		return nil, err
	}
	day := int(asOf.Unix() / 86400)
	scale := 1.0
	if !f.shiftFrom.IsZero() && !asOf.Before(f.shiftFrom) {
		scale = f.shift
	}
	cols := features.SideColumns(side)
	t := &churn.Table{Names: cols, Nums: make([][]float64, len(cols)), Strs: make([][]string, len(cols))}
	for j, name := range cols {
		if features.StringColumn(name) {
			t.Strs[j] = make([]string, f.customers)
		} else {
			t.Nums[j] = make([]float64, f.customers)
		}
	}
	for i := range f.customers {
		t.Keys = append(t.Keys, uint64(i)*0x9E3779B97F4A7C15)
		risk := unit(i, 0, 1)
		for j, name := range cols {
			switch name {
			case "c_id":
				t.Strs[j][i] = f.id(i)
			case "c_segment":
				t.Strs[j][i] = churn.Segments[i%2]
			case "c_region":
				t.Strs[j][i] = []string{"north", "south"}[i%2]
			case "c_payment_method":
				t.Strs[j][i] = churn.PaymentMethods[i%len(churn.PaymentMethods)]
			case "c_billing": // postpaid, as HasPrepaid says
				t.Strs[j][i] = churn.BillingPostpaid
			case "p_contract":
				t.Strs[j][i] = churn.Contracts[i%len(churn.Contracts)]
			case "w_label":
				if f.churns(i, asOf) {
					t.Nums[j][i] = 1
				}
			case "w_churns", "g_terms", "k_topups", "b_invoices_90", "k_topups_90":
				// no churn before the as-of date, no term, no billing: the
				// plan fee is the revenue
			case "p_present":
				t.Nums[j][i] = 1
			case "p_fee":
				t.Nums[j][i] = 20 + float64(i%9)*15
			case "s_network_30", "v_dropped_30", "s_complaint_90":
				t.Nums[j][i] = scale * math.Floor(risk*6+unit(i, day, 10+j))
			default:
				if t.Nums[j] != nil {
					t.Nums[j][i] = math.Floor(unit(i, day, 10+j) * 20)
				}
			}
		}
	}
	return t, nil
}

// QueryMatrix answers feature families: the fake operator has none.
func (f *memStore) QueryMatrix(context.Context, string, map[string]any, func(done, total int64)) (*churn.Matrix, error) {
	return nil, churn.Errorf(churn.KindInternal, "fake query", "the fake operator has no feature families")
}

func (f *memStore) Regions(context.Context, time.Time) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.regions, nil
}

func (f *memStore) UsageRange(context.Context) (time.Time, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first, f.last, f.fail["UsageRange"]
}

func (f *memStore) ChampionVersion(context.Context) (churn.ModelVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.champion, f.fail["ChampionVersion"]
}

func (f *memStore) ChampionOf(_ context.Context, kind churn.ModelKind) (churn.ModelVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind == churn.ModelUplift {
		return f.upliftChampion, f.fail["ChampionOf"]
	}
	return f.champion, f.fail["ChampionOf"]
}

func (f *memStore) Model(_ context.Context, v churn.ModelVersion) (churn.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.models {
		if m.Version == v {
			return m, nil
		}
	}
	return churn.Model{}, churn.Errorf(churn.KindNotFound, "load model", "model version %d is not in the registry", v)
}

func (f *memStore) SaveModel(_ context.Context, m churn.Model) (churn.ModelVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m.Version = churn.ModelVersion(len(f.models) + 1)
	if err := f.called("SaveModel", fmt.Sprint(m.Version)); err != nil {
		return 0, err
	}
	f.models = append(f.models, m)
	return m.Version, nil
}

func (f *memStore) Promote(_ context.Context, v churn.ModelVersion, _, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.called("Promote", fmt.Sprint(v)); err != nil {
		return err
	}
	f.champion = v
	return nil
}

func (f *memStore) RecordScoreRun(_ context.Context, runID string, asOf time.Time, v churn.ModelVersion, status churn.ScoreRunStatus, rows int, errMsg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.called("RecordScoreRun", string(status)); err != nil {
		return err
	}
	r := runRecord{run: churn.ScoreRun{ID: runID, AsOf: asOf, ModelVersion: v, Rows: int64(rows)}, status: status, err: errMsg}
	if i := slices.IndexFunc(f.runs, func(x runRecord) bool { return x.run.ID == runID }); i >= 0 {
		f.runs[i] = r
		return nil
	}
	f.runs = append(f.runs, r)
	return nil
}

func (f *memStore) RecordTrainRun(_ context.Context, runID string, status churn.ScoreRunStatus, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.called("RecordTrainRun", string(status)); err != nil {
		return err
	}
	if f.trains == nil {
		f.trains = map[string]churn.ScoreRunStatus{}
	}
	f.trains[runID] = status
	return nil
}

func (f *memStore) WriteScores(_ context.Context, scores []churn.Score) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.called("WriteScores", fmt.Sprint(len(scores))); err != nil {
		return err
	}
	for _, s := range scores {
		f.scores[s.RunID] = append(f.scores[s.RunID], s)
	}
	return nil
}

func (f *memStore) FinishedScoreRun(_ context.Context, asOfBy time.Time) (*churn.ScoreRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range slices.Backward(f.runs) {
		if r.status == churn.ScoreRunFinished && (asOfBy.IsZero() || !r.run.AsOf.After(asOfBy)) {
			run := r.run
			return &run, nil
		}
	}
	return nil, nil
}

func (f *memStore) LatestFinishedRun(ctx context.Context) (*churn.ScoreRun, error) {
	return f.FinishedScoreRun(ctx, time.Time{})
}

func (f *memStore) ScanRunScores(ctx context.Context, runID string, fn func(churn.Score) error) error {
	f.mu.Lock()
	scores := f.scores[runID]
	f.mu.Unlock()
	for _, s := range scores {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (f *memStore) RunProbabilities(_ context.Context, runID string) ([]float32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []float32
	for _, s := range f.scores[runID] {
		out = append(out, float32(s.Probability))
	}
	return out, nil
}

// RunOutcomes labels a run's customers by the operator's churn rule.
func (f *memStore) RunOutcomes(_ context.Context, runID string, from, _ time.Time) (probs, labels []float64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.scores[runID] {
		var i int
		if _, err := fmt.Sscanf(s.CustomerID, "c%d", &i); err != nil {
			return nil, nil, err
		}
		l := 0.0
		if f.churns(i, from) {
			l = 1
		}
		probs, labels = append(probs, s.Probability), append(labels, l)
	}
	return probs, labels, nil
}

func (f *memStore) DriftRetrained(_ context.Context, runID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.checks {
		if c.RunID == runID && c.Retrain {
			return true, nil
		}
	}
	return false, nil
}

func (f *memStore) SaveDriftChecks(_ context.Context, ms []churn.DriftMeasure) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.called("SaveDriftChecks", fmt.Sprint(len(ms))); err != nil {
		return err
	}
	f.checks = append(f.checks, ms...)
	return nil
}

// HasPrepaid: the fake's customers are postpaid.
func (f *memStore) HasPrepaid(context.Context) (bool, error) { return false, nil }

func (f *memStore) ChurnedBetween(_ context.Context, from, to time.Time) (map[string]time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]time.Time{}
	for id, d := range f.churned {
		if !d.Before(from) && d.Before(to) {
			out[id] = d
		}
	}
	return out, nil
}

func (f *memStore) LabeledCycles(context.Context) (map[string]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for _, o := range f.outcomes {
		out[o.Cycle] = true
	}
	return out, nil
}

func (f *memStore) WriteActionOutcomes(_ context.Context, outs []churn.Outcome) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.called("WriteActionOutcomes", fmt.Sprint(len(outs))); err != nil {
		return err
	}
	f.outcomes = append(f.outcomes, outs...)
	return nil
}
