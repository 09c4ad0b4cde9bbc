package clickhouse_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// writeMonthlyRuns writes a finished run of n scores as of the first day of
// each month given, and returns their ids.
func writeMonthlyRuns(t *testing.T, c *clickhouse.Client, n int, months ...string) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, m := range months {
		asOf, err := time.Parse(time.DateOnly, m+"-01")
		if err != nil {
			t.Fatal(err)
		}
		id := "run-" + m
		scores := make([]churn.Score, n)
		for i := range scores {
			scores[i] = churn.Score{RunID: id, AsOf: asOf, CustomerID: fmt.Sprintf("C%04d", i), ModelVersion: 1, Probability: 0.1,
				Band: churn.RiskLow, Tier: churn.TierC}
		}
		if err := c.WriteScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
		if err := c.RecordScoreRun(ctx, id, asOf, 1, churn.ScoreRunFinished, n, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func runScores(t *testing.T, c *clickhouse.Client, run string) int {
	t.Helper()
	n := 0
	if err := c.ScanRunScores(context.Background(), run, func(churn.Score) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkPrune prunes before May 2025 a database with runs of March, April
// and May, and checks what is left.
func checkPrune(t *testing.T, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	runs := writeMonthlyRuns(t, c, 300, "2025-03", "2025-04", "2025-05")
	months, err := c.PruneScores(ctx, time.Date(2025, 5, 17, 0, 0, 0, 0, time.UTC))
	if err != nil || !slices.Equal(months, []uint32{202503, 202504}) {
		t.Fatalf("pruned %v (%v), want March and April", months, err)
	}
	for i, want := range []int{0, 0, 300} {
		if got := runScores(t, c, runs[i]); got != want {
			t.Errorf("run %s: %d scores after the prune, want %d", runs[i], got, want)
		}
	}
	if latest, err := c.LatestFinishedRun(ctx); err != nil || latest == nil || latest.ID != runs[2] {
		t.Errorf("latest run after the prune: %+v (%v)", latest, err)
	}
	if months, err := c.PruneScores(ctx, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)); err != nil || len(months) != 0 {
		t.Fatalf("a second prune dropped %v (%v), want nothing", months, err)
	}
}

func TestPruneScoresDropsTheMonthsBeforeAndKeepsTheRest(t *testing.T) {
	c, _ := chtest.NewDB(t)
	checkPrune(t, c)
}

func TestClusterPruneScoresDropsTheMonthsOnEveryShard(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	checkPrune(t, c)
	perShard := countOnEveryNode(t, c, cfg, "scores_local")
	if len(perShard) != 2 || perShard[1]+perShard[2] != 300 || perShard[1] == 0 || perShard[2] == 0 {
		t.Fatalf("scores per shard after the prune %v, want May's 300 over two shards", perShard)
	}
}
