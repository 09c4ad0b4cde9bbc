package jobs_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/uplift"
	"github.com/telcoretain/churn/policies"
	"github.com/telcoretain/churn/retention"
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
// An uplift champion on the champion's features is in the registry, as
// `churn uplift train` leaves one, so the run stores each customer's uplift
// too; after the runs, the last one is planned under the default policy
// targeting by uplift (a dry run), which reads the stored uplift.
//
// It reports the customers actually scored (the active ones, not the base),
// the champion's training rows and trees, the time projected to 1,000,000
// active customers (linear; target 90 s, issue 17's `churn score`), the
// plan's time projected the same way (target 30 s, `churn actions plan`),
// and what computing the plan's uplift costs when a run stored none.
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
	upV := benchUpliftChampion(b, store, tr.Best.Version)
	var rows int
	var runID string
	var asOf time.Time
	var took map[string]time.Duration
	b.ResetTimer()
	for b.Loop() {
		r, err := (&jobs.Scoring{Data: store, Models: store, Runs: store, Scores: store, Uplift: store}).Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if r.ModelVersion != tr.Best.Version || r.UpliftModel != upV {
			b.Fatalf("scored with models %d and %d, want the benchmark's %d and %d", r.ModelVersion, r.UpliftModel, tr.Best.Version, upV)
		}
		rows, took, runID, asOf = r.Rows, r.Took, r.RunID, r.AsOf
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.StopTimer()
	planS, computeS := benchPlanByUplift(b, store, runID, asOf)
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
	for _, k := range []string{"features", "predict", "reasons", "uplift", "write"} {
		b.ReportMetric(took[k].Seconds(), k+"_s")
	}
	b.ReportMetric(planS, "plan_s")
	b.ReportMetric(planS*1_000_000/float64(rows), "projected_plan_s/1M")
	b.ReportMetric(computeS, "plan_uplift_computed_s")
}

// benchUpliftChampion saves and promotes an uplift model fit on the churn
// champion's features (its holdout figures made up so that it may be
// champion) and returns its version.
func benchUpliftChampion(b *testing.B, store *clientT, champ churn.ModelVersion) churn.ModelVersion {
	ctx := context.Background()
	mv, err := store.Model(ctx, champ)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.Unmarshal(mv.Artifact)
	if err != nil {
		b.Fatal(err)
	}
	defs := m.FeatureDefs()
	m.Close()
	_, last, err := store.UsageRange(ctx)
	if err != nil {
		b.Fatal(err)
	}
	v, err := store.SaveModel(ctx, churn.Model{Kind: churn.ModelUplift, Algorithm: uplift.Algorithm, Artifact: fitUplift(b, store, features.DataEnd(last), defs),
		Metrics: map[string]float64{churn.MetricQini: 0.02, churn.MetricQiniRisk: 0.01, churn.MetricHoldoutControl: churn.UpliftHoldoutMinControl}})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Promote(ctx, v, "bench", "the benchmark's uplift champion"); err != nil {
		b.Fatal(err)
	}
	return v
}

// benchPlanByUplift plans run (a dry run) under the default policy set to
// target by uplift and returns its seconds, and the seconds the plan's
// uplift takes to compute when the run stored none.
func benchPlanByUplift(b *testing.B, store *clientT, runID string, asOf time.Time) (planS, computeS float64) {
	ctx := context.Background()
	src := strings.Replace(string(policies.Default), "\ntargeting: risk", "\ntargeting: uplift", 1)
	pol, err := retention.Parse("bench-uplift.yaml", []byte(src))
	if err != nil || pol.Targeting != retention.TargetUplift {
		b.Fatalf("the default policy set to target by uplift: %v (targeting %s)", err, pol.Targeting)
	}
	q := retention.NewQueue(store, retention.QueueOptions{})
	if err := q.Load(ctx); err != nil {
		b.Fatal(err)
	}
	scorer := &jobs.UpliftScorer{Models: store, Data: store}
	began := time.Now()
	res, err := (&jobs.Actions{Runs: store, Queue: q, Policy: func() *retention.Policy { return pol }, RunID: runID, AsOf: asOf,
		DryRun: true, Uplift: scorer}).Run(ctx)
	planS = time.Since(began).Seconds()
	if err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(res.Plan.TargetingNote, "stored by the scoring run") || len(res.Plan.Actions) == 0 {
		b.Fatalf("plan by uplift (%s): %d actions, want some from the stored uplift", res.Plan.TargetingNote, len(res.Plan.Actions))
	}
	var scores []churn.Score
	if err := store.ScanRunScores(ctx, runID, func(s churn.Score) error {
		s.Uplift, s.UpliftModel = 0, 0 // as a run that stored none
		scores = append(scores, s)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	began = time.Now()
	if _, _, why, err := scorer.Score(ctx, asOf, pol.Actionable(scores)); err != nil || strings.Contains(why, "stored") {
		b.Fatalf("uplift computed: %q, %v", why, err)
	}
	return planS, time.Since(began).Seconds()
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
