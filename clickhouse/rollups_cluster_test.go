package clickhouse_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// onEveryNode runs statements on each node of the cluster in turn, against
// its local tables.
func onEveryNode(t *testing.T, c *clickhouse.Client, cfg clickhouse.Config, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	nodes, err := c.ClusterNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		nc, err := clickhouse.Open(ctx, clickhouse.Config{Addr: n.Addr, Database: cfg.Database}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range stmts {
			if err := nc.Conn().Exec(ctx, stmt); err != nil {
				t.Fatalf("node %s: %s: %v", n.Addr, stmt, err)
			}
		}
		nc.Close()
	}
}

// syncReplicas waits on every node until each local table has fetched what
// its other replica wrote: a shard's snapshot is read from the first replica
// that answers, and rollup rows are written by the view of the replica that
// took the insert.
func syncReplicas(t *testing.T, c *clickhouse.Client, cfg clickhouse.Config, tables ...string) {
	t.Helper()
	stmts := make([]string, len(tables))
	for i, table := range tables {
		stmts[i] = "SYSTEM SYNC REPLICA " + table
	}
	onEveryNode(t, c, cfg, stmts...)
}

var rollupLocals = []string{"usage_daily_local", "usage_monthly_local"}

func TestClusterSnapshotFromRollupsEqualsDailyRows(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	r := rand.New(rand.NewPCG(23, 4))
	// Inserts through the Distributed usage_daily reach each shard's local
	// table, whose materialized views fill that shard's local rollups.
	insertInParts(t, c, r, randomUsage(t, r, 24))
	syncReplicas(t, c, cfg, rollupLocals...)
	asOfs := []string{"2024-02-29", "2024-06-16", "2024-12-26"}
	if n := sameSnapshots(t, c, asOfs...); n < 500 {
		t.Fatalf("only %d usage values were not zero: the comparison covers too little", n)
	}

	// The backfill of migrate rebuilds empty rollups shard by shard.
	onEveryNode(t, c, cfg, "TRUNCATE TABLE usage_monthly_local")
	if got := impCount(t, c, "SELECT count() FROM usage_monthly"); got != 0 {
		t.Fatalf("usage_monthly holds %d rows after the truncate", got)
	}
	forgetMigration(t, c, 10)
	res, err := clickhouse.Migrate(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 || res.Applied[0].Version != 10 {
		t.Fatalf("applied %v, want migration 10 only", res.Applied)
	}
	syncReplicas(t, c, cfg, rollupLocals...)
	if n := sameSnapshots(t, c, asOfs...); n < 500 {
		t.Fatalf("only %d usage values were not zero after the backfill", n)
	}
}
