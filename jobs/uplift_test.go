package jobs_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model/uplift"
	"github.com/telcoretain/churn/retention"
)

// upliftPolicy offers every customer at risk something cheap, with a large
// budget and a large control group, so that a few thousand customers make
// enough treated and control outcomes in two cycles.
func upliftPolicy(t *testing.T, targeting string) *retention.Policy {
	t.Helper()
	src := `control_share: 0.3
budget_per_cycle: 100000
targeting: ` + targeting + `
contact: {limit: 100, window_days: 1, cooldown_days: 0}
actions:
  offer: {channel: phone, cost: 1, save_rate: 0.5}
rules:
  - name: everyone
    action: offer
`
	p, err := retention.Parse("uplift-test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var upliftCycleDays = []time.Time{
	time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC),
}

// labelledUpliftCycles trains a churn champion, then for each cycle day
// scores, plans under pol and labels the plan with a planted effect that
// risk does not predict: the offer keeps every treated customer who was
// leaving over price, and makes a quarter of the contented treated
// customers who pay by the first payment method leave (sleeping dogs). It
// returns the scoring run of each cycle.
func labelledUpliftCycles(t *testing.T, c *clickhouse.Client, pol *retention.Policy) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := (&jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 4, Candidates: quick()[1:]}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, day := range upliftCycleDays {
		sr, err := (&jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c, AsOf: day}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, sr.RunID)
		res, err := (&jobs.Actions{Runs: c, Queue: loadQueue(t, c), Policy: func() *retention.Policy { return pol },
			RunID: sr.RunID, AsOf: day, DryRun: true}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		end := day.AddDate(0, 0, pol.HorizonDays)
		churned, err := c.ChurnedBetween(ctx, day, end)
		if err != nil {
			t.Fatal(err)
		}
		reasons, err := c.ChurnReasonsBetween(ctx, day, end)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := features.Compute(ctx, c, features.Spec{AsOf: day})
		if err != nil {
			t.Fatal(err)
		}
		pay := snap.Matrix.Col("payment_method")
		kept := maps.Clone(churned)
		for _, a := range res.Plan.Actions {
			_, churns := churned[a.CustomerID]
			h := fnv.New32a()
			h.Write([]byte(a.ID))
			switch r := snap.Row(a.CustomerID); {
			case reasons[a.CustomerID] == "price":
				delete(kept, a.CustomerID)
			case !churns && r >= 0 && pay[r] == 0 && h.Sum32()%4 == 0:
				kept[a.CustomerID] = day.AddDate(0, 0, 10)
			}
		}
		outs := retention.Label(append(res.Plan.Actions, res.Plan.Control...), kept)
		for i := range outs {
			outs[i].HorizonDays, outs[i].LabeledAt = pol.HorizonDays, day.AddDate(0, 3, 0)
		}
		if err := c.WriteActionOutcomes(ctx, outs); err != nil {
			t.Fatal(err)
		}
	}
	return runs
}

func TestUpliftTrainLearnsFromEarlierCyclesAndEvaluatesOnTheLatest(t *testing.T) {
	c := seeded(t, 3000)
	ctx := context.Background()
	pol := upliftPolicy(t, "risk")
	runs := labelledUpliftCycles(t, c, pol)
	churnChamp, _ := c.ChampionVersion(ctx)
	last := upliftCycleDays[len(upliftCycleDays)-1]
	plan := func(p *retention.Policy) *retention.Plan {
		res, err := (&jobs.Actions{Runs: c, Queue: loadQueue(t, c), Policy: func() *retention.Policy { return p },
			RunID: runs[len(runs)-1], AsOf: last, DryRun: true, Rand: retention.PlanRand,
			Uplift: &jobs.UpliftScorer{Models: c, Data: c}}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return res.Plan
	}
	// Without an uplift champion a policy that targets by uplift plans by
	// risk and says why.
	up := upliftPolicy(t, "uplift")
	if p := plan(up); p.Targeting != retention.TargetRisk || !strings.Contains(p.TargetingNote, "no uplift champion") || len(p.Actions) == 0 {
		t.Fatalf("targeting %s (%s), %d actions", p.Targeting, p.TargetingNote, len(p.Actions))
	}

	var steps []string
	job := &jobs.UpliftTrain{Data: c, Outcomes: c, Models: c, Registry: c, Actor: "test",
		Progress: func(step string, _ int64) { steps = append(steps, step) }}
	res, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("treated %d control %d; holdout %+v; Qini uplift %.5f risk %.5f; promoted %v (%s)",
		res.Treated, res.Control, res.Holdout.Cycle, res.Holdout.Qini, res.Holdout.QiniRisk, res.Promoted, res.Why)
	if strings.Join(res.TrainCycles, ",") != "2025-06-01,2025-07-01" || res.Holdout.Cycle != "2025-08-01" {
		t.Fatalf("trained on %v, evaluated on %s: want the two earlier cycles and the latest", res.TrainCycles, res.Holdout.Cycle)
	}
	if res.Treated < uplift.MinTreated || res.Control < uplift.MinControl || res.Missing != 0 {
		t.Fatalf("%d treated, %d control, %d missing", res.Treated, res.Control, res.Missing)
	}
	if strings.Join(steps, ",") != "cycle,cycle,cycle,train,evaluate" {
		t.Fatalf("progress steps %v", steps)
	}
	// The planted effect keeps price-driven churners only: ranking by it
	// must beat ranking by risk, which also favours those who leave for
	// reasons no offer changes.
	if !(res.Holdout.Qini > res.Holdout.QiniRisk) || !res.Promoted || res.Why != "" {
		t.Fatalf("Qini uplift %.5f, risk %.5f, promoted %v (%s)", res.Holdout.Qini, res.Holdout.QiniRisk, res.Promoted, res.Why)
	}
	mv, err := c.Model(ctx, res.Version)
	if err != nil {
		t.Fatal(err)
	}
	if mv.Kind != churn.ModelUplift || !mv.Champion || mv.Metrics[churn.MetricQini] != res.Holdout.Qini ||
		mv.HoldoutAsOf.Format(time.DateOnly) != "2025-08-01" || mv.TrainTo.Format(time.DateOnly) != "2025-07-01" {
		t.Fatalf("registry entry kind %s champion %v metrics %v holdout %s", mv.Kind, mv.Champion, mv.Metrics, mv.HoldoutAsOf)
	}
	tm, err := uplift.Unmarshal(mv.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if h := tm.Holdout; h == nil || len(h.Curve) != jobs.DefaultQiniPoints+1 || len(h.RiskCurve) != len(h.Curve) || h.Qini != res.Holdout.Qini {
		t.Fatalf("stored holdout %+v", tm.Holdout)
	}
	if v, _ := c.ChampionVersion(ctx); v != churnChamp {
		t.Fatalf("churn champion %d after uplift training, want %d unchanged", v, churnChamp)
	}

	// The planner switch: the same cycle planned by uplift ranks by the
	// champion's uplift x value - cost, deterministically, and holds out
	// the same share by the same hash.
	first, again := plan(up), plan(up)
	if first.Targeting != retention.TargetUplift || !strings.Contains(first.TargetingNote, "uplift model") {
		t.Fatalf("targeting %s (%s)", first.Targeting, first.TargetingNote)
	}
	if len(first.Actions) == 0 || len(first.Actions) != len(again.Actions) {
		t.Fatalf("%d actions, then %d", len(first.Actions), len(again.Actions))
	}
	for i, a := range first.Actions {
		if a.CustomerID != again.Actions[i].CustomerID || a.Value != again.Actions[i].Value {
			t.Fatalf("action %d: %s %g, then %s %g: the plan is not deterministic", i, a.CustomerID, a.Value, again.Actions[i].CustomerID, again.Actions[i].Value)
		}
		// Exploration's actions come last, in the order of their draws.
		if i > 0 && i < len(first.Actions)-first.Explored && a.Value > first.Actions[i-1].Value {
			t.Fatalf("action %d value %g above the one before (%g): not ranked by incremental value", i, a.Value, first.Actions[i-1].Value)
		}
	}
	for _, a := range first.Control {
		if !retention.InControl(a.CustomerID, a.Cycle, up.ControlShare) {
			t.Fatalf("control customer %s is not one the hash holds out", a.CustomerID)
		}
	}
	risk := plan(upliftPolicy(t, "risk"))
	if risk.Targeting != retention.TargetRisk || risk.TargetingNote != "" {
		t.Fatalf("risk policy planned with %s (%s)", risk.Targeting, risk.TargetingNote)
	}
	// The ranking is the model's, not the churn probability's.
	same := 0
	for i, a := range first.Actions[:len(first.Actions)-first.Explored] {
		if !(a.Value > 0) {
			t.Fatalf("exploited action %d of %s has value %g", i, a.CustomerID, a.Value)
		}
		if i < len(risk.Actions) && risk.Actions[i].CustomerID == a.CustomerID {
			same++
		}
	}
	if same > len(first.Actions)/2 {
		t.Fatalf("%d of %d actions in the same place as in the risk plan", same, len(first.Actions))
	}
	// A run scored with the uplift champion in place stores its estimates
	// in ClickHouse, and a plan from it reads them: the same actions with
	// the same values as the plan that computed them.
	sr, err := (&jobs.Scoring{Data: c, Models: c, Runs: c, Scores: c, Uplift: c, AsOf: last}).Run(ctx)
	if err != nil || sr.UpliftModel != res.Version {
		t.Fatalf("scoring with uplift model %d: stored %v, %v", res.Version, sr, err)
	}
	res2, err := (&jobs.Actions{Runs: c, Queue: loadQueue(t, c), Policy: func() *retention.Policy { return up },
		RunID: sr.RunID, AsOf: last, DryRun: true, Rand: retention.PlanRand,
		Uplift: &jobs.UpliftScorer{Models: c, Data: c}}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fromStored := res2.Plan
	if !strings.Contains(fromStored.TargetingNote, "stored by the scoring run") || len(fromStored.Actions) != len(first.Actions) {
		t.Fatalf("plan of the run with stored uplift: %q, %d actions, want %d", fromStored.TargetingNote, len(fromStored.Actions), len(first.Actions))
	}
	values := map[string]float64{}
	for _, a := range first.Actions {
		values[a.CustomerID] = a.Value
	}
	for _, a := range fromStored.Actions {
		if v, ok := values[a.CustomerID]; !ok || math.Abs(v-a.Value) > 1e-4*max(1, math.Abs(v)) {
			t.Fatalf("customer %s: value %g from the stored uplift, %g (planned: %v) computed", a.CustomerID, a.Value, v, ok)
		}
	}
	if _, err := c.Rollback(ctx, churn.ModelUplift, "test", "none left"); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("rollback of the only uplift champion: %v, want conflict", err)
	}
}

func TestUpliftTrainRefusesTooFewOutcomesNamingTheCounts(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	job := &jobs.UpliftTrain{Data: c, Outcomes: c, Models: c, Registry: c}
	if _, err := job.Run(ctx); churn.ErrorKind(err) != churn.KindInvalid || !strings.Contains(err.Error(), "0 labelled retention cycles") {
		t.Fatalf("no cycles: %v", err)
	}
	var outs []churn.Outcome
	for k, cycle := range []string{"2025-06-01", "2025-07-01", "2025-08-01"} {
		for i := range 700 {
			o := churn.Outcome{Cycle: cycle, CustomerID: fmt.Sprintf("C%05d", i), ActionID: fmt.Sprintf("a%d-%d", k, i),
				Group: churn.GroupTreated, Kind: churn.ActionOffer, Tier: churn.TierB, Probability: 0.1, HorizonDays: 30}
			if i%7 == 0 {
				o.Group = churn.GroupControl
			}
			outs = append(outs, o)
		}
	}
	if err := c.WriteActionOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	_, err := job.Run(ctx)
	if churn.ErrorKind(err) != churn.KindInvalid || !strings.Contains(err.Error(), "1200 treated and 200 control outcomes") ||
		!strings.Contains(err.Error(), "at least 1000 and 300") || !strings.Contains(err.Error(), "2025-08-01") {
		t.Fatalf("too few outcomes: %v", err)
	}
	if ms, _ := c.Models(ctx); len(ms) != 0 {
		t.Fatalf("a refused run stored %d models", len(ms))
	}
}
