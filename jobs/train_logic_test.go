package jobs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
)

// fastXGB is one small boosted candidate: the logic under test is the job's,
// not the learner's.
func fastXGB() []model.Candidate { return quick()[1:] }

func trainJob(st *memStore) *jobs.Train {
	return &jobs.Train{Data: st, Models: st, Registry: st, Runs: st, Snapshots: 3, Candidates: fastXGB(),
		Now: func() time.Time { return time.Date(2026, 1, 2, 6, 0, 0, 0, time.UTC) }}
}

// holdoutPRAUC evaluates a stored model on the snapshot of holdout, encoded
// with the model's own features.
func holdoutPRAUC(t *testing.T, st *memStore, version churn.ModelVersion, holdout time.Time) float64 {
	t.Helper()
	ctx := context.Background()
	mv, err := st.Model(ctx, version)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Unmarshal(mv.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	snap, err := features.Compute(ctx, st, features.Spec{AsOf: holdout, Features: m.FeatureDefs()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Evaluate(context.Background(), snap.Matrix)
	if err != nil {
		t.Fatal(err)
	}
	return r.PRAUC
}

func TestTrainPromotesOnlyAChallengerThatBeatsTheChampionOnTheSameHoldout(t *testing.T) {
	ctx := context.Background()
	st := newMemStore(600)
	st.signal = 0 // the first champion learns noise
	first, err := trainJob(st).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Promoted || first.Compared || first.Champion != 0 || st.champion != first.Best.Version {
		t.Fatalf("first run: promoted %v compared %v champion before %d, now %d (%s)", first.Promoted, first.Compared, first.Champion, st.champion, first.Reason)
	}
	if mv, _ := st.Model(ctx, first.Best.Version); !mv.CreatedAt.Equal(time.Date(2026, 1, 2, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("stored model created at %v, want the job's clock", mv.CreatedAt)
	}

	st.signal = 1 // the data now has a cause the challenger learns
	second, err := trainJob(st).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Compared || !second.Promoted || st.champion != second.Best.Version || second.Champion != first.Best.Version {
		t.Fatalf("second run: compared %v promoted %v, champion %d (%s)", second.Compared, second.Promoted, st.champion, second.Reason)
	}
	// The champion was judged on the challenger's holdout snapshot.
	want := holdoutPRAUC(t, st, first.Best.Version, second.Schedule.Holdout)
	if second.ChampionPR != want || !(second.Best.Model.Report.PRAUC > want) {
		t.Fatalf("champion PR-AUC %.4f, want %.4f on the holdout of %s; challenger %.4f",
			second.ChampionPR, want, second.Schedule.Holdout.Format(time.DateOnly), second.Best.Model.Report.PRAUC)
	}

	// The same data trains the same model: a tie keeps the champion.
	third, err := trainJob(st).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if third.Promoted || !third.Compared || st.champion != second.Best.Version {
		t.Fatalf("third run: promoted %v compared %v, champion %d (%s)", third.Promoted, third.Compared, st.champion, third.Reason)
	}
}

func TestTrainLeavesTheChampionAloneWhenACandidateCannotBeStoredOrTheChampionRead(t *testing.T) {
	ctx := context.Background()
	st := newMemStore(400)
	res, err := trainJob(st).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.failOn("SaveModel")
	j := trainJob(st)
	j.Force = true
	if _, err := j.Run(ctx); churn.ErrorKind(err) != churn.KindUnavailable || st.champion != res.Best.Version {
		t.Fatalf("a failed save: %v, champion %d; want the store's error and champion %d", err, st.champion, res.Best.Version)
	}
	// The champion's file is damaged: the run fails rather than replacing a
	// champion it could not compare with.
	st = newMemStore(400)
	if _, err := trainJob(st).Run(ctx); err != nil {
		t.Fatal(err)
	}
	st.models[0].Artifact = []byte("not a model")
	if _, err := trainJob(st).Run(ctx); err == nil {
		t.Fatal("a run whose champion cannot be read promoted or passed")
	}
	if st.champion != 1 {
		t.Fatalf("champion %d: the challenger was promoted over an unreadable champion (calls %v)", st.champion, st.calls)
	}
}

func TestAFailedCandidateFailsTheRunAndPromotesNothing(t *testing.T) {
	ctx := context.Background()
	st := newMemStore(400)
	if _, err := trainJob(st).Run(ctx); err != nil {
		t.Fatal(err)
	}
	bad := fastXGB()
	bad[0].XGB.MaxDepth = -1
	j := trainJob(st)
	j.Candidates, j.Force = append(fastXGB(), bad...), true
	if _, err := j.Run(ctx); churn.ErrorKind(err) != churn.KindInvalid || !strings.Contains(err.Error(), "max_depth") {
		t.Fatalf("err %v, want the candidate's invalid max_depth", err)
	}
	if st.champion != 1 || len(st.models) != 1 {
		t.Fatalf("champion %d of %d models: a failed run stored or promoted a candidate", st.champion, len(st.models))
	}
}

func TestTheChampionIsJudgedWithItsOwnCategoriesWhenTheRegionsChanged(t *testing.T) {
	ctx := context.Background()
	st := newMemStore(400)
	st.signal = 0
	if _, err := trainJob(st).Run(ctx); err != nil {
		t.Fatal(err)
	}
	st.signal, st.regions = 1, []string{"east", "north", "south"}
	st.queries = nil
	res, err := trainJob(st).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var reencoded bool
	for _, q := range st.queries {
		reencoded = reencoded || (q["as_of"] == res.Schedule.Holdout.Format(time.DateOnly) && slices.Equal(q["regions"].([]string), []string{"north", "south"}))
	}
	if !reencoded {
		t.Fatalf("no holdout query with the champion's regions among %d queries", len(st.queries))
	}
	if want := holdoutPRAUC(t, st, 1, res.Schedule.Holdout); !res.Compared || res.ChampionPR != want {
		t.Fatalf("compared %v, champion PR-AUC %.4f; want %.4f on the holdout encoded with its own regions", res.Compared, res.ChampionPR, want)
	}
}

func TestForceAlwaysPromotesTheBestCandidate(t *testing.T) {
	ctx := context.Background()
	st := newMemStore(400)
	if _, err := trainJob(st).Run(ctx); err != nil {
		t.Fatal(err)
	}
	j := trainJob(st)
	j.Force = true
	res, err := j.Run(ctx)
	if err != nil || !res.Promoted || res.Compared || st.champion != res.Best.Version {
		t.Fatalf("forced run: promoted %v compared %v champion %d (%v)", res.Promoted, res.Compared, st.champion, err)
	}
}

func TestLogisticCandidatesFitOnTheirOwnCappedSampleAndTheRunSaysHowMany(t *testing.T) {
	st := newMemStore(600)
	j := trainJob(st)
	j.Candidates = quick() // a logistic regression and boosted trees
	j.MaxLogisticRows = 300
	res, err := j.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.FitRows <= j.MaxLogisticRows || res.LogisticFitRows != j.MaxLogisticRows {
		t.Fatalf("fit on %d rows, the logistic candidates on %d; want them capped at %d", res.FitRows, res.LogisticFitRows, j.MaxLogisticRows)
	}
	for _, c := range res.Candidates {
		want := res.FitRows
		if c.Model.Algorithm == model.AlgoLogistic {
			want = j.MaxLogisticRows
		}
		if c.FitRows != want {
			t.Errorf("%s fit on %d rows, want %d", c.Name, c.FitRows, want)
		}
	}
}

func TestALogisticCapThatCannotHoldBothClassesIsRefusedBeforeAnySnapshot(t *testing.T) {
	st := newMemStore(100)
	j := trainJob(st)
	j.MaxLogisticRows = -1
	snapshots := 0
	j.Progress = func(step string, _ int64) {
		if step == "snapshot" {
			snapshots++
		}
	}
	_, err := j.Run(context.Background())
	if churn.ErrorKind(err) != churn.KindInvalid || !strings.Contains(err.Error(), "max_logistic_rows") || snapshots != 0 {
		t.Fatalf("cap -1: err %v after %d snapshots, want an invalid max_logistic_rows before any", err, snapshots)
	}
}
