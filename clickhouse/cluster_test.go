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

// countOnEveryNode counts a table's rows on each node of the cluster (a
// local table: only that node's shard).
func countOnEveryNode(t *testing.T, c *clickhouse.Client, cfg clickhouse.Config, table string) map[uint32]uint64 {
	t.Helper()
	ctx := context.Background()
	perShard := map[uint32]uint64{}
	chtest.EachNode(t, c, cfg, func(n clickhouse.ClusterNode, nc *clickhouse.Client) {
		// Replication to the second replica is asynchronous.
		if err := nc.Conn().Exec(ctx, "SYSTEM SYNC REPLICA "+table); err != nil {
			t.Fatalf("node %s: %v", n.Addr, err)
		}
		var k uint64
		if err := nc.Conn().QueryRow(ctx, "SELECT count() FROM "+table).Scan(&k); err != nil {
			t.Fatalf("node %s: %v", n.Addr, err)
		}
		if prev, ok := perShard[n.Shard]; ok && prev != k {
			t.Errorf("shard %d: replicas hold %d and %d rows of %s", n.Shard, prev, k, table)
		}
		perShard[n.Shard] = k
	})
	return perShard
}

// insertChurnEvents inserts n voluntary churn events of the customers
// prefix000, prefix001, ... in June 2025 and returns their ids and days.
func insertChurnEvents(t *testing.T, c *clickhouse.Client, prefix string, n int) ([]string, []time.Time) {
	t.Helper()
	ids, days, reasons, kinds := make([]string, n), make([]time.Time, n), make([]string, n), make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i)
		days[i] = time.Date(2025, 6, 1+i%28, 0, 0, 0, 0, time.UTC)
		reasons[i], kinds[i] = "price", "voluntary"
	}
	if err := c.InsertColumns(context.Background(), "churn_events", []string{"customer_id", "churned_at", "reason", "kind"},
		[]any{ids, days, reasons, kinds}); err != nil {
		t.Fatal(err)
	}
	return ids, days
}

func TestClusterInsertsShardByCustomerAndDeletesReachEveryShard(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	ctx := context.Background()
	const n = 200
	ids, days := insertChurnEvents(t, c, "c", n)
	// insert_distributed_sync: every row is on its shard when the insert returns.
	perShard := countOnEveryNode(t, c, cfg, "churn_events_local")
	if len(perShard) != 2 || perShard[1]+perShard[2] != n || perShard[1] == 0 || perShard[2] == 0 {
		t.Fatalf("rows per shard %v, want %d split over two shards", perShard, n)
	}

	if err := c.DeleteChurnEvents(ctx, ids[:n/2], days[0], days[0].AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	var left uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM churn_events").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != n/2 {
		t.Fatalf("%d churn events after deleting half of %d, want %d", left, n, n/2)
	}

	if err := c.TruncateContractTables(ctx); err != nil {
		t.Fatal(err)
	}
	if perShard := countOnEveryNode(t, c, cfg, "churn_events_local"); perShard[1]+perShard[2] != 0 {
		t.Fatalf("rows per shard after truncation %v, want none", perShard)
	}
}

func TestClusterReadsJoinShardedAndReplicatedTables(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	ctx := context.Background()
	asOf := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	var scores []churn.Score
	for i := range 20 {
		scores = append(scores, churn.Score{RunID: "r1", CustomerID: fmt.Sprintf("c%03d", i), AsOf: asOf, ModelVersion: 1,
			Probability: float64(i) / 20, Band: churn.RiskLow, Tier: churn.TierC})
	}
	if err := c.WriteScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordScoreRun(ctx, "r1", asOf, 1, churn.ScoreRunFinished, len(scores), ""); err != nil {
		t.Fatal(err)
	}
	// score_runs reaches the other nodes asynchronously; the history query
	// reads it on every shard.
	countOnEveryNode(t, c, cfg, "score_runs")
	for _, s := range scores {
		// scores (Distributed) with a subquery on score_runs (replicated):
		// each shard must find the table in the client's database.
		h, err := c.CustomerHistory(ctx, s.CustomerID, 10)
		if err != nil {
			t.Fatalf("history of %s: %v", s.CustomerID, err)
		}
		if len(h) != 1 || h[0].RunID != "r1" {
			t.Fatalf("history of %s: %+v, want the one score of run r1", s.CustomerID, h)
		}
	}
}

// A delete is done when every replica has run it: each pulls the mutation
// from ZooKeeper in its own time, a replica that has not yet does not list
// it as pending, and system.mutations read through cluster() sees one
// replica of each shard. With merges (which run mutations) stopped on the
// replica that is not the leader (the leader assigns the mutation, and runs
// it) of each shard the client is not connected to (cluster() prefers the
// local replica, so the shard of the client's node would be read from the
// node itself), DeleteChurnEvents must not return while those replicas hold
// the rows: counting pending mutations returned as soon as cluster() read the
// leaders. Once they run it, it returns with no row left on any replica.
func TestClusterDeleteWaitsForEveryReplica(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	ctx := context.Background()
	ids, days := insertChurnEvents(t, c, "d", 40)
	if perShard := countOnEveryNode(t, c, cfg, "churn_events_local"); perShard[1] == 0 || perShard[2] == 0 {
		t.Fatalf("rows per shard %v, want some on each", perShard)
	}
	var local uint32
	chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, _ *clickhouse.Client) {
		if node.Addr == cfg.Addr {
			local = node.Shard
		}
	})
	if local == 0 {
		t.Fatalf("the client's node %s is not in the cluster", cfg.Addr)
	}
	merges := func(verb string) {
		chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, nc *clickhouse.Client) {
			if node.Shard == local {
				return
			}
			var leader uint8
			if err := nc.Conn().QueryRow(ctx, "SELECT is_leader FROM system.replicas WHERE database = currentDatabase() AND table = 'churn_events_local'").Scan(&leader); err != nil {
				t.Fatalf("node %s: %v", node.Addr, err)
			}
			if leader == 1 {
				return
			}
			if err := nc.Conn().Exec(ctx, "SYSTEM "+verb+" MERGES churn_events_local"); err != nil {
				t.Fatalf("node %s: %v", node.Addr, err)
			}
		})
	}
	merges("STOP")
	defer merges("START")

	from, to := days[0], days[0].AddDate(0, 1, 0)
	short, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	if err := c.DeleteChurnEvents(short, ids, from, to); err == nil {
		t.Fatal("DeleteChurnEvents returned while a replica could not run the delete")
	}
	merges("START")
	if err := c.DeleteChurnEvents(ctx, ids, from, to); err != nil {
		t.Fatal(err)
	}
	chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, nc *clickhouse.Client) {
		var k uint64
		if err := nc.Conn().QueryRow(ctx, "SELECT count() FROM churn_events_local").Scan(&k); err != nil {
			t.Fatalf("node %s: %v", node.Addr, err)
		}
		if k != 0 {
			t.Errorf("node %s holds %d churn events after the delete returned", node.Addr, k)
		}
	})
}

// TestClusterActionEventsWaitForALaggingReplica writes action events to one
// replica of the first shard while the other does not fetch them:
// AwaitActionEventsReplicated, which a server runs before it replays the log
// to take the queue over, must not return until that replica has them.
func TestClusterActionEventsWaitForALaggingReplica(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	ctx := context.Background()
	if err := c.AwaitActionEventsReplicated(ctx); err != nil {
		t.Fatalf("an empty log: %v", err)
	}
	var writer, lagging string
	chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, _ *clickhouse.Client) {
		switch {
		case node.Shard == 1 && node.Replica == 1:
			writer = node.Addr
		case node.Shard == 1 && node.Replica == 2:
			lagging = node.Addr
		}
	})
	if writer == "" || lagging == "" {
		t.Fatalf("the cluster has no second replica of shard 1 (writer %q, lagging %q): this test needs two", writer, lagging)
	}
	on := func(addr, q string) {
		chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, nc *clickhouse.Client) {
			if node.Addr == addr {
				if err := nc.Conn().Exec(ctx, q); err != nil {
					t.Fatalf("node %s: %s: %v", addr, q, err)
				}
			}
		})
	}
	on(lagging, "SYSTEM STOP FETCHES action_events_local")
	defer on(lagging, "SYSTEM START FETCHES action_events_local")
	on(writer, `INSERT INTO action_events_local (event_id, action_id, at, event, customer_id)
		SELECT concat('e', toString(number)), concat('a', toString(number)), now(), 'created', concat('C', toString(number)) FROM numbers(20)`)

	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.AwaitActionEventsReplicated(short); err == nil {
		t.Fatal("AwaitActionEventsReplicated returned while a replica lacked 20 events")
	}
	on(lagging, "SYSTEM START FETCHES action_events_local")
	if err := c.AwaitActionEventsReplicated(ctx); err != nil {
		t.Fatal(err)
	}
	chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, nc *clickhouse.Client) {
		var k uint64
		if err := nc.Conn().QueryRow(ctx, "SELECT count() FROM action_events_local").Scan(&k); err != nil {
			t.Fatalf("node %s: %v", node.Addr, err)
		}
		if node.Shard == 1 && k != 20 {
			t.Errorf("node %s holds %d action events after the wait, want 20", node.Addr, k)
		}
	})
}

// The synthetic writes of `churn actions simulate` return only once both
// replicas of each shard hold them: with fetches stopped on every replica,
// whichever one takes a shard's insert, the other lags until fetches resume.
func TestClusterSyntheticWritesWaitForTheReplicas(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	ctx := context.Background()
	everywhere := func(q string) {
		chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, nc *clickhouse.Client) {
			if err := nc.Conn().Exec(ctx, q); err != nil {
				t.Fatalf("node %s: %s: %v", node.Addr, q, err)
			}
		})
	}
	ids := []string{"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"}
	days := make([]time.Time, len(ids))
	for i := range days {
		days[i] = time.Date(2025, 6, 1+i, 0, 0, 0, 0, time.UTC)
	}
	for _, w := range []struct {
		table string
		write func(context.Context) error
		want  uint64
	}{
		{"churn_events", func(ctx context.Context) error { return c.AddSyntheticChurnEvents(ctx, ids, days, "competitor") }, 8},
		{"topups", func(ctx context.Context) error {
			return c.AddSyntheticTopups(ctx, ids, days[0], days[0].AddDate(0, 0, 60), 30, 10)
		}, 16},
	} {
		everywhere("SYSTEM STOP FETCHES " + w.table + "_local")
		done := make(chan error, 1)
		go func() { done <- w.write(ctx) }()
		select {
		case err := <-done:
			everywhere("SYSTEM START FETCHES " + w.table + "_local")
			t.Fatalf("%s: the write returned (%v) while no replica could fetch the other's rows", w.table, err)
		case <-time.After(3 * time.Second):
		}
		everywhere("SYSTEM START FETCHES " + w.table + "_local")
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", w.table, err)
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("%s: the write had not returned 40 s after fetches resumed", w.table)
		}
		held := map[uint32][]uint64{} // by shard, a count per replica
		chtest.EachNode(t, c, cfg, func(node clickhouse.ClusterNode, nc *clickhouse.Client) {
			var k uint64
			if err := nc.Conn().QueryRow(ctx, "SELECT count() FROM "+w.table+"_local").Scan(&k); err != nil {
				t.Fatalf("node %s: %v", node.Addr, err)
			}
			held[node.Shard] = append(held[node.Shard], k)
		})
		var total uint64
		for shard, counts := range held {
			if slices.Min(counts) != slices.Max(counts) {
				t.Errorf("%s: the replicas of shard %d hold %v rows", w.table, shard, counts)
			}
			total += counts[0]
		}
		if total != w.want {
			t.Errorf("%s: the shards hold %d rows, want %d", w.table, total, w.want)
		}
	}
}
