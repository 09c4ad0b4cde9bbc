package jobs_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
)

// benchBase is the customer base of BenchmarkScore100k: every customer ever
// signed up in the synthetic operator, of whom the active ones are scored.
const benchBase = 100_000

// BenchmarkScore100k measures a whole scoring run over a 100,000-customer
// operator with 12 months of history: features in ClickHouse, prediction,
// reason codes and the write. The champion is the XGBoost depth-4 candidate
// trained by `churn train` on this same data (two monthly snapshots, early
// stopping), so the trees are as deep and as many as a real champion's.
// Training time is not measured.
//
// It reports the customers actually scored (the active ones, not the base),
// the champion's training rows and trees, and the time projected to
// 1,000,000 active customers (linear; target 90 s, issue 17's `churn score`).
func BenchmarkScore100k(b *testing.B) {
	ctx := context.Background()
	store := seededB(b, benchBase)
	xgbD4 := model.SnapshotCandidates(0)[2:3]
	tr, err := (&jobs.Train{Data: store, Models: store, Registry: store, Runs: store, Snapshots: 2, Candidates: xgbD4, Actor: "bench"}).Run(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if !tr.Promoted {
		b.Fatalf("the benchmark's model %d was not promoted: %s", tr.Best.Version, tr.Reason)
	}
	trees, err := strconv.Atoi(tr.Best.Model.Params["rounds"])
	if err != nil {
		b.Fatalf("champion params[rounds] = %q: %v", tr.Best.Model.Params["rounds"], err)
	}
	var rows int
	var runID string
	var took map[string]time.Duration
	b.ResetTimer()
	for b.Loop() {
		r, err := (&jobs.Scoring{Data: store, Models: store, Runs: store, Scores: store}).Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if r.ModelVersion != tr.Best.Version {
			b.Fatalf("scored with model %d, want the benchmark's %d", r.ModelVersion, tr.Best.Version)
		}
		rows, took, runID = r.Rows, r.Took, r.RunID
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	distinct, err := distinctReasonTexts(ctx, store, runID)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(distinct, "distinct-texts")
	b.ReportMetric(benchBase, "base")
	b.ReportMetric(float64(rows), "scored")
	b.ReportMetric(float64(tr.Rows), "train-rows")
	b.ReportMetric(float64(trees), "trees")
	b.ReportMetric(float64(rows)/sec, "customers/s")
	b.ReportMetric(sec, "s/run")
	b.ReportMetric(sec*1_000_000/float64(rows), "projected_s/1M")
	for _, k := range []string{"features", "predict", "reasons", "write"} {
		b.ReportMetric(took[k].Seconds(), k+"_s")
	}
}

// distinctReasonTexts returns the share of distinct texts among the reasons
// of a run: what serve's snapshot-heap benchmark has to match with its
// generated texts.
func distinctReasonTexts(ctx context.Context, c *clientT, runID string) (float64, error) {
	seen := map[string]struct{}{}
	n := 0
	err := c.ScanRunScores(ctx, runID, func(s churn.Score) error {
		for _, r := range s.Reasons {
			seen[r.Text] = struct{}{}
			n++
		}
		return nil
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("run %s: no reason texts", runID)
	}
	if err != nil {
		return 0, err
	}
	return float64(len(seen)) / float64(n), nil
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
