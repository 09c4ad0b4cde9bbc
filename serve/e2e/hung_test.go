package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/serve"
)

const hungAgentKey = "agent-key-for-the-hung-test"

// call sends a request with the agent key and returns its status, body and
// how long it took.
func call(t *testing.T, method, url, body string) (int, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+hungAgentKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	began := time.Now()
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(began)
}

// TestAHungClickHouseGets503sWithinTheStoreTimeoutAndMemoryReadsGoOn freezes
// a private ClickHouse (SIGSTOP: sockets open, no answers) under a running
// server. Every route that needs ClickHouse answers 503 within the store
// timeout instead of the driver's read timeout of 300 s, routes served from
// memory answer at once, and the reachability gauge drops to 0.
func TestAHungClickHouseGets503sWithinTheStoreTimeoutAndMemoryReadsGoOn(t *testing.T) {
	chs := chtest.StartServer(t)
	c, _ := chs.NewDB(t)
	ctx := context.Background()
	writeRun(t, c, "run-1", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), 1, 200)
	queue, watch := defaultQueue(t, c)
	var as []churn.Action
	for i := range 20 {
		as = append(as, churn.Action{ID: fmt.Sprintf("a%03d", i), CustomerID: fmt.Sprintf("C%04d", i), Cycle: "2025-05-01",
			Kind: churn.ActionOffer, Channel: "phone", Cost: 0.08, Priority: 7, Value: float64(100 - i), Tier: churn.TierC, Band: churn.RiskHigh})
	}
	if _, err := queue.Enqueue(ctx, "test", as, nil); err != nil {
		t.Fatal(err)
	}
	keys, err := serve.ParseKeys("agent:"+hungAgentKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	const storeTimeout = 2 * time.Second
	srv, err := serve.New(serve.Config{Keys: keys, PollInterval: time.Hour, StoreTimeout: storeTimeout, ReadyTimeout: 500 * time.Millisecond},
		serve.Deps{Scores: c, Models: c, Pinger: c, Registry: prometheus.NewRegistry(), Actions: queue, Outcomes: c, Policy: watch})
	if err != nil {
		t.Fatal(err)
	}
	base := listen(t, srv)
	waitFor(t, "readiness", 20*time.Second, func() bool {
		code, body, _ := call(t, "GET", base+"/readyz", "")
		return code == 200 && strings.Contains(body, `"ready"`)
	})
	if code, body, _ := call(t, "POST", base+"/v1/actions/claim", `{}`); code != 200 {
		t.Fatalf("claim before the hang: %d %s", code, body)
	}

	chs.Pause()
	// Each of these waits on ClickHouse: 503 with the deadline named, well
	// within twice the store timeout.
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/actions/claim", `{}`},
		{"POST", "/v1/actions/a000/complete", `{"outcome":"accepted"}`},
		{"GET", "/v1/customers/C0001/history", ""},
		{"GET", "/v1/models", ""},
	} {
		code, body, took := call(t, r.method, base+r.path, r.body)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "did not answer within 2s") {
			t.Errorf("%s %s with ClickHouse hung: %d %s, want 503 naming the deadline", r.method, r.path, code, body)
		}
		if took > 2*storeTimeout {
			t.Errorf("%s %s took %s with ClickHouse hung, want at most %s", r.method, r.path, took.Round(time.Millisecond), 2*storeTimeout)
		}
	}
	// Reads served from memory do not wait.
	for _, path := range []string{"/v1/customers/C0001/score", "/v1/summary", "/v1/actions?status=claimed"} {
		code, body, took := call(t, "GET", base+path, "")
		if code != http.StatusOK || took > time.Second {
			t.Errorf("GET %s with ClickHouse hung: %d in %s: %s", path, code, took.Round(time.Millisecond), body)
		}
	}
	if code, body, _ := call(t, "GET", base+"/readyz", ""); code != 200 || !strings.Contains(body, `"degraded"`) {
		t.Errorf("readiness with ClickHouse hung: %d %s", code, body)
	}
	if up := gauge(t, base, "churn_clickhouse_up"); up != 0 {
		t.Errorf("churn_clickhouse_up %v with ClickHouse hung, want 0", up)
	}

	chs.Resume()
	waitFor(t, "a claim after the hang", 30*time.Second, func() bool {
		code, _, _ := call(t, "POST", base+"/v1/actions/claim", `{}`)
		return code == 200
	})
	if code, body, _ := call(t, "GET", base+"/readyz", ""); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Errorf("readiness after the hang: %d %s", code, body)
	}
	if up := gauge(t, base, "churn_clickhouse_up"); up != 1 {
		t.Errorf("churn_clickhouse_up %v after the hang, want 1", up)
	}
}

// gauge reads one unlabelled sample from /metrics.
func gauge(t *testing.T, base, name string) float64 {
	t.Helper()
	_, body, _ := call(t, "GET", base+"/metrics", "")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if err := json.Unmarshal([]byte(v), &f); err != nil {
				t.Fatalf("%s: %q: %v", name, v, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
