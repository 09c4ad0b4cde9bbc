package e2e_test

// Tests of the API over a real ClickHouse, without a browser: the server
// reads finished runs, picks up the next one, survives an outage, and the
// whole product runs from seed to an API read.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/serve"
)

const integrationKey = "viewer-key-for-integration"

// writeRun stores a finished run as `churn score` does: rows, then the
// finished marker.
func writeRun(t *testing.T, c *clickhouse.Client, runID string, asOf time.Time, model churn.ModelVersion, n int) {
	t.Helper()
	ctx := context.Background()
	scores := make([]churn.Score, n)
	for i := range scores {
		p := float64((i*37+int(model))%100) / 100
		band := churn.RiskLow
		if p >= 0.5 {
			band = churn.RiskHigh
		}
		scores[i] = churn.Score{RunID: runID, CustomerID: fmt.Sprintf("C%04d", i), AsOf: asOf, ModelVersion: model,
			Probability: p, Band: band, Tier: churn.ValueTiers[i%3], LifetimeValue: float64(100 + i),
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
	keys, err := serve.ParseKeys("viewer:"+integrationKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := serve.Config{Keys: keys, PollInterval: 200 * time.Millisecond, ReadyTimeout: 500 * time.Millisecond}
	srv, err := serve.New(cfg, serve.Deps{Scores: c, Models: c, Pinger: c})
	if err != nil {
		t.Fatal(err)
	}
	return listen(t, srv)
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+integrationKey)
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
		return getJSON(t, base+"/readyz", &r) == 200 && r.Status == "ready"
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
	if code := getJSON(t, base+"/v1/customers/C0007/score", &score); code != 200 || score.RunID != "run-1" ||
		score.AsOf != "2025-05-01" || score.Prob != 0.6 || len(score.Reasons) != 1 {
		t.Fatalf("score: %d %+v", code, score)
	}
	var page struct {
		Items []struct {
			CustomerID string `json:"customer_id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if code := getJSON(t, base+"/v1/scores?limit=100&band=high", &page); code != 200 || len(page.Items) != 100 || page.NextCursor == "" {
		t.Fatalf("page: %d, %d items", code, len(page.Items))
	}

	writeRun(t, c, "run-2", asOf.AddDate(0, 1, 0), 2, 310)
	waitFor(t, "run-2 to be served", 10*time.Second, func() bool {
		var s runOf
		return getJSON(t, base+"/v1/summary", &s) == 200 && s.Run.ID == "run-2"
	})
	var hist struct {
		Scores []struct {
			RunID string `json:"run_id"`
		} `json:"scores"`
	}
	if code := getJSON(t, base+"/v1/customers/C0007/history", &hist); code != 200 || len(hist.Scores) != 2 ||
		hist.Scores[0].RunID != "run-1" || hist.Scores[1].RunID != "run-2" {
		t.Errorf("history: %d %+v", code, hist)
	}
	if code := getJSON(t, base+"/v1/customers/C0305/score", nil); code != 200 {
		t.Errorf("customer only in run-2: %d", code)
	}
	if code := getJSON(t, base+"/v1/scores?cursor="+page.NextCursor+"&band=high", nil); code != http.StatusGone {
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
		return getJSON(t, base+"/readyz", &r) == 200 && r.Status == "ready"
	})

	ch.Stop()
	waitFor(t, "degraded readiness", 10*time.Second, func() bool {
		var r runOf
		return getJSON(t, base+"/readyz", &r) == 200 && r.Status == "degraded" && r.Reason != ""
	})
	for i := range 20 {
		var s runOf
		if code := getJSON(t, base+"/v1/summary", &s); code != 200 || s.Run.ID != "run-1" {
			t.Fatalf("read %d during the outage: %d %+v", i, code, s)
		}
		if code := getJSON(t, fmt.Sprintf("%s/v1/customers/C%04d/score", base, i), nil); code != 200 {
			t.Fatalf("score read %d during the outage: %d", i, code)
		}
	}
	if code := getJSON(t, base+"/v1/customers/C0001/history", nil); code != http.StatusServiceUnavailable {
		t.Errorf("history during the outage: %d, want 503", code)
	}

	ch.Start()
	writeRun(t, c, "run-2", asOf.AddDate(0, 1, 0), 2, 210)
	waitFor(t, "run-2 after the outage", 15*time.Second, func() bool {
		var s runOf
		return getJSON(t, base+"/v1/summary", &s) == 200 && s.Run.ID == "run-2"
	})
	var r runOf
	if getJSON(t, base+"/readyz", &r); r.Status != "ready" {
		t.Errorf("readiness after the outage: %+v", r)
	}
}

// TestSeedTrainScoreServeRead runs the whole product on a small synthetic
// operator: seed, train (champion/challenger), score, serve, and read the
// scores of real customers back through the API.
func TestSeedTrainScoreServeRead(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = 2500, 12, 9
	if _, err := synth.Load(ctx, cfg, c, synth.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	cands := model.SnapshotCandidates(2)
	tr, err := (&jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 3, Candidates: cands[:1]}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run, err := (&jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := startServer(t, c)
	waitFor(t, "readiness", 20*time.Second, func() bool {
		var r runOf
		return getJSON(t, base+"/readyz", &r) == 200 && r.Status == "ready" && r.Run.ID == run.RunID
	})

	var list struct {
		Items []struct {
			CustomerID   string  `json:"customer_id"`
			Probability  float64 `json:"probability"`
			ExpectedLoss float64 `json:"expected_loss"`
			ModelVersion int     `json:"model_version"`
			Reasons      []struct {
				Text string `json:"text"`
			} `json:"reasons"`
		} `json:"items"`
	}
	if code := getJSON(t, base+"/v1/scores?band=high&limit=10", &list); code != 200 || len(list.Items) != 10 {
		t.Fatalf("risk list: %d, %d items", code, len(list.Items))
	}
	top := list.Items[0]
	if churn.ModelVersion(top.ModelVersion) != tr.Best.Version || top.Probability <= 0 || len(top.Reasons) == 0 || top.Reasons[0].Text == "" {
		t.Fatalf("top of the risk list: %+v", top)
	}
	for i := 1; i < len(list.Items); i++ {
		if list.Items[i].ExpectedLoss > list.Items[i-1].ExpectedLoss {
			t.Fatalf("risk list not sorted by expected loss at %d", i)
		}
	}
	var one struct {
		CustomerID  string  `json:"customer_id"`
		Probability float64 `json:"probability"`
		RunID       string  `json:"run_id"`
	}
	if code := getJSON(t, base+"/v1/customers/"+top.CustomerID+"/score", &one); code != 200 || one.RunID != run.RunID || one.Probability != top.Probability {
		t.Fatalf("customer score: %d %+v", code, one)
	}
	var summary struct {
		Customers int `json:"customers"`
	}
	if code := getJSON(t, base+"/v1/summary", &summary); code != 200 || summary.Customers != run.Rows {
		t.Fatalf("summary: %d, %d customers, want %d", code, summary.Customers, run.Rows)
	}
}
