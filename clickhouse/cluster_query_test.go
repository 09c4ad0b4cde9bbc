package clickhouse

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/telcoretain/churn"
)

func TestShardMatricesMergeInCustomerOrder(t *testing.T) {
	a := &churn.Matrix{Features: []string{"x"}, IDs: []string{"C1", "C4"}, Cols: [][]float32{{1, 4}}, Labels: []float32{0, 1}}
	b := &churn.Matrix{Features: []string{"x"}, IDs: []string{"C2", "C3", "C5"}, Cols: [][]float32{{2, 3, 5}}, Labels: []float32{1, 0, 0}}
	m, err := mergeByID([]*churn.Matrix{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.IDs, []string{"C1", "C2", "C3", "C4", "C5"}) || !slices.Equal(m.Cols[0], []float32{1, 2, 3, 4, 5}) ||
		!slices.Equal(m.Labels, []float32{0, 1, 0, 1, 0}) {
		t.Fatalf("merged %v %v %v", m.IDs, m.Cols[0], m.Labels)
	}
	if _, err := mergeByID([]*churn.Matrix{a, {Features: []string{"y"}, Cols: [][]float32{nil}}}); err == nil {
		t.Fatal("shards with different columns merged")
	}
}

// clusterNode is a live node of the test cluster of `make cluster` (the
// chtest helpers cannot be imported here: they import this package).
func clusterNode(t *testing.T) *Client {
	t.Helper()
	addr := os.Getenv("CHURN_TEST_CLUSTER_ADDR")
	if addr == "" {
		addr = "127.0.0.1:19001"
	}
	c, err := Open(context.Background(), Config{Addr: addr, Database: "default", Cluster: "churn_cluster"}, nil)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the ClickHouse cluster is required in CI: %v", err)
		}
		t.Skipf("no ClickHouse cluster (make cluster): %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestShardQueryMovesToTheNextReplicaWhenOneIsDown(t *testing.T) {
	c := clusterNode(t)
	ctx := context.Background()
	const q = "SELECT toString(number) AS customer_id, toFloat32(number) AS x FROM system.numbers LIMIT 3"
	down := ClusterNode{Shard: 1, Replica: 1, Addr: "127.0.0.1:1"} // nothing listens on port 1
	live := ClusterNode{Shard: 1, Replica: 2, Addr: c.Addr()}
	run := func(nc *Client) (*churn.Matrix, error) { return nc.QueryMatrix(ctx, q, nil, nil) }
	m, err := queryShard(c, ctx, []ClusterNode{down, live}, run)
	if err != nil {
		t.Fatalf("query with the first replica down: %v", err)
	}
	if m.Rows() != 3 {
		t.Fatalf("%d rows from the second replica, want 3", m.Rows())
	}
	_, err = queryShard(c, ctx, []ClusterNode{down, {Shard: 1, Replica: 2, Addr: "127.0.0.1:2"}}, run)
	if churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("query with every replica down: %v, want an unavailable error", err)
	}
}
