package chtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
)

// ClusterAddr is a node of the test cluster that `make cluster` starts:
// CHURN_TEST_CLUSTER_ADDR, else 127.0.0.1:19001.
func ClusterAddr() string {
	if v := os.Getenv("CHURN_TEST_CLUSTER_ADDR"); v != "" {
		return v
	}
	return "127.0.0.1:19001"
}

// ClusterName is the test cluster's name in remote_servers:
// CHURN_TEST_CLUSTER, else churn_cluster.
func ClusterName() string {
	if v := os.Getenv("CHURN_TEST_CLUSTER"); v != "" {
		return v
	}
	return "churn_cluster"
}

// ClusterConfig returns a configuration for a new database with a unique
// name on the test cluster.
func ClusterConfig() clickhouse.Config {
	cfg := Config()
	cfg.Addr, cfg.Cluster = ClusterAddr(), ClusterName()
	return cfg
}

// RequireCluster stops the test when the test cluster does not answer: a
// skip on a developer's machine (start it with `make cluster`), a failure
// when CI=true, since .ci/run starts it.
func RequireCluster(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg := ClusterConfig()
	cfg.Database = "default"
	c, err := clickhouse.Open(ctx, cfg, nil)
	if err == nil {
		defer c.Close()
		_, err = c.ClusterNodes(ctx)
	}
	need(t, "a ClickHouse cluster", "start one with `make cluster`; CI=true makes this a failure, and .ci/run starts it", err)
}

// NewClusterDB creates a database migrated in cluster mode on the test
// cluster, returns a client to it and its configuration, and drops it on
// every node when the test ends (unless CHURN_TEST_KEEP_DB is set).
func NewClusterDB(t testing.TB) (*clickhouse.Client, clickhouse.Config) {
	t.Helper()
	RequireCluster(t)
	ctx := context.Background()
	cfg := ClusterConfig()
	if _, err := clickhouse.Migrate(ctx, cfg, nil); err != nil {
		t.Fatalf("migrate %s on cluster %s: %v", cfg.Database, cfg.Cluster, err)
	}
	c, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("open %s on cluster %s: %v", cfg.Database, cfg.Cluster, err)
	}
	t.Cleanup(func() { dropAtEnd(t, c, cfg) })
	return c, cfg
}

func dropAtEnd(t testing.TB, c *clickhouse.Client, cfg clickhouse.Config) {
	defer c.Close()
	if os.Getenv("CHURN_TEST_KEEP_DB") != "" {
		t.Logf("kept database %s", cfg.Database)
		return
	}
	if err := c.DropDatabase(context.Background()); err != nil {
		t.Logf("drop %s: %v", cfg.Database, err)
	}
}

// EachNode calls fn with a client of each node of c's cluster (on the
// database of cfg, as a single server: local tables by their own names), in
// shard and replica order.
func EachNode(t testing.TB, c *clickhouse.Client, cfg clickhouse.Config, fn func(n clickhouse.ClusterNode, nc *clickhouse.Client)) {
	t.Helper()
	ctx := context.Background()
	nodes, err := c.ClusterNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		nc, err := clickhouse.Open(ctx, clickhouse.Config{Addr: n.Addr, Database: cfg.Database, User: cfg.User, Password: cfg.Password}, nil)
		if err != nil {
			t.Fatalf("node %s: %v", n.Addr, err)
		}
		fn(n, nc)
		nc.Close()
	}
}
