package serve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// corsServer is a server with a loaded snapshot whose browser callers may
// come from origins.
func corsServer(t *testing.T, origins ...string) http.Handler {
	t.Helper()
	store := &fakeStore{models: testModels()}
	store.addRun(churn.ScoreRun{ID: "run-1", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1.Add(time.Hour)}, makeScores("run-1", asOf1, 2, 10, 0))
	keys, err := ParseKeys("viewer:"+viewerKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Keys: keys, CORSOrigins: origins}, Deps{Scores: store, Models: store, Pinger: store, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Loader().Poll(context.Background()) {
		t.Fatal("no snapshot")
	}
	return srv.Handler()
}

func send(h http.Handler, method, origin string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/v1/summary", nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestABrowserDashboardOfAnAllowedOriginMayCallTheAPI(t *testing.T) {
	h := corsServer(t, "https://dash.example.com")
	pre := send(h, http.MethodOptions, "https://dash.example.com",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization,if-none-match")
	if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != "https://dash.example.com" {
		t.Fatalf("preflight: %d %v", pre.Code, pre.Header())
	}
	got := send(h, http.MethodGet, "https://dash.example.com", "Authorization", "Bearer "+viewerKey)
	if got.Code != http.StatusOK || got.Header().Get("Access-Control-Allow-Origin") != "https://dash.example.com" ||
		got.Header().Get("Access-Control-Expose-Headers") == "" {
		t.Fatalf("GET: %d %v", got.Code, got.Header())
	}
	if other := send(h, http.MethodGet, "https://evil.example.com", "Authorization", "Bearer "+viewerKey); other.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin was allowed: %d %v", other.Code, other.Header())
	}
	if plain := send(h, http.MethodGet, "", "Authorization", "Bearer "+viewerKey); plain.Code != http.StatusOK {
		t.Errorf("a request without Origin (curl, a server): %d", plain.Code)
	}
}

func TestWithoutCORSOriginsNoOtherOriginIsAllowed(t *testing.T) {
	h := corsServer(t)
	pre := send(h, http.MethodOptions, "https://dash.example.com", "Access-Control-Request-Method", "GET")
	if pre.Header().Get("Access-Control-Allow-Origin") != "" || pre.Code != http.StatusMethodNotAllowed {
		t.Fatalf("preflight without configured origins: %d %v", pre.Code, pre.Header())
	}
}
