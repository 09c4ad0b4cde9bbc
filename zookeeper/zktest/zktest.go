// Package zktest gives tests a ZooKeeper server on 127.0.0.1:2181 (or
// CHURN_TEST_ZOOKEEPER): one already running, else one it starts from
// Debian's zookeeperd with the configuration `make cluster` uses, left
// running for later tests as the cluster's is. Without zookeeperd the test is
// skipped on a developer's machine and fails under CI=true.
package zktest

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const zkServer = "/usr/share/zookeeper/bin/zkServer.sh"

// Addr is the server the tests use.
func Addr() string {
	if v := os.Getenv("CHURN_TEST_ZOOKEEPER"); v != "" {
		return v
	}
	return "127.0.0.1:2181"
}

// ready says whether the server answers "ruok" with "imok".
func ready(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("ruok")); err != nil {
		return false
	}
	b, _ := io.ReadAll(c)
	return string(b) == "imok"
}

// Require returns the address of a running ZooKeeper, starting one when
// none answers.
func Require(t testing.TB) string {
	t.Helper()
	addr := Addr()
	if ready(addr) {
		return addr
	}
	if _, err := os.Stat(zkServer); err != nil || addr != "127.0.0.1:2181" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ZooKeeper is required in CI: none answers on %s and %s is missing (scripts/deps.sh installs zookeeperd)", addr, zkServer)
		}
		t.Skipf("no ZooKeeper on %s and no %s to start one (set CI=true to make this a failure)", addr, zkServer)
	}
	dir := filepath.Join(os.TempDir(), "churn-zookeeper")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "zoo.cfg")
	// Loopback only, no admin web server (it would take 8080, the default
	// port of churn serve): the configuration of scripts/cluster.sh.
	conf := "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + filepath.Join(dir, "data") +
		"\nclientPort=2181\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,stat\nmaxClientCnxns=200\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(zkServer, "start", cfg)
	cmd.Env = append(os.Environ(), "ZOO_LOG_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start ZooKeeper: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ready(addr) {
			return addr
		}
	}
	t.Fatalf("ZooKeeper did not answer on %s within 30 s; see %s", addr, dir)
	return ""
}
