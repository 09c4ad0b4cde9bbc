package e2e_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/liblinear"
	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/serve"
)

// TestMain lets the test binary serve as the liblinear child that training
// starts (the helper-process pattern).
func TestMain(m *testing.M) { os.Exit(liblinear.RunChildOr(m.Run)) }

const (
	viewerKey = "e2e-viewer-key-0123456789"
	agentKey  = "e2e-agent-key-0123456789"
	adminKey  = "e2e-admin-key-0123456789"
)

// chromium finds the browser: skipped locally when missing, a failure in CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; scripts/deps.sh installs the Debian package")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// server seeds a small operator, trains, scores, plans actions under the
// default policy and serves it all on a loopback port, as `churn serve` does.
func server(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC() // the clock of the client and the scoring job
	clock := func() time.Time { return now }
	c, _ := chtest.NewDBAt(t, clock)
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = 1500, 12, 5
	if _, err := synth.Load(ctx, cfg, c, synth.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	cands := model.SnapshotCandidates(2)
	if _, err := (&jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 4, Candidates: []model.Candidate{cands[0]}}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 { // two runs, so that the trend has a line
		if _, err := (&jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c, Now: clock}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second) // runs are ordered by their finish second
	}
	queue, watch := defaultQueue(t, c)
	if _, err := (&jobs.Actions{Runs: c, Queue: queue, Policy: watch.Policy}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := serve.ParseKeys("viewer:"+viewerKey+",agent:Dana:"+agentKey+",admin:"+adminKey, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(serve.Config{Keys: keys}, serve.Deps{Scores: c, Models: c, Pinger: c,
		Registry: prometheus.NewRegistry(), Actions: queue, Outcomes: c, Policy: watch})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Loader().Poll(ctx) {
		t.Fatalf("no snapshot loaded: %v", srv.Loader().Err())
	}
	base := listen(t, srv)
	for range 50 {
		if r, err := http.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("server did not become ready")
	return ""
}

// defaultQueue loads the action queue of c's log under the default policy.
func defaultQueue(t *testing.T, c *clickhouse.Client) (*retention.Queue, *retention.Watcher) {
	t.Helper()
	pol, err := retention.LoadFile(filepath.Join("..", "..", "policies", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	watch := retention.NewFixed(pol, nil)
	queue := retention.NewQueue(c, retention.QueueOptions{Lease: watch.Lease})
	if err := queue.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return queue, watch
}

// listen serves srv on a free loopback port until the test ends and returns
// its base URL.
func listen(t *testing.T, srv *serve.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
