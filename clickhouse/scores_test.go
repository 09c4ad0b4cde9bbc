package clickhouse_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestUnfinishedScoringRunsAreInvisible(t *testing.T) {
	now := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC) // the client's clock
	c, _ := chtest.NewDBAt(t, func() time.Time { return now })
	ctx := context.Background()
	day := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	write := func(run string, asOf time.Time, p float64, finish bool) {
		t.Helper()
		scores := []churn.Score{
			{RunID: run, CustomerID: "c1", AsOf: asOf, ModelVersion: 1, Probability: p, Band: churn.RiskHigh, Tier: churn.TierA, LifetimeValue: 1000, ExpectedLoss: 1000 * p,
				Reasons: []churn.Reason{{Feature: "dropped_call_rate", Value: 0.061, Contribution: 0.8, Text: "dropped-call rate 6.1%"},
					{Feature: "days_since_last_payment", Value: math.NaN(), Contribution: 0.2, Text: "days since last payment: unknown"}}},
			{RunID: run, CustomerID: "c2", AsOf: asOf, ModelVersion: 1, Probability: p / 2, Band: churn.RiskLow, Tier: churn.TierC},
		}
		if err := c.RecordScoreRun(ctx, run, asOf, 1, churn.ScoreRunStarted, 0, ""); err != nil {
			t.Fatal(err)
		}
		if err := c.WriteScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
		if finish {
			if err := c.RecordScoreRun(ctx, run, asOf, 1, churn.ScoreRunFinished, len(scores), ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r, err := c.LatestFinishedRun(ctx); err != nil || r != nil {
		t.Fatalf("latest run on an empty table = %v, %v", r, err)
	}
	write("r1", day, 0.4, true)
	now = now.Add(time.Second) // score_runs.at has second resolution
	write("r2", day.AddDate(0, 0, 7), 0.9, false)
	r, err := c.LatestFinishedRun(ctx)
	if err != nil || r == nil || r.ID != "r1" || r.Rows != 2 {
		t.Fatalf("latest finished run = %+v, %v; want r1 with 2 rows", r, err)
	}
	var got []churn.Score
	if err := c.ScanRunScores(ctx, "r1", func(s churn.Score) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("run r1 has %d scores", len(got))
	}
	for _, s := range got {
		if s.CustomerID == "c1" && (len(s.Reasons) != 2 || !math.IsNaN(s.Reasons[1].Value) || s.Reasons[0].Value != 0.061 || s.Reasons[0].Text != "dropped-call rate 6.1%" || s.Band != churn.RiskHigh || !s.AsOf.Equal(day)) {
			t.Fatalf("c1 read back as %+v", s)
		}
	}
	h, err := c.CustomerHistory(ctx, "c1", 10)
	if err != nil || len(h) != 1 || h[0].RunID != "r1" {
		t.Fatalf("history = %+v, %v; want only the finished run", h, err)
	}
	write("r3", day.AddDate(0, 0, 14), 0.6, true)
	h, _ = c.CustomerHistory(ctx, "c1", 10)
	if len(h) != 2 || h[0].RunID != "r1" || h[1].RunID != "r3" {
		t.Fatalf("history after r3 = %+v", h)
	}
}
