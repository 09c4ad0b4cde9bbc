package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse/chtest"
)

// killNode kills one server of the `make cluster` cluster, as a crash would,
// by the pid scripts/cluster.sh recorded, and returns its name.
func killNode(t *testing.T, shard, replica int) string {
	t.Helper()
	dir := os.Getenv("CHURN_CLUSTER_DIR")
	if dir == "" {
		dir = "/var/lib/churn-cluster"
	}
	name := "s" + strconv.Itoa(shard) + "r" + strconv.Itoa(replica)
	b, err := os.ReadFile(filepath.Join(dir, name, "server.pid"))
	if err != nil {
		t.Fatalf("pid of cluster node %s: %v", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file of cluster node %s: %v", name, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill cluster node %s (pid %d): %v", name, pid, err)
	}
	return name
}

// TestClusterScoringRunSurvivesAKilledReplica kills the first replica of
// shard 2 while `churn score` runs: the run must either finish from the other
// replica with every customer, or fail and leave the previous run as the
// latest finished one, complete. It stops a server of the shared test
// cluster, so it runs only with CHURN_TEST_CLUSTER_FAULTS=1 (.ci/run sets it
// in a step of its own, after the other tests).
func TestClusterScoringRunSurvivesAKilledReplica(t *testing.T) {
	if os.Getenv("CHURN_TEST_CLUSTER_FAULTS") != "1" {
		t.Skip("stops a node of the shared test cluster; set CHURN_TEST_CLUSTER_FAULTS=1 when no other test uses it")
	}
	chtest.RequireCluster(t)
	cfg := chtest.ClusterConfig()
	c := clusterWorkflow(t, cfg)
	ctx := context.Background()
	first, err := c.LatestFinishedRun(ctx)
	if err != nil || first == nil {
		t.Fatalf("first run: %v %v", first, err)
	}
	// Cleanups run last-in first-out: the node is back before the
	// database is dropped ON CLUSTER.
	t.Cleanup(func() {
		out, err := exec.Command("bash", filepath.Join(repo, "scripts", "cluster.sh")).CombinedOutput()
		if err != nil {
			t.Errorf("restart the cluster: %v\n%s", err, out)
		}
	})

	type result struct {
		out, errOut string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		out, errOut, code := run(t, "score", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database, "--cluster", cfg.Cluster)
		done <- result{out, errOut, code}
	}()
	time.Sleep(300 * time.Millisecond)
	killed := killNode(t, 2, 1)
	r := <-done
	t.Logf("killed %s during the run; score exited %d: %s%s", killed, r.code, r.out, r.errOut)

	latest, err := c.LatestFinishedRun(ctx)
	if err != nil || latest == nil {
		t.Fatalf("latest finished run after the kill: %v %v", latest, err)
	}
	if r.code == 0 && latest.ID == first.ID {
		t.Fatalf("score exited 0 but its run is not the latest finished one (still %s)", first.ID)
	}
	if r.code != 0 && latest.ID != first.ID {
		t.Fatalf("score failed but run %s is visible as finished", latest.ID)
	}
	var rows uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM scores WHERE run_id = ?", latest.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != uint64(first.Rows) || latest.Rows != first.Rows {
		t.Fatalf("latest finished run %s has %d score rows (recorded %d), want every one of the %d customers", latest.ID, rows, latest.Rows, first.Rows)
	}
}
