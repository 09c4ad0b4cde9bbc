package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// Benchmarks for `make bench`. Load comes from a Go client on 127.0.0.1 and
// is bounded in requests and time; run them with -benchtime=1x. Targets:
// score p99 under 5 ms at 1,000 requests/s, peak score throughput at least
// half of a bare gin handler's, a page of 100 under 20 ms at p99, and a
// 1,000,000-score snapshot under 1 GiB of heap.

const benchCustomers = 1_000_000

// benchScore makes the i-th score of a synthetic run, with three reasons
// whose texts repeat as real reason templates do.
func benchScore(run string, i int) churn.Score {
	p := float64((i*7919)%10007) / 10007
	clv := float64(50 + (i*104729)%5000)
	return churn.Score{RunID: run, CustomerID: fmt.Sprintf("CUST%08d", i), Probability: p, Band: churn.BandOf(p, 0.6, 0.3),
		Tier: []churn.ValueTier{"A", "B", "B", "C", "C", "C"}[i%6], LifetimeValue: clv, ExpectedLoss: p * clv,
		Reasons: []churn.Reason{
			{Feature: "dropped_calls_30d", Value: float64(i % 9), Contribution: 0.8, Text: fmt.Sprintf("dropped calls up %dx in 30 days", i%9)},
			{Feature: "days_since_last_payment", Value: float64(i % 90), Contribution: 0.5, Text: fmt.Sprintf("last payment %d days ago", i%90)},
			{Feature: "contract", Value: 0, Contribution: 0.3, Text: "month-to-month contract"},
		}}
}

func buildBenchSnapshot(b testing.TB, n int) *Snapshot {
	run := churn.ScoreRun{ID: "bench-run", AsOf: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), ModelVersion: 1, FinishedAt: time.Now(), Rows: int64(n)}
	bld := newSnapshotBuilder(run)
	for i := range n {
		if err := bld.add(benchScore(run.ID, i)); err != nil {
			b.Fatal(err)
		}
	}
	return bld.build(time.Now())
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func BenchmarkSnapshotHeap(b *testing.B) {
	for b.Loop() {
		before := heapInUse()
		start := time.Now()
		s := buildBenchSnapshot(b, benchCustomers)
		took := time.Since(start)
		after := heapInUse()
		runtime.KeepAlive(s)
		b.ReportMetric(float64(after-before)/benchCustomers, "heap-bytes/customer")
		b.ReportMetric(float64(after-before)/(1<<20), "heap-MiB/1M-scores")
		b.ReportMetric(took.Seconds(), "build-s/1M-scores")
	}
}

var (
	benchOnce sync.Once
	benchSnap *Snapshot
)

// benchServer serves the API with a 1,000,000-score snapshot on a loopback
// port, and a bare gin handler returning a constant JSON beside it.
func benchServer(b *testing.B) (api, bare string) {
	benchOnce.Do(func() { benchSnap = buildBenchSnapshot(b, benchCustomers) })
	keys, _ := ParseKeys("viewer:"+viewerKey, "bench")
	f := &fakeStore{}
	srv, err := New(Config{Keys: keys}, Deps{Scores: f, Models: f, Pinger: f, Registry: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	srv.loader.snap.Store(benchSnap)
	e := gin.New()
	e.GET("/const", func(c *gin.Context) { c.JSON(200, gin.H{"customer_id": "CUST00000042", "probability": 0.42}) })
	serveOn := func(h http.Handler) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: h}
		go hs.Serve(ln)
		b.Cleanup(func() { hs.Close() })
		return "http://" + ln.Addr().String()
	}
	return serveOn(srv.Handler()), serveOn(e)
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 10 * time.Second}
}

func fetch(c *http.Client, url string) error {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+viewerKey)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return nil
}

// openLoop sends rate requests per second for d, each timed from when it was
// due (so a stall counts against every request behind it), and returns the
// latencies sorted.
func openLoop(b *testing.B, c *http.Client, url func(i int) string, rate int, d time.Duration) []time.Duration {
	n := int(d.Seconds() * float64(rate))
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fetch(c, url(i)); err != nil {
				failed.Add(1)
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d requests failed", failed.Load(), n)
	}
	slices.Sort(lat)
	return lat
}

func pct(lat []time.Duration, p float64) float64 {
	return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
}

func BenchmarkScoreLatencyAt1000RPS(b *testing.B) {
	api, _ := benchServer(b)
	c := benchClient()
	for b.Loop() {
		lat := openLoop(b, c, func(i int) string {
			return fmt.Sprintf("%s/v1/customers/CUST%08d/score", api, (i*7717)%benchCustomers)
		}, 1000, 3*time.Second)
		b.ReportMetric(pct(lat, 0.50), "p50-ms")
		b.ReportMetric(pct(lat, 0.99), "p99-ms")
	}
}

func BenchmarkScoresPage100Latency(b *testing.B) {
	api, _ := benchServer(b)
	c := benchClient()
	queries := []string{"limit=100", "limit=100&tier=A&band=high", "limit=100&sort=probability&min_probability=0.5", "limit=100&sort=lifetime_value&tier=C"}
	for b.Loop() {
		lat := openLoop(b, c, func(i int) string { return api + "/v1/scores?" + queries[i%len(queries)] }, 200, 3*time.Second)
		b.ReportMetric(pct(lat, 0.50), "p50-ms")
		b.ReportMetric(pct(lat, 0.99), "p99-ms")
	}
}

// closedLoop runs workers back to back for d and returns requests per second.
func closedLoop(b *testing.B, c *http.Client, url func(i int) string, workers int, d time.Duration) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i += workers {
				if err := fetch(c, url(i)); err != nil && ctx.Err() == nil {
					failed.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		b.Fatalf("%d requests failed", failed.Load())
	}
	return float64(done.Load()) / time.Since(start).Seconds()
}

func BenchmarkScorePeakThroughputVsBareGin(b *testing.B) {
	api, bare := benchServer(b)
	c := benchClient()
	for b.Loop() {
		bareRPS := closedLoop(b, c, func(int) string { return bare + "/const" }, 32, 2*time.Second)
		apiRPS := closedLoop(b, c, func(i int) string {
			return fmt.Sprintf("%s/v1/customers/CUST%08d/score", api, (i*7717)%benchCustomers)
		}, 32, 2*time.Second)
		b.ReportMetric(bareRPS, "bare-gin-req/s")
		b.ReportMetric(apiRPS, "score-req/s")
		b.ReportMetric(apiRPS/bareRPS, "ratio")
	}
}
