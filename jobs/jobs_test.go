package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/liblinear"
)

// TestMain lets the test binary serve as the liblinear child that training
// starts (the helper-process pattern).
func TestMain(m *testing.M) { os.Exit(liblinear.RunChildOr(m.Run)) }

type clientT = clickhouse.Client

// seeded returns a database with a small synthetic operator.
func seeded(t *testing.T, customers int) *clickhouse.Client {
	t.Helper()
	c, _ := chtest.NewDB(t)
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = customers, 12, 3
	if _, err := synth.Load(context.Background(), cfg, c, synth.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// quick candidates keep the test to seconds: one of each algorithm.
func quick() []model.Candidate {
	c := model.SnapshotCandidates(2)
	return []model.Candidate{c[0], c[2]}
}

// failingWrites makes WriteScores fail, as a ClickHouse outage would.
type failingWrites struct{}

func (failingWrites) WriteScores(context.Context, []churn.Score) error {
	return churn.Unavailable("insert into scores", errors.New("connection refused"))
}

func TestTrainPromotesThenKeepsTheChampionAndScoringPublishesRuns(t *testing.T) {
	c := seeded(t, 3000)
	ctx := context.Background()
	trainedAt := time.Date(2025, 7, 1, 6, 0, 0, 0, time.UTC)
	tr := &jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 4, Candidates: quick(), Now: func() time.Time { return trainedAt }}
	res, err := tr.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 2 || !res.Promoted || res.Champion != 0 {
		t.Fatalf("first run: %d candidates, promoted %v, champion before %d", len(res.Candidates), res.Promoted, res.Champion)
	}
	if auc := res.Best.Model.Report.AUC; auc < 0.7 {
		t.Fatalf("holdout AUC %.3f: the planted causes should be learnable", auc)
	}
	champ, _ := c.ChampionVersion(ctx)
	if champ != res.Best.Version {
		t.Fatalf("champion %d, want best version %d", champ, res.Best.Version)
	}
	mv, err := c.Model(ctx, res.Best.Version)
	if err != nil || mv.Metrics["pr_auc"] != res.Best.Model.Report.PRAUC || len(mv.Features) < 40 || !mv.HoldoutAsOf.Equal(res.Schedule.Holdout) {
		t.Fatalf("registry entry %+v (err %v)", mv.Metrics, err)
	}
	stored, err := model.Unmarshal(mv.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	stored.Close()
	if !mv.CreatedAt.Equal(trainedAt) || !stored.CreatedAt.Equal(trainedAt) {
		t.Fatalf("created at %v in the registry, %v in the model file; want the job's clock %v", mv.CreatedAt, stored.CreatedAt, trainedAt)
	}

	// Same data, same candidates: the challenger ties and the champion stays.
	res2, err := tr.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Promoted || !res2.Compared || res2.Champion != res.Best.Version {
		t.Fatalf("second run: promoted %v compared %v champion %d (%s)", res2.Promoted, res2.Compared, res2.Champion, res2.Reason)
	}

	sc := &jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c}
	run, err := sc.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := c.LatestFinishedRun(ctx)
	if err != nil || latest == nil || latest.ID != run.RunID || int(latest.Rows) != run.Rows {
		t.Fatalf("latest run %+v, want %s with %d rows (err %v)", latest, run.RunID, run.Rows, err)
	}
	var n, withReasons, high int
	err = c.ScanRunScores(ctx, run.RunID, func(s churn.Score) error {
		n++
		if len(s.Reasons) > 0 && s.Reasons[0].Text != "" {
			withReasons++
		}
		if s.Band == churn.RiskHigh {
			high++
		}
		if s.ExpectedLoss < 0 || s.Probability < 0 || s.Probability > 1 {
			return fmt.Errorf("score %+v out of range", s)
		}
		return nil
	})
	if err != nil || n != run.Rows {
		t.Fatalf("read %d of %d scores: %v", n, run.Rows, err)
	}
	if withReasons < n/2 || high < n/25 || high > n/15 {
		t.Fatalf("%d of %d scores have reasons, %d high-risk (want about 5%%)", withReasons, n, high)
	}

	// A run that fails while writing is recorded as failed and the previous
	// run stays the one readers see.
	_, err = (&jobs.Scoring{Data: c, Models: c, Runs: c, Scores: failingWrites{}}).Run(ctx)
	if churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("failing run: %v", err)
	}
	latest, _ = c.LatestFinishedRun(ctx)
	if latest.ID != run.RunID {
		t.Fatalf("after a failed run the latest finished run is %s, want %s", latest.ID, run.RunID)
	}
	var failed uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM score_runs WHERE status = 'failed'").Scan(&failed); err != nil || failed != 1 {
		t.Fatalf("failed runs recorded: %d (%v)", failed, err)
	}
}

func TestScoringWithoutAChampionSaysHowToGetOne(t *testing.T) {
	c, _ := chtest.NewDB(t)
	_, err := (&jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c}).Run(context.Background())
	if churn.ErrorKind(err) != churn.KindNotFound {
		t.Fatalf("err %v, want not found", err)
	}
}
