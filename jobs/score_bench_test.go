package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
)

// BenchmarkScore100k measures a whole scoring run of 100,000 customers with
// 12 months of history: features in ClickHouse, prediction, reason codes and
// the write. The champion is an XGBoost model trained on a small copy of the
// same operator (training time is not what this measures).
// Target: under 20 s; the projection to 1,000,000 customers is linear.
func BenchmarkScore100k(b *testing.B) {
	ctx := context.Background()
	small := seededB(b, 4000)
	c := model.SnapshotCandidates(0)
	res, err := (&jobs.Train{Data: small, Models: small, Registry: small, Runs: small, Snapshots: 3, Candidates: c[2:3]}).Run(ctx)
	if err != nil {
		b.Fatal(err)
	}
	mv, err := small.Model(ctx, res.Best.Version)
	if err != nil {
		b.Fatal(err)
	}
	big := seededB(b, 100_000)
	v, err := big.SaveModel(ctx, mv)
	if err != nil {
		b.Fatal(err)
	}
	if err := big.Promote(ctx, v, "bench", "bench"); err != nil {
		b.Fatal(err)
	}
	var rows int
	var took map[string]time.Duration
	b.ResetTimer()
	for b.Loop() {
		r, err := (&jobs.Scoring{Data: big, Models: big, Runs: big, Scores: big}).Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		rows, took = r.Rows, r.Took
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(rows), "customers")
	b.ReportMetric(float64(rows)/sec, "customers/s")
	b.ReportMetric(sec, "s/run")
	b.ReportMetric(sec*1_000_000/float64(rows), "projected_s/1M_customers")
	for _, k := range []string{"features", "predict", "reasons", "write"} {
		b.ReportMetric(took[k].Seconds(), k+"_s")
	}
}

func seededB(b *testing.B, customers int) *clientT {
	b.Helper()
	c, _ := chtest.NewDB(b)
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = customers, 12, 3
	if _, err := synth.Load(context.Background(), cfg, c, synth.LoadOptions{}); err != nil {
		b.Fatal(err)
	}
	return c
}
