package jobs_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/uplift"
)

// withChampion is an operator of n customers with a trained champion.
func withChampion(t *testing.T, n int) *memStore {
	t.Helper()
	st := newMemStore(n)
	if _, err := trainJob(st).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.calls = nil
	return st
}

func scoring(st *memStore) *jobs.Scoring {
	return &jobs.Scoring{Data: st, Models: st, Runs: st, Scores: st,
		Now: func() time.Time { return time.Date(2026, 1, 2, 5, 0, 0, 0, time.UTC) }}
}

func TestScoringWritesEveryRowBeforeMarkingTheRunFinished(t *testing.T) {
	st := withChampion(t, 500)
	res, err := scoring(st).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"RecordScoreRun started", "WriteScores 500", "RecordScoreRun finished"}
	if !slices.Equal(st.calls, want) {
		t.Fatalf("calls %v, want %v", st.calls, want)
	}
	if !res.AsOf.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || res.ModelVersion != st.champion || res.Rows != 500 {
		t.Fatalf("result as of %s, model %d, %d rows; want the day after the data, the champion %d, 500", res.AsOf, res.ModelVersion, res.Rows, st.champion)
	}
	if latest, _ := st.LatestFinishedRun(context.Background()); latest == nil || latest.ID != res.RunID || latest.Rows != 500 {
		t.Fatalf("latest finished run %+v, want %s", latest, res.RunID)
	}
}

func TestScoringBandsByShareAndTakesTiersAndValueFromTheSnapshot(t *testing.T) {
	st := withChampion(t, 1000)
	ctx := context.Background()
	res, err := scoring(st).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := features.Compute(ctx, st, features.Spec{AsOf: res.AsOf, Features: features.WithRegions(features.Registry(), []string{"north", "south"})})
	if err != nil {
		t.Fatal(err)
	}
	tiers, clv := snap.Matrix.Col(features.NameValueTier), snap.Matrix.Col(features.NameLifetimeValue)
	byBand := map[churn.RiskBand]int{}
	for i, s := range st.scores[res.RunID] {
		byBand[s.Band]++
		want, _ := churn.TierOfRank(int(tiers[i]))
		if s.CustomerID != snap.Matrix.IDs[i] || s.Tier != want || s.LifetimeValue != float64(clv[i]) {
			t.Fatalf("score %+v, want customer %s tier %s value %g", s, snap.Matrix.IDs[i], want, clv[i])
		}
		if s.ExpectedLoss != s.Probability*s.LifetimeValue || len(s.Reasons) == 0 {
			t.Fatalf("score %+v: expected loss is not probability x value, or no reasons", s)
		}
		if (s.Band == churn.RiskHigh) != (s.Probability >= res.HighCut) {
			t.Fatalf("score %+v against the high cut %g", s, res.HighCut)
		}
	}
	// The default bands: the top 5% high, the next 15% medium (ties may add a few).
	if h, m := byBand[churn.RiskHigh], byBand[churn.RiskMedium]; h < 50 || h > 60 || m < 150 || m > 170 {
		t.Fatalf("%d high and %d medium of 1000, want about 50 and 150", h, m)
	}
	if !maps.Equal(byBand, res.ByBand) {
		t.Fatalf("result counts %v, scores %v", res.ByBand, byBand)
	}
}

func TestAScoringRunThatFailsToWriteIsMarkedFailedAndThePreviousRunStays(t *testing.T) {
	st := withChampion(t, 300)
	ctx := context.Background()
	prev, err := scoring(st).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.calls = nil
	st.failOn("WriteScores")
	j := scoring(st)
	j.Now = func() time.Time { return time.Date(2026, 1, 3, 5, 0, 0, 0, time.UTC) }
	if _, err := j.Run(ctx); churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("err %v, want the store's", err)
	}
	if want := []string{"RecordScoreRun started", "RecordScoreRun failed"}; !slices.Equal(st.calls, want) {
		t.Fatalf("calls %v, want %v", st.calls, want)
	}
	if failed := st.runs[len(st.runs)-1]; failed.status != churn.ScoreRunFailed || failed.err == "" {
		t.Fatalf("the failing run is recorded as %+v, want failed with its error", failed)
	}
	if latest, _ := st.LatestFinishedRun(ctx); latest.ID != prev.RunID {
		t.Fatalf("latest finished run %s, want the previous %s", latest.ID, prev.RunID)
	}
}

func TestScoringRefusesWithoutAChampionOrWithBadBands(t *testing.T) {
	st := newMemStore(10)
	if _, err := scoring(st).Run(context.Background()); churn.ErrorKind(err) != churn.KindNotFound {
		t.Fatalf("no champion: %v, want not found", err)
	}
	j := scoring(st)
	j.Bands = churn.Bands{ByShare: true, High: 0.3, Medium: 0.1}
	if _, err := j.Run(context.Background()); churn.ErrorKind(err) != churn.KindInvalid || len(st.calls) != 0 {
		t.Fatalf("bad bands: %v, calls %v; want invalid and nothing written", err, st.calls)
	}
}

// landingRuns records a run's status and then reports its context's end,
// as an insert cancelled while on the wire can: the row lands, the call
// fails.
type landingRuns struct{ *memStore }

func (r landingRuns) RecordScoreRun(ctx context.Context, runID string, asOf time.Time, v churn.ModelVersion, status churn.ScoreRunStatus, rows int, errMsg string) error {
	if err := r.memStore.RecordScoreRun(ctx, runID, asOf, v, status, rows, errMsg); err != nil {
		return err
	}
	return ctx.Err()
}

// signalAfterWrite writes the scores, then cancels the run's context: a
// SIGTERM that arrives as the rows are written.
type signalAfterWrite struct {
	*memStore
	cancel context.CancelFunc
}

func (w signalAfterWrite) WriteScores(ctx context.Context, scores []churn.Score) error {
	err := w.memStore.WriteScores(ctx, scores)
	w.cancel()
	return err
}

// A signal between the last row written and the run recorded finished must
// not leave a finished run that the command reports failed: the finished
// row is written whole, or the run fails without it.
func TestASignalAfterTheRowsNeverLeavesAFinishedRunReportedFailed(t *testing.T) {
	st := withChampion(t, 300)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j := scoring(st)
	j.Runs, j.Scores = landingRuns{st}, signalAfterWrite{st, cancel}
	res, err := j.Run(ctx)
	// score_runs only appends: a finished row once written stays visible
	// (LatestFinishedRun), whatever is written after it, so the calls tell.
	finished := slices.Contains(st.calls, "RecordScoreRun finished")
	switch {
	case err == nil && !finished:
		t.Fatalf("run %s succeeded without a finished row: calls %v", res.RunID, st.calls)
	case err != nil && finished:
		t.Fatalf("the run failed (%v) but its finished row was written: calls %v", err, st.calls)
	}
}

// withUpliftChampion saves fitUplift's model as st's uplift champion.
func withUpliftChampion(t *testing.T, st *memStore, asOf time.Time, defs []churn.Feature) churn.ModelVersion {
	t.Helper()
	v, err := st.SaveModel(context.Background(), churn.Model{Kind: churn.ModelUplift, Algorithm: uplift.Algorithm, Artifact: fitUplift(t, st, asOf, defs)})
	if err != nil {
		t.Fatal(err)
	}
	st.upliftChampion = v
	return v
}

// fitUplift fits a two-model uplift model on data's snapshot at asOf with
// defs, from baseline probabilities as `churn uplift train` does (four
// customers in five treated, noise for labels and baselines: the values do
// not matter to its users), and returns its model file.
func fitUplift(tb testing.TB, data features.Store, asOf time.Time, defs []churn.Feature) []byte {
	tb.Helper()
	ctx := context.Background()
	snap, err := features.Compute(ctx, data, features.Spec{AsOf: asOf, Features: defs})
	if err != nil {
		tb.Fatal(err)
	}
	x := snap.Matrix
	treated := make([]bool, x.Rows())
	base := make([]float64, x.Rows())
	x.Labels = make([]float32, x.Rows())
	for i := range treated {
		treated[i] = i%5 != 0
		base[i] = 0.02 + 0.3*float64(i%10)/10
		if i%7 == 0 {
			x.Labels[i] = 1
		}
	}
	tm, err := uplift.Train(ctx, x, treated, base, uplift.Options{Rounds: 5})
	if err != nil {
		tb.Fatal(err)
	}
	defer tm.Close()
	tm.Defs = defs
	art, err := tm.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return art
}

func TestScoringStoresTheUpliftAPlanByUpliftWouldCompute(t *testing.T) {
	st := withChampion(t, 1500)
	ctx := context.Background()
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	champ, err := st.Model(ctx, st.champion)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Unmarshal(champ.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := withUpliftChampion(t, st, asOf, m.FeatureDefs())
	job := scoring(st)
	job.Uplift = st
	runs := 0
	job.Now = func() time.Time { // a run id of its own for each run
		runs++
		return time.Date(2026, 1, 2, 5, 0, runs, 0, time.UTC)
	}
	res, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.UpliftModel != v || res.Took["uplift"] <= 0 {
		t.Fatalf("run stored uplift model %d (took %s), want %d", res.UpliftModel, res.Took["uplift"], v)
	}
	stored := slices.Clone(st.scores[res.RunID])
	computed := slices.Clone(stored)
	for i := range computed {
		if stored[i].UpliftModel != v {
			t.Fatalf("score of %s has uplift model %d, want %d", stored[i].CustomerID, stored[i].UpliftModel, v)
		}
		computed[i].Uplift, computed[i].UpliftModel = 0, 0
		computed[i].Probability = float64(float32(computed[i].Probability)) // as ClickHouse returns it
	}
	scorer := &jobs.UpliftScorer{Models: st, Data: st}
	want, _, why, err := scorer.Score(ctx, asOf, computed)
	if err != nil || why != fmt.Sprintf("uplift model %d", v) || len(want) != len(stored) {
		t.Fatalf("computed %d uplifts (%s): %v", len(want), why, err)
	}
	// With the estimates stored, the plan computes no snapshot.
	st.failOn("QueryMatrix")
	got, gv, why, err := scorer.Score(ctx, asOf, stored)
	if err != nil || gv != v || !strings.Contains(why, "stored by the scoring run") {
		t.Fatalf("model %d (%s): %v", gv, why, err)
	}
	spread := 0.0
	for id, u := range want {
		if math.Abs(got[id]-u) > 1e-6 {
			t.Fatalf("customer %s: stored uplift %g, computed %g", id, got[id], u)
		}
		spread = max(spread, math.Abs(u-want[stored[0].CustomerID]))
	}
	if spread == 0 {
		t.Fatal("every customer has the same uplift: the comparison proves nothing")
	}
	// A mix of stored and missing estimates is computed again.
	st.fail = map[string]error{}
	stored[0].UpliftModel = 0
	if _, _, why, err := scorer.Score(ctx, asOf, stored); err != nil || strings.Contains(why, "stored") {
		t.Fatalf("one score without a stored estimate: %q, %v", why, err)
	}
	// So are the estimates of an uplift model that is no longer champion.
	stored[0].UpliftModel = v
	v2 := withUpliftChampion(t, st, asOf, m.FeatureDefs())
	if _, gv, why, err := scorer.Score(ctx, asOf, stored); err != nil || gv != v2 || why != fmt.Sprintf("uplift model %d, computed: the scoring run stored model %d's", v2, v) {
		t.Fatalf("estimates of model %d with model %d champion: model %d (%q), %v", v, v2, gv, why, err)
	}
	// With nobody to act on, nothing is computed.
	st.failOn("QueryMatrix")
	if up, _, _, err := scorer.Score(ctx, asOf, nil); err != nil || up == nil || len(up) != 0 {
		t.Fatalf("no scores: %v, %v", up, err)
	}
	st.fail = map[string]error{}

	// An uplift champion trained on other features than the churn
	// champion's (here: the regions known then) is not applied to the
	// scoring snapshot.
	withUpliftChampion(t, st, asOf, features.WithRegions(m.FeatureDefs(), []string{"north", "south", "west"}))
	res, err = job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.UpliftModel != 0 || st.scores[res.RunID][0].UpliftModel != 0 {
		t.Fatalf("run stored uplift model %d from other features", res.UpliftModel)
	}

	// An uplift champion that cannot be loaded costs the stored uplift,
	// not the scores.
	v, err = st.SaveModel(ctx, churn.Model{Kind: churn.ModelUplift, Algorithm: uplift.Algorithm, Artifact: []byte("{")})
	if err != nil {
		t.Fatal(err)
	}
	st.upliftChampion = v
	if res, err = job.Run(ctx); err != nil || res.UpliftModel != 0 || res.Rows != 1500 {
		t.Fatalf("scoring with a broken uplift champion: %+v, %v", res, err)
	}
}
