package serve

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn/internal/loadgen"
)

// The API benchmarks serve the 1,000,000-score snapshot of bench_test.go
// with request logging as `churn serve` has it by default (text, info level,
// one line a request; to a file here), next to a bare gin handler returning a
// constant JSON, the baseline. The load comes from cmd/loadgen in another
// process, so that it does not share the server's scheduler and garbage
// collector. The machine may be shared: each figure is apiSamples samples a
// side, the server's and the baseline's alternating, and the median is
// reported. Targets: score p99 under 5 ms at 1,000 requests/s, peak score
// throughput at least half of the bare handler's, a page of 100 under 20 ms
// at p99.

const apiSamples = 5

type apiBench struct {
	api, bare string // base URLs
	loadgen   string // the load generator binary
	logPath   string // the server's request log
}

func newAPIBench(b *testing.B) *apiBench {
	dir := b.TempDir()
	a := &apiBench{loadgen: filepath.Join(dir, "loadgen"), logPath: filepath.Join(dir, "serve.log")}
	build := exec.Command("go", "build", "-o", a.loadgen, "github.com/telcoretain/churn/cmd/loadgen")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build cmd/loadgen: %v\n%s", err, out)
	}
	snap, _ := buildBenchSnapshot(b, benchCustomers)
	logFile, err := os.Create(a.logPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	keys, err := ParseKeys("viewer:"+viewerKey, "bench")
	if err != nil {
		b.Fatal(err)
	}
	f := &fakeStore{}
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := New(Config{Keys: keys}, Deps{Scores: f, Models: f, Pinger: f, Registry: prometheus.NewRegistry(), Log: log})
	if err != nil {
		b.Fatal(err)
	}
	srv.loader.snap.Store(snap)
	e := gin.New()
	e.GET("/const", func(c *gin.Context) { c.JSON(200, gin.H{"customer_id": "CUST00000042", "probability": 0.42}) })
	a.api, a.bare = serveBench(b, srv.Handler()), serveBench(b, e)
	return a
}

func serveBench(b *testing.B, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	b.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// load runs the load generator with args and fails the benchmark on any
// failed request.
func (a *apiBench) load(b *testing.B, args ...string) loadgen.Result {
	args = append(args, "-header", "Authorization: Bearer "+viewerKey)
	cmd := exec.Command(a.loadgen, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("loadgen %v: %v\n%s", args, err, stderr.Bytes())
	}
	var res loadgen.Result
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatalf("loadgen %v: output %q: %v", args, out, err)
	}
	if res.Failed > 0 || res.Requests == 0 {
		b.Fatalf("loadgen %v: %d of %d requests failed, first: %s", args, res.Failed, res.Requests, res.FirstError)
	}
	return res
}

// alternate takes apiSamples samples of each side, the sides taking turns,
// and returns them by side.
func alternate(sides ...func() loadgen.Result) [][]loadgen.Result {
	out := make([][]loadgen.Result, len(sides))
	for range apiSamples {
		for s, side := range sides {
			out[s] = append(out[s], side())
		}
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func field(rs []loadgen.Result, f func(loadgen.Result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func p99(r loadgen.Result) float64 { return r.P99Ms }

// reportLatency reports the median and worst p99 of the server's samples and
// the median p99 of the baseline's.
func reportLatency(b *testing.B, api, bare []loadgen.Result) {
	b.ReportMetric(apiSamples, "samples")
	b.ReportMetric(median(field(api, func(r loadgen.Result) float64 { return r.P50Ms })), "p50-ms")
	b.ReportMetric(median(field(api, p99)), "p99-ms")
	b.ReportMetric(slices.Max(field(api, p99)), "worst-p99-ms")
	b.ReportMetric(median(field(bare, p99)), "bare-p99-ms")
}

// BenchmarkAPI runs the API benchmarks on one server (building the snapshot
// takes a while); run it with -benchtime=1x.
func BenchmarkAPI(b *testing.B) {
	a := newAPIBench(b)
	const d = "3s"
	scoreURL, ids := a.api+"/v1/customers/CUST%08d/score", strconv.Itoa(benchCustomers)
	bareOpen := func(rate string) func() loadgen.Result {
		return func() loadgen.Result { return a.load(b, "-url", a.bare+"/const", "-rate", rate, "-duration", d) }
	}

	b.Run("ScoreLatencyAt1000RPS", func(b *testing.B) {
		for b.Loop() {
			r := alternate(
				func() loadgen.Result {
					return a.load(b, "-url", scoreURL, "-ids", ids, "-rate", "1000", "-duration", d)
				},
				bareOpen("1000"))
			reportLatency(b, r[0], r[1])
		}
	})

	b.Run("ScoresPage100Latency", func(b *testing.B) {
		pages := []string{"-url", a.api + "/v1/scores?limit=100", "-url", a.api + "/v1/scores?limit=100&tier=A&band=high",
			"-url", a.api + "/v1/scores?limit=100&sort=probability&min_probability=0.5",
			"-url", a.api + "/v1/scores?limit=100&sort=lifetime_value&tier=C"}
		for b.Loop() {
			r := alternate(
				func() loadgen.Result { return a.load(b, append(pages, "-rate", "200", "-duration", d)...) },
				bareOpen("200"))
			reportLatency(b, r[0], r[1])
		}
	})

	b.Run("ScorePeakThroughputVsBareGin", func(b *testing.B) {
		const workers, pd = "32", "2s"
		for b.Loop() {
			r := alternate(
				func() loadgen.Result { return a.load(b, "-url", a.bare+"/const", "-workers", workers, "-duration", pd) },
				func() loadgen.Result {
					return a.load(b, "-url", scoreURL, "-ids", ids, "-workers", workers, "-duration", pd)
				})
			ratios := make([]float64, apiSamples)
			for i := range ratios {
				ratios[i] = r[1][i].RPS / r[0][i].RPS
			}
			rps := func(r loadgen.Result) float64 { return r.RPS }
			b.ReportMetric(apiSamples, "samples")
			b.ReportMetric(median(field(r[0], rps)), "bare-gin-req/s")
			b.ReportMetric(median(field(r[1], rps)), "score-req/s")
			b.ReportMetric(median(ratios), "ratio")
		}
	})

	logged, err := os.ReadFile(a.logPath)
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.Contains(logged, []byte(`msg="http request"`)) {
		b.Fatalf("%s holds no request line: the benchmark must run with request logging on", a.logPath)
	}
}
