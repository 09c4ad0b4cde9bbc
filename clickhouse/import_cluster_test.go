package clickhouse_test

import (
	"context"
	"testing"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// countOnNodes runs a count on each node of the test cluster, by node address.
func countOnNodes(t *testing.T, c *clickhouse.Client, cfg clickhouse.Config, q string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	chtest.EachNode(t, c, cfg, func(n clickhouse.ClusterNode, nc *clickhouse.Client) {
		var k uint64
		if err := nc.Conn().QueryRow(context.Background(), q).Scan(&k); err != nil {
			t.Fatalf("node %s: %s: %v", n.Addr, q, err)
		}
		out[n.Addr] = k
	})
	return out
}

// clusterImport validates a CSV body against the cluster database and imports it.
func clusterImport(t *testing.T, ctx context.Context, c *clickhouse.Client, table, body string, opts clickhouse.ImportOptions) error {
	t.Helper()
	cols, err := impRead(t, c, table, body)
	if err != nil {
		t.Fatalf("validate %s: %v", table, err)
	}
	return c.Import(ctx, table, cols, opts)
}

// TestClusterStagedImportIsAllOrNothingOnEveryShardAndReplica loads a file
// larger than one block into the cluster: every row lands on its
// customer's shard and on both replicas, and no staging table is left. Then
// a second staged import is cancelled after its first partition moved: the
// moved rows are taken out on every shard and replica before Import
// returns, and the rows of the first import, in the same partitions, stay.
// The same second file imported again then loads in full.
func TestClusterStagedImportIsAllOrNothingOnEveryShardAndReplica(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	ctx := context.Background()
	const customers, days = 40, 4
	if err := clusterImport(t, ctx, c, "customers", chtest.CustomersCSV(customers), clickhouse.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var blocks, moves int
	err := clusterImport(t, ctx, c, "usage_daily", chtest.UsageCSV(customers, days, 2024, 5), clickhouse.ImportOptions{BlockRows: 30,
		AfterBlock: func(int) { blocks++ }, AfterPartition: func(string) { moves++ }})
	if err != nil {
		t.Fatal(err)
	}
	// 160 rows in blocks of 30; two shards, each with the rows of its
	// customers in the two months.
	if blocks != 6 || moves != 4 {
		t.Errorf("%d blocks staged and %d partitions moved, want 6 and 4 (2 months x 2 shards)", blocks, moves)
	}
	if n := impCount(t, c, "SELECT count() FROM usage_daily"); n != customers*days {
		t.Errorf("usage_daily has %d rows, want %d", n, customers*days)
	}
	// Import returns once every replica has the moved rows.
	perShard := map[uint32]uint64{}
	for addr, n := range countOnNodes(t, c, cfg, "SELECT count() FROM usage_daily_local") {
		shard := nodeShard(t, c, addr)
		if prev, ok := perShard[shard]; ok && prev != n {
			t.Errorf("shard %d: replicas hold %d and %d usage rows", shard, prev, n)
		}
		perShard[shard] = n
	}
	if len(perShard) != 2 || perShard[1] == 0 || perShard[2] == 0 || perShard[1]+perShard[2] != customers*days {
		t.Errorf("usage rows per shard %v, want %d over both shards", perShard, customers*days)
	}
	// Per-shard feature queries join a customer's rows on its shard.
	for addr, n := range countOnNodes(t, c, cfg,
		"SELECT count() FROM usage_daily_local WHERE customer_id NOT IN (SELECT customer_id FROM customers_local)") {
		if n != 0 {
			t.Errorf("node %s: %d usage rows of customers stored on the other shard", addr, n)
		}
	}
	noStagingTables(t, c, cfg)

	const sum = "SELECT sum(cityHash64(customer_id, day, voice_minutes)) FROM usage_daily_local"
	before := countOnNodes(t, c, cfg, sum)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	moved := 0
	// The same months of 2024 again (other days): the partitions that move
	// hold rows of the first import.
	body := chtest.UsageCSV(customers, days, 2024, 6)
	err = clusterImport(t, cctx, c, "usage_daily", body, clickhouse.ImportOptions{BlockRows: 50,
		AfterPartition: func(string) { moved++; cancel() }})
	if err == nil || moved != 1 {
		t.Fatalf("import cancelled after the first move: err %v after %d moves, want an error after 1", err, moved)
	}
	after := countOnNodes(t, c, cfg, sum)
	for addr, b := range before {
		if after[addr] != b {
			t.Errorf("node %s: usage_daily_local checksum %d after the stopped import, %d before", addr, after[addr], b)
		}
	}
	noStagingTables(t, c, cfg)

	// The same file again: ReplicatedMergeTree must not take its rows for
	// the ones the undo deleted.
	if err := clusterImport(t, ctx, c, "usage_daily", body, clickhouse.ImportOptions{BlockRows: 50}); err != nil {
		t.Fatal(err)
	}
	for addr, n := range countOnNodes(t, c, cfg, "SELECT count() FROM usage_daily_local") {
		if want := perShard[nodeShard(t, c, addr)] * 2; n != want {
			t.Errorf("node %s: %d usage rows after importing the stopped file again, want %d", addr, n, want)
		}
	}
}

func noStagingTables(t *testing.T, c *clickhouse.Client, cfg clickhouse.Config) {
	t.Helper()
	for addr, n := range countOnNodes(t, c, cfg, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%\\_import\\_%'") {
		if n != 0 {
			t.Errorf("node %s: %d staging tables left behind", addr, n)
		}
	}
}

func nodeShard(t *testing.T, c *clickhouse.Client, addr string) uint32 {
	t.Helper()
	nodes, err := c.ClusterNodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.Addr == addr {
			return n.Shard
		}
	}
	t.Fatalf("no node %s in the cluster", addr)
	return 0
}
