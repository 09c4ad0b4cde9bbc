package serve

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/telcoretain/churn"
)

func TestReadinessFollowsSnapshotAndStore(t *testing.T) {
	e := newEnv(t, 0)
	if rec := e.do("GET", "/readyz", "", "Authorization", ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("no snapshot: %d", rec.Code)
	}
	e.store.addRun(churn.ScoreRun{ID: "run-1", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1}, makeScores("run-1", asOf1, 2, 10, 0))
	e.srv.Loader().Poll(t.Context())
	if got := decode[statusJSON](t, e.do("GET", "/readyz", "", "Authorization", "")); got.Status != "ready" || got.Run == nil || got.Run.ID != "run-1" {
		t.Errorf("loaded: %+v", got)
	}
	e.store.setDown(true)
	e.srv.Loader().Poll(t.Context())
	rec := e.do("GET", "/readyz", "", "Authorization", "")
	if got := decode[statusJSON](t, rec); rec.Code != http.StatusOK || got.Status != "degraded" || got.Reason == "" {
		t.Errorf("store down: %d %+v", rec.Code, got)
	}
	if rec := e.do("GET", "/v1/customers/C00001/score", ""); rec.Code != http.StatusOK {
		t.Errorf("read while the store is down: %d", rec.Code)
	}
	if got := decode[statusJSON](t, e.do("GET", "/healthz", "", "Authorization", "")); got.Status != "ok" {
		t.Errorf("healthz: %+v", got)
	}
	e.store.setDown(false)
	if got := decode[statusJSON](t, e.do("GET", "/readyz", "", "Authorization", "")); got.Status != "ready" {
		t.Errorf("store back: %+v", got)
	}
}

func TestOpenAPIDocumentIsServedWithoutAKey(t *testing.T) {
	e := newEnv(t, 0)
	rec := e.do("GET", "/openapi.yaml", "", "Authorization", "")
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), OpenAPI()) {
		t.Errorf("status %d", rec.Code)
	}
}

func TestRequestIDIsEchoedOrGenerated(t *testing.T) {
	e := newEnv(t, 3)
	if got := e.do("GET", "/v1/summary", "", "X-Request-ID", "abc-123").Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("echo: %q", got)
	}
	a := e.do("GET", "/v1/summary", "").Header().Get("X-Request-ID")
	b := e.do("GET", "/v1/nowhere", "", "X-Request-ID", "bad id\twith tab").Header().Get("X-Request-ID")
	if len(a) != 24 || len(b) != 24 || a == b {
		t.Errorf("generated ids %q %q", a, b)
	}
}

func TestMetricsAreExposedAndPassPromtool(t *testing.T) {
	e := newEnv(t, 25)
	e.do("GET", "/v1/customers/C00001/score", "")
	e.do("GET", "/v1/scores?limit=10", "")
	e.do("GET", "/v1/customers/C99999/score", "")
	e.do("GET", "/no/such/route", "")
	rec := e.do("GET", "/metrics", "", "Authorization", "")
	body := rec.Body.String()
	for _, want := range []string{
		`churn_http_request_duration_seconds_count{code="200",method="GET",route="/v1/customers/{id}/score"} 1`,
		`churn_http_request_duration_seconds_count{code="404",method="GET",route="/v1/customers/{id}/score"} 1`,
		`churn_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		`churn_scores_served_total{route="/v1/scores"} 10`,
		`churn_scores_served_total{route="/v1/customers/{id}/score"} 1`,
		"churn_snapshot_scores 25",
		"churn_snapshot_model_version 2",
		"churn_champion_model_version 2",
		`churn_snapshot_loads_total{result="ok"} 1`,
		"churn_snapshot_age_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	checkMetricsText(t, body)
}

// checkMetricsText fails the test when body is not Prometheus's text
// format or promtool finds a naming problem in it.
func checkMetricsText(t *testing.T, body string) {
	t.Helper()
	if _, err := textParser().TextToMetricFamilies(strings.NewReader(body)); err != nil {
		t.Errorf("not the text format: %v", err)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is required in CI (Debian package prometheus, installed by scripts/deps.sh)")
		}
		t.Skip("promtool not installed (Debian package prometheus); the naming check is skipped")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestSnapshotSwapsWhileRequestsRun is meant for the race detector: readers
// hammer the API while the loader swaps runs, and every response must come
// whole from one run.
func TestSnapshotSwapsWhileRequestsRun(t *testing.T) {
	e := newEnv(t, 400)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	runOf := regexp.MustCompile(`"run_id":"(run-\d+)"`)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				paths := []string{"/v1/customers/C00010/score", "/v1/scores?limit=50&tier=B", "/v1/summary"}
				req, _ := http.NewRequest("GET", paths[(i+w)%len(paths)], nil)
				req.Header.Set("Authorization", "Bearer "+viewerKey)
				rec := httptest.NewRecorder()
				e.srv.Handler().ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					errs <- req.URL.String() + ": " + rec.Body.String()
					return
				}
				runs := map[string]bool{}
				for _, m := range runOf.FindAllStringSubmatch(rec.Body.String(), -1) {
					runs[m[1]] = true
				}
				if len(runs) > 1 {
					errs <- "a response mixes runs: " + req.URL.String()
					return
				}
			}
		}()
	}
	for r := 2; r <= 6; r++ {
		id := "run-" + string(rune('0'+r))
		e.store.addRun(churn.ScoreRun{ID: id, AsOf: asOf1.AddDate(0, r, 0), ModelVersion: churn.ModelVersion(r), FinishedAt: time.Now()},
			makeScores(id, asOf1.AddDate(0, r, 0), churn.ModelVersion(r), 400, r))
		if !e.srv.Loader().Poll(t.Context()) {
			t.Fatalf("%s not swapped in", id)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := e.srv.Loader().Snapshot().Run().ID; got != "run-6" {
		t.Errorf("serving %s", got)
	}
}

func textParser() *expfmt.TextParser {
	p := expfmt.NewTextParser(model.LegacyValidation) // conventional names only
	return &p
}
