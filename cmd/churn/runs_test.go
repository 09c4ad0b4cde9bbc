package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// TestACrashedScoringRunIsRefusedByPlanAndCleanedUpByStatus leaves the debris
// of a scoring run whose process died (a started row of a pid that does not
// exist, and some scores): `actions plan --run` refuses it, and `churn
// status` marks it failed and removes its rows.
func TestACrashedScoringRunIsRefusedByPlanAndCleanedUpByStatus(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	host, _ := os.Hostname()
	dead := cfg
	dead.Owner = host + ":99999999" // above any pid_max: no such process
	dc, err := clickhouse.Open(ctx, dead, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := dc.RecordScoreRun(ctx, "crashed", asOf, 1, churn.ScoreRunStarted, 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := dc.WriteScores(ctx, []churn.Score{{RunID: "crashed", CustomerID: "c1", AsOf: asOf, ModelVersion: 1, Band: churn.RiskHigh, Tier: churn.TierA}}); err != nil {
		t.Fatal(err)
	}
	db := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}

	_, errOut, code := run(t, append([]string{"actions", "plan", "--dry-run", "--run", "crashed"}, db...)...)
	if code == 0 || !strings.Contains(errOut, "scoring run crashed is started, not finished") {
		t.Fatalf("plan from a crashed run: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := run(t, append([]string{"status"}, db...)...); code != 0 {
		t.Fatalf("status: exit %d\n%s", code, errOut)
	}
	if st, _, err := c.RunStatus(ctx, "crashed"); err != nil || st != churn.ScoreRunPurged {
		t.Fatalf("after status the run is %q (%v), want purged", st, err)
	}
	_, errOut, code = run(t, append([]string{"actions", "plan", "--dry-run", "--run", "crashed"}, db...)...)
	if code == 0 || !strings.Contains(errOut, "is purged, not finished") {
		t.Fatalf("plan from a cleaned-up run: exit %d\n%s", code, errOut)
	}
}
