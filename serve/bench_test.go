package serve

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model"
)

// Benchmarks for `make bench`. The snapshot holds 1,000,000 scores whose
// reasons are written by model.ReasonText, the code scoring uses, over
// customer values drawn per feature: the texts carry each customer's values
// and so rarely repeat, as in a real run: for the 79,077 customers that
// jobs' BenchmarkScore100k scores, 24.0% of the generated texts are distinct
// and 25.0% of that real run's (its distinct-texts metric); for 1,000,000
// customers values repeat more, 8.4%. Target: the snapshot under 1 GiB of
// heap. The API benchmarks serve this snapshot (api_bench_test.go).

const benchCustomers = 1_000_000

// benchUsual is a typical (median) value of a unit, around which customers'
// values are drawn; reason texts compare a value with it.
func benchUsual(unit string) float64 {
	switch unit {
	case "days":
		return 40
	case "minutes":
		return 320
	case "MB":
		return 2600
	case "currency":
		return 42.5
	case "ratio":
		return 0.06
	case "score 1-5":
		return 4
	}
	return 3 // counts
}

// reasonGen writes the reasons of synthetic customers from the feature
// registry, as scoring does: three features a customer, each with its value
// and its text from model.ReasonText.
type reasonGen struct {
	rng   *rand.Rand
	infos []model.FeatureInfo
}

func newReasonGen(seed uint64) *reasonGen {
	g := &reasonGen{rng: rand.New(rand.NewPCG(seed, 1))}
	for _, f := range features.Registry() {
		info := model.FeatureInfo{Name: f.Name, Description: f.Description, Unit: f.Unit, Categories: f.Categories}
		if f.Name == features.NameRegion {
			info.Categories = []string{"north", "south", "east", "west", "central"}
		}
		if info.Categories == nil {
			// Medians vary between features of a unit (7 and 90 days of
			// minutes differ), as the training medians a model carries do.
			info.Median = benchUsual(f.Unit) * (0.5 + g.rng.Float64())
		}
		g.infos = append(g.infos, info)
	}
	return g
}

// value draws a customer's value of f: log-normal around the usual value
// (a reason is usually an unusual value), rounded as the feature's unit is.
func (g *reasonGen) value(f model.FeatureInfo) float64 {
	if f.Categories != nil {
		return float64(g.rng.IntN(len(f.Categories)))
	}
	v := f.Median * math.Exp(1.2*g.rng.NormFloat64())
	switch f.Unit {
	case "days", "count":
		return math.Round(v)
	case "score 1-5":
		return float64(1 + g.rng.IntN(5))
	case "currency":
		return math.Round(v*100) / 100
	}
	return v
}

func (g *reasonGen) reasons() []churn.Reason {
	out := make([]churn.Reason, 0, model.MaxReasons)
	picked := map[int]bool{}
	for len(out) < model.MaxReasons {
		j := g.rng.IntN(len(g.infos))
		if picked[j] {
			continue
		}
		picked[j] = true
		f := g.infos[j]
		v := g.value(f)
		out = append(out, churn.Reason{Feature: f.Name, Value: v, Contribution: 0.9 / float64(len(out)+1),
			Text: model.ReasonText(f, v)})
	}
	return out
}

// benchScore makes the i-th score of a synthetic run.
func (g *reasonGen) benchScore(run string, i int) churn.Score {
	p := math.Pow(g.rng.Float64(), 3) // most customers at low risk
	band := churn.BandOf(p, 0.6, 0.3)
	clv := math.Round(50+5000*g.rng.Float64()*g.rng.Float64()) + 0.5
	return churn.Score{RunID: run, CustomerID: fmt.Sprintf("CUST%08d", i), Probability: p, Band: band,
		Tier: []churn.ValueTier{"A", "B", "B", "C", "C", "C"}[i%6], LifetimeValue: clv, ExpectedLoss: p * clv,
		Reasons: g.reasons()}
}

// buildBenchSnapshot builds a snapshot of n scores and returns it with the
// share of distinct reason texts among all of them.
func buildBenchSnapshot(b testing.TB, n int) (*Snapshot, float64) {
	run := churn.ScoreRun{ID: "bench-run", AsOf: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), ModelVersion: 1, FinishedAt: time.Now(), Rows: int64(n)}
	bld := newSnapshotBuilder(run)
	g := newReasonGen(7)
	seen := map[string]struct{}{}
	texts := 0
	for i := range n {
		s := g.benchScore(run.ID, i)
		for _, r := range s.Reasons {
			seen[r.Text] = struct{}{}
			texts++
		}
		if err := bld.add(s); err != nil {
			b.Fatal(err)
		}
	}
	return bld.build(time.Now()), float64(len(seen)) / float64(texts)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkSnapshotHeap measures the heap the snapshot of 1,000,000 scores
// keeps once built (what a serving process holds), and how long building
// takes. The set of distinct texts used for the distinct share is freed
// before the second measure.
func BenchmarkSnapshotHeap(b *testing.B) {
	for b.Loop() {
		before := heapInUse()
		start := time.Now()
		s, distinct := buildBenchSnapshot(b, benchCustomers)
		took := time.Since(start)
		after := heapInUse()
		runtime.KeepAlive(s)
		b.ReportMetric(float64(after-before)/benchCustomers, "heap-bytes/customer")
		b.ReportMetric(float64(after-before)/(1<<20), "heap-MiB/1M-scores")
		b.ReportMetric(took.Seconds(), "build-s/1M-scores")
		b.ReportMetric(distinct, "distinct-texts")
	}
}
