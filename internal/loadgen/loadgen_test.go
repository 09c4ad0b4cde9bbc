package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenSendsTheRateWithTheHeaderAndCountsFailures(t *testing.T) {
	var seen, authed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.Header.Get("Authorization") == "Bearer k" {
			authed.Add(1)
		}
		if strings.HasSuffix(r.URL.Path, "/7") {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	tg := Target{URL: func(i int) string { return srv.URL + "/" + strconv.Itoa(i%10) },
		Header: http.Header{"Authorization": {"Bearer k"}}}
	res := Open(context.Background(), NewClient(8), tg, 200, 500*time.Millisecond)
	if res.Requests != 100 || seen.Load() != 100 || authed.Load() != 100 {
		t.Fatalf("requests %d, server saw %d (%d with the header), want 100", res.Requests, seen.Load(), authed.Load())
	}
	if res.Failed != 10 || !strings.Contains(res.FirstError, "status 404") {
		t.Fatalf("failed %d (%q), want the 10 requests of /7 with their 404", res.Failed, res.FirstError)
	}
	if res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms {
		t.Fatalf("percentiles p50 %v p99 %v max %v are not ordered", res.P50Ms, res.P99Ms, res.MaxMs)
	}
}

func TestOpenCountsAStallAgainstTheRequestsQueuedBehindIt(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if n.Add(1) == 1 {
			time.Sleep(300 * time.Millisecond)
		}
	}))
	defer srv.Close()
	// One connection: the 300 ms stall of the first request delays the 30
	// due during it, each timed from when it was due, so that the median of
	// the 50 is some 50 ms; timed from when they were sent, it would be ~1 ms.
	res := Open(context.Background(), NewClient(1), Target{URL: func(int) string { return srv.URL }}, 100, 500*time.Millisecond)
	if res.P50Ms < 20 {
		t.Fatalf("p50 %v ms: requests queued behind a 300 ms stall should wait for it", res.P50Ms)
	}
}

func TestClosedKeepsWorkersBusyForTheDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(10 * time.Millisecond) }))
	defer srv.Close()
	res := Closed(context.Background(), NewClient(4), Target{URL: func(int) string { return srv.URL }}, 4, 400*time.Millisecond)
	// 4 workers x 400 ms / 10 ms = 160 at most; a loaded machine gets fewer,
	// but each worker more than a few rounds.
	if res.Failed != 0 || res.Requests < 16 || res.Requests > 160 {
		t.Fatalf("requests %d (failed %d), want 16-160 from 4 workers of 10 ms requests in 400 ms", res.Requests, res.Failed)
	}
	if res.Seconds < 0.4 || res.RPS <= 0 {
		t.Fatalf("seconds %v rps %v", res.Seconds, res.RPS)
	}
}
