package main

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// The cluster suite runs against the two-shard, two-replica cluster of `make
// cluster` (scripts/cluster.sh); without it the tests skip, under CI=true
// they fail.

// clusterWorkflow runs migrate, seed, train and score with the given
// connection flags and returns the client of the database it filled.
func clusterWorkflow(t *testing.T, cfg clickhouse.Config) *clickhouse.Client {
	t.Helper()
	conn := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	if cfg.Cluster != "" {
		conn = append(conn, "--cluster", cfg.Cluster)
	}
	for _, step := range [][]string{
		{"migrate"},
		{"seed", "--customers", "1500", "--months", "12", "--seed", "3"},
		{"train", "--seed", "5"},
		{"score"},
	} {
		if _, errOut, code := run(t, append(step, conn...)...); code != 0 {
			t.Fatalf("%s on %s (cluster %q): exit %d: %s", step[0], cfg.Addr, cfg.Cluster, code, errOut)
		}
	}
	c, err := clickhouse.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Database, err)
	}
	t.Cleanup(func() {
		if err := c.DropDatabase(context.Background()); err != nil {
			t.Logf("drop %s: %v", cfg.Database, err)
		}
		c.Close()
	})
	return c
}

type storedModel struct {
	algorithm string
	metrics   map[string]float64
}

func readModels(t *testing.T, c *clickhouse.Client) (map[uint32]storedModel, uint32) {
	t.Helper()
	ctx := context.Background()
	out := map[uint32]storedModel{}
	rows, err := c.Conn().Query(ctx, "SELECT version, algorithm, metrics FROM models")
	if err != nil {
		t.Fatalf("read models of %s: %v", c.Database(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		var m storedModel
		var metrics string
		if err := rows.Scan(&v, &m.algorithm, &metrics); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(metrics), &m.metrics); err != nil {
			t.Fatalf("model %d metrics %q: %v", v, metrics, err)
		}
		out[v] = m
	}
	var champion uint32
	if err := c.Conn().QueryRow(ctx, "SELECT argMax(version, seq) FROM model_events WHERE event = 'promote'").Scan(&champion); err != nil {
		t.Fatalf("read the champion of %s: %v", c.Database(), err)
	}
	return out, champion
}

func readScores(t *testing.T, c *clickhouse.Client) map[string]float32 {
	t.Helper()
	ctx := context.Background()
	var run string
	if err := c.Conn().QueryRow(ctx, "SELECT argMax(run_id, at) FROM score_runs WHERE status = 'finished'").Scan(&run); err != nil {
		t.Fatalf("read the last run of %s: %v", c.Database(), err)
	}
	rows, err := c.Conn().Query(ctx, "SELECT customer_id, probability FROM scores WHERE run_id = ?", run)
	if err != nil {
		t.Fatalf("read scores of %s: %v", c.Database(), err)
	}
	defer rows.Close()
	out := map[string]float32{}
	for rows.Next() {
		var id string
		var p float32
		if err := rows.Scan(&id, &p); err != nil {
			t.Fatal(err)
		}
		out[id] = p
	}
	return out
}

func TestClusterTrainsAndScoresAsOneNodeDoes(t *testing.T) {
	chtest.Require(t)
	chtest.RequireCluster(t)
	single := clusterWorkflow(t, chtest.Config())
	clusterCfg := chtest.ClusterConfig()
	cluster := clusterWorkflow(t, clusterCfg)

	wantModels, wantChampion := readModels(t, single)
	gotModels, gotChampion := readModels(t, cluster)
	if gotChampion != wantChampion || len(gotModels) != len(wantModels) || len(wantModels) == 0 {
		t.Fatalf("cluster: champion %d of %d models, single node: champion %d of %d", gotChampion, len(gotModels), wantChampion, len(wantModels))
	}
	for v, want := range wantModels {
		got := gotModels[v]
		if got.algorithm != want.algorithm || len(got.metrics) != len(want.metrics) {
			t.Fatalf("model %d: cluster %s %v, single node %s %v", v, got.algorithm, got.metrics, want.algorithm, want.metrics)
		}
		for k, w := range want.metrics {
			if g, ok := got.metrics[k]; !ok || math.Abs(g-w) > 1e-6 {
				t.Errorf("model %d metric %s: cluster %v, single node %v", v, k, g, w)
			}
		}
	}

	want, got := readScores(t, single), readScores(t, cluster)
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("cluster scored %d customers, single node %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok || math.Abs(float64(g-w)) > 1e-6 {
			t.Errorf("customer %s: cluster probability %v (scored %v), single node %v", id, g, ok, w)
		}
	}
	if t.Failed() {
		return
	}
	// The same cluster database then runs the rest of the product.
	clusterOperations(t, clusterCfg, cluster)
}

func TestClusterMigrateTwiceIsANoOp(t *testing.T) {
	chtest.RequireCluster(t)
	c, cfg := chtest.NewClusterDB(t)
	ctx := context.Background()
	tables := func() map[string]string {
		out := map[string]string{}
		nodes, err := c.ClusterNodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			nc, err := clickhouse.Open(ctx, clickhouse.Config{Addr: n.Addr, Database: cfg.Database}, nil)
			if err != nil {
				t.Fatalf("node %s: %v", n.Addr, err)
			}
			rows, err := nc.Conn().Query(ctx, "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()")
			if err != nil {
				t.Fatalf("node %s: %v", n.Addr, err)
			}
			for rows.Next() {
				var name, engine string
				if err := rows.Scan(&name, &engine); err != nil {
					t.Fatal(err)
				}
				out[n.Addr+" "+name] = engine
			}
			rows.Close()
			// The table is replicated to every node, asynchronously: wait
			// for this node's copy.
			if err := nc.Conn().Exec(ctx, "SYSTEM SYNC REPLICA schema_migrations"); err != nil {
				t.Fatalf("node %s: %v", n.Addr, err)
			}
			var applied uint64
			if err := nc.Conn().QueryRow(ctx, "SELECT count() FROM schema_migrations").Scan(&applied); err != nil {
				t.Fatalf("node %s: %v", n.Addr, err)
			}
			out[n.Addr+" schema_migrations rows"] = strings.Repeat("x", int(applied))
			nc.Close()
		}
		return out
	}
	before := tables()
	for key, engine := range before {
		name := key[strings.Index(key, " ")+1:]
		switch {
		case name == "usage_daily" && !strings.HasPrefix(engine, "Distributed(churn_cluster"):
			t.Errorf("%s: engine %s, want Distributed over the local table", key, engine)
		case name == "usage_daily_local" && !strings.HasPrefix(engine, "ReplicatedMergeTree('/clickhouse/tables/{shard}/"):
			t.Errorf("%s: engine %s, want ReplicatedMergeTree per shard", key, engine)
		case name == "models" && !strings.HasPrefix(engine, "ReplicatedMergeTree('/clickhouse/tables/all/"):
			t.Errorf("%s: engine %s, want ReplicatedMergeTree on every node", key, engine)
		}
	}
	all, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(before[chtest.ClusterAddr()+" schema_migrations rows"]); n != len(all) {
		t.Fatalf("schema_migrations has %d rows on %s, want %d", n, chtest.ClusterAddr(), len(all))
	}
	out, errOut, code := run(t, "migrate", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database, "--cluster", cfg.Cluster)
	if code != 0 || !strings.Contains(out, "(0 migrations applied now)") {
		t.Fatalf("second migrate (exit %d): %s%s", code, out, errOut)
	}
	after := tables()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %q before the second migrate, %q after", k, v, after[k])
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d tables before the second migrate, %d after", len(before), len(after))
	}
}
