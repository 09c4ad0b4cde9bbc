package chstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/serve"
	"github.com/telcoretain/churn/serve/chstore"
)

const key = "viewer-key-for-integration"

// writeRun stores a finished run as `churn score` does: rows, then the
// finished marker.
func writeRun(t *testing.T, c *clickhouse.Client, runID string, asOf time.Time, model, n int) {
	t.Helper()
	ctx := context.Background()
	scores := make([]churn.Score, n)
	for i := range scores {
		p := float64((i*37+model)%100) / 100
		band := churn.RiskLow
		if p >= 0.5 {
			band = churn.RiskHigh
		}
		scores[i] = churn.Score{RunID: runID, CustomerID: fmt.Sprintf("C%04d", i), AsOf: asOf, ModelVersion: model,
			Probability: p, Band: band, Tier: []churn.ValueTier{"A", "B", "C"}[i%3], LifetimeValue: float64(100 + i),
			ExpectedLoss: p * float64(100+i), Reasons: []churn.Reason{{Feature: "dropped_calls_30d", Value: 3, Contribution: 0.4, Text: "dropped calls up 3x in 30 days"}}}
	}
	if err := c.RecordScoreRun(ctx, runID, asOf, model, churn.ScoreRunStarted, 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordScoreRun(ctx, runID, asOf, model, churn.ScoreRunFinished, n, ""); err != nil {
		t.Fatal(err)
	}
}

// startServer serves the API on a free loopback port until the test ends.
func startServer(t *testing.T, c *clickhouse.Client) string {
	t.Helper()
	keys, err := serve.ParseKeys("viewer:"+key, "test")
	if err != nil {
		t.Fatal(err)
	}
	st := chstore.New(c)
	cfg := serve.Config{Keys: keys, PollInterval: 200 * time.Millisecond, ReadyTimeout: 500 * time.Millisecond}
	srv, err := serve.New(cfg, serve.Deps{Scores: st, Models: st, Pinger: st})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %d %q: %v", url, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode
}

type runOf struct {
	Run struct {
		ID string `json:"id"`
	} `json:"run"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// waitFor polls until cond holds or fails the test after a timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServerReadsFinishedRunsFromClickHouseAndPicksUpTheNextOne(t *testing.T) {
	c, _ := chtest.NewDB(t)
	asOf := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	writeRun(t, c, "run-1", asOf, 1, 300)
	// An unfinished run is invisible.
	if err := c.RecordScoreRun(context.Background(), "run-0-crashed", asOf, 1, churn.ScoreRunStarted, 0, ""); err != nil {
		t.Fatal(err)
	}
	base := startServer(t, c)
	waitFor(t, "readiness", 10*time.Second, func() bool {
		var r runOf
		return get(t, base+"/readyz", &r) == 200 && r.Status == "ready"
	})

	var score struct {
		CustomerID string  `json:"customer_id"`
		RunID      string  `json:"run_id"`
		AsOf       string  `json:"as_of"`
		Prob       float64 `json:"probability"`
		Reasons    []struct {
			Text string `json:"text"`
		} `json:"reasons"`
	}
	if code := get(t, base+"/v1/customers/C0007/score", &score); code != 200 || score.RunID != "run-1" ||
		score.AsOf != "2025-05-01" || score.Prob != 0.6 || len(score.Reasons) != 1 {
		t.Fatalf("score: %d %+v", code, score)
	}
	var page struct {
		Items []struct {
			CustomerID string `json:"customer_id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if code := get(t, base+"/v1/scores?limit=100&band=high", &page); code != 200 || len(page.Items) != 100 || page.NextCursor == "" {
		t.Fatalf("page: %d, %d items", code, len(page.Items))
	}

	writeRun(t, c, "run-2", asOf.AddDate(0, 1, 0), 2, 310)
	waitFor(t, "run-2 to be served", 10*time.Second, func() bool {
		var s runOf
		return get(t, base+"/v1/summary", &s) == 200 && s.Run.ID == "run-2"
	})
	var hist struct {
		Scores []struct {
			RunID string `json:"run_id"`
		} `json:"scores"`
	}
	if code := get(t, base+"/v1/customers/C0007/history", &hist); code != 200 || len(hist.Scores) != 2 ||
		hist.Scores[0].RunID != "run-1" || hist.Scores[1].RunID != "run-2" {
		t.Errorf("history: %d %+v", code, hist)
	}
	if code := get(t, base+"/v1/customers/C0305/score", nil); code != 200 {
		t.Errorf("customer only in run-2: %d", code)
	}
	if code := get(t, base+"/v1/scores?cursor="+page.NextCursor+"&band=high", nil); code != http.StatusGone {
		t.Errorf("cursor of run-1 after run-2: %d, want 410", code)
	}
}

// TestReadsSurviveAClickHouseOutage stops a private ClickHouse (never the
// shared one) while serving.
func TestReadsSurviveAClickHouseOutageAndANewRunIsPickedUpAfterIt(t *testing.T) {
	ch := chtest.StartServer(t)
	c, _ := ch.NewDB(t)
	asOf := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	writeRun(t, c, "run-1", asOf, 1, 200)
	base := startServer(t, c)
	waitFor(t, "readiness", 10*time.Second, func() bool {
		var r runOf
		return get(t, base+"/readyz", &r) == 200 && r.Status == "ready"
	})

	ch.Stop()
	waitFor(t, "degraded readiness", 10*time.Second, func() bool {
		var r runOf
		return get(t, base+"/readyz", &r) == 200 && r.Status == "degraded" && r.Reason != ""
	})
	for i := range 20 {
		var s runOf
		if code := get(t, base+"/v1/summary", &s); code != 200 || s.Run.ID != "run-1" {
			t.Fatalf("read %d during the outage: %d %+v", i, code, s)
		}
		if code := get(t, fmt.Sprintf("%s/v1/customers/C%04d/score", base, i), nil); code != 200 {
			t.Fatalf("score read %d during the outage: %d", i, code)
		}
	}
	if code := get(t, base+"/v1/customers/C0001/history", nil); code != http.StatusServiceUnavailable {
		t.Errorf("history during the outage: %d, want 503", code)
	}

	ch.Start()
	writeRun(t, c, "run-2", asOf.AddDate(0, 1, 0), 2, 210)
	waitFor(t, "run-2 after the outage", 15*time.Second, func() bool {
		var s runOf
		return get(t, base+"/v1/summary", &s) == 200 && s.Run.ID == "run-2"
	})
	var r runOf
	if get(t, base+"/readyz", &r); r.Status != "ready" {
		t.Errorf("readiness after the outage: %+v", r)
	}
}
