package clickhouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// TestRunsLeftStartedByADeadProcessAreFailedAndTheirRowsRemoved writes the
// debris of runs that died (a started row and some scores) beside runs
// still going and a finished one, and reconciles.
func TestRunsLeftStartedByADeadProcessAreFailedAndTheirRowsRemoved(t *testing.T) {
	now := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c, cfg := chtest.NewDBAt(t, clock)
	ctx := context.Background()
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	// One client per process that starts runs: its owner is on its rows.
	as := func(owner string) *clickhouse.Client {
		cfg := cfg
		cfg.Owner = owner
		oc, err := clickhouse.Open(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { oc.Close() })
		return oc
	}
	start := func(oc *clickhouse.Client, run string, rows int) {
		t.Helper()
		if err := oc.RecordScoreRun(ctx, run, asOf, 1, churn.ScoreRunStarted, 0, ""); err != nil {
			t.Fatal(err)
		}
		var scores []churn.Score
		for i := range rows {
			scores = append(scores, churn.Score{RunID: run, CustomerID: "c" + string(rune('a'+i)), AsOf: asOf, ModelVersion: 1, Band: churn.RiskLow, Tier: churn.TierC})
		}
		if err := oc.WriteScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
	}
	start(as("hostA:100"), "old-alive", 2) // alive, but started longer ago than the timeout
	now = now.Add(3 * time.Hour)
	start(as("hostA:200"), "dead", 3)    // its process is gone
	start(as("hostA:300"), "running", 2) // still going
	start(as(""), "finished", 2)
	if err := c.RecordScoreRun(ctx, "finished", asOf, 1, churn.ScoreRunFinished, 2, ""); err != nil {
		t.Fatal(err)
	}
	alive := func(owner string) bool { return owner != "hostA:200" }

	res, err := c.ReconcileScoreRuns(ctx, clickhouse.ReconcileOptions{Alive: alive, MaxAge: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Failed, ","); got != "old-alive,dead" && got != "dead,old-alive" {
		t.Errorf("marked failed %v, want dead and old-alive", res.Failed)
	}
	if got := strings.Join(res.Purged, ","); got != "dead,old-alive" {
		t.Errorf("rows removed of %v, want dead,old-alive", res.Purged)
	}
	for run, want := range map[string]churn.ScoreRunStatus{"old-alive": churn.ScoreRunPurged, "dead": churn.ScoreRunPurged,
		"running": churn.ScoreRunStarted, "finished": churn.ScoreRunFinished} {
		if got, _, err := c.RunStatus(ctx, run); err != nil || got != want {
			t.Errorf("run %s is %q (%v), want %q", run, got, err, want)
		}
	}
	if _, _, err := c.RunStatus(ctx, "nope"); churn.ErrorKind(err) != churn.KindNotFound {
		t.Errorf("status of an unknown run: %v, want not found", err)
	}
	// The delete is a mutation that ClickHouse runs in the background.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n uint64
		if err := c.Conn().QueryRow(ctx, "SELECT count() FROM scores WHERE run_id IN ('dead', 'old-alive')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d score rows of failed runs are still there", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var kept uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM scores WHERE run_id IN ('running', 'finished')").Scan(&kept); err != nil || kept != 4 {
		t.Fatalf("rows of the running and the finished run: %d (%v), want 4", kept, err)
	}
	// A second pass finds nothing more to do.
	if res, err := c.ReconcileScoreRuns(ctx, clickhouse.ReconcileOptions{Alive: alive, MaxAge: 2 * time.Hour}); err != nil || len(res.Failed)+len(res.Purged) != 0 {
		t.Fatalf("second pass: %+v, %v", res, err)
	}
}

func TestModelsOfATrainingRunThatDidNotFinishAreListedAsSuchAndCannotBePromoted(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	save := func(run string) churn.ModelVersion {
		t.Helper()
		v, err := c.SaveModel(ctx, churn.Model{Algorithm: "xgboost", Features: []string{"tenure_days"}, Artifact: []byte("x"), TrainRun: run,
			Params: map[string]string{}, Metrics: map[string]float64{}, LibraryVersions: map[string]string{}})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, r := range []struct {
		run    string
		status churn.ScoreRunStatus
	}{{"t-failed", churn.ScoreRunStarted}, {"t-failed", churn.ScoreRunFailed}, {"t-running", churn.ScoreRunStarted}, {"t-ok", churn.ScoreRunStarted}, {"t-ok", churn.ScoreRunFinished}} {
		if err := c.RecordTrainRun(ctx, r.run, r.status, ""); err != nil {
			t.Fatal(err)
		}
	}
	legacy, failed, running, ok := save(""), save("t-failed"), save("t-running"), save("t-ok")
	ms, err := c.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[churn.ModelVersion]churn.ScoreRunStatus{legacy: churn.ScoreRunFinished, failed: churn.ScoreRunFailed,
		running: churn.ScoreRunStarted, ok: churn.ScoreRunFinished}
	for _, m := range ms {
		if m.TrainStatus != want[m.Version] {
			t.Errorf("version %d of run %q is listed %q, want %q", m.Version, m.TrainRun, m.TrainStatus, want[m.Version])
		}
	}
	for _, v := range []churn.ModelVersion{failed, running} {
		err := c.Promote(ctx, v, "test", "")
		if churn.ErrorKind(err) != churn.KindConflict || !strings.Contains(err.Error(), "not finished") ||
			!strings.Contains(err.Error(), string(want[v])) {
			t.Errorf("promote version %d: %v, want a conflict naming its run's status", v, err)
		}
	}
	for _, v := range []churn.ModelVersion{legacy, ok} {
		if err := c.Promote(ctx, v, "test", ""); err != nil {
			t.Errorf("promote version %d: %v", v, err)
		}
	}
}
