package clickhouse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestUpliftModelsHaveTheirOwnChampionPromotedOnlyWhenTheyBeatRisk(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	save := func(kind churn.ModelKind, metrics map[string]float64) churn.ModelVersion {
		t.Helper()
		v, err := c.SaveModel(ctx, churn.Model{Kind: kind, Algorithm: "x", Metrics: metrics, Artifact: []byte("a")})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	champ := func(kind churn.ModelKind) churn.ModelVersion {
		t.Helper()
		v, err := c.ChampionOf(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	c1 := save(churn.ModelChurn, map[string]float64{"roc_auc": 0.8})
	worse := save(churn.ModelUplift, map[string]float64{churn.MetricQini: 0.01, churn.MetricQiniRisk: 0.02, churn.MetricHoldoutControl: 500})
	small := save(churn.ModelUplift, map[string]float64{churn.MetricQini: 0.05, churn.MetricQiniRisk: 0.02, churn.MetricHoldoutControl: 7})
	u1 := save(churn.ModelUplift, map[string]float64{churn.MetricQini: 0.03, churn.MetricQiniRisk: 0.02, churn.MetricHoldoutControl: 500})
	c2 := save(churn.ModelChurn, map[string]float64{"roc_auc": 0.81})
	u2 := save(churn.ModelUplift, map[string]float64{churn.MetricQini: 0.04, churn.MetricQiniRisk: 0.02, churn.MetricHoldoutControl: 100})
	if _, err := c.SaveModel(ctx, churn.Model{Kind: "propensity", Algorithm: "x"}); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("unknown kind saved: %v", err)
	}

	err := c.Promote(ctx, worse, "t", "try")
	if churn.ErrorKind(err) != churn.KindConflict || !strings.Contains(err.Error(), "does not beat risk targeting") {
		t.Fatalf("promote an uplift model below risk: %v", err)
	}
	if err := c.Promote(ctx, small, "t", "try"); churn.ErrorKind(err) != churn.KindConflict || !strings.Contains(err.Error(), "7 control outcomes") {
		t.Fatalf("promote an uplift model of a tiny holdout: %v", err)
	}
	for _, v := range []churn.ModelVersion{c1, u1, c2, u2} {
		if err := c.Promote(ctx, v, "t", "better"); err != nil {
			t.Fatalf("promote %d: %v", v, err)
		}
	}
	if champ(churn.ModelChurn) != c2 || champ(churn.ModelUplift) != u2 {
		t.Fatalf("champions churn %d uplift %d, want %d and %d", champ(churn.ModelChurn), champ(churn.ModelUplift), c2, u2)
	}
	if v, _ := c.ChampionVersion(ctx); v != c2 {
		t.Fatalf("scoring's champion %d, want the churn champion %d", v, c2)
	}
	ms, err := c.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[churn.ModelVersion]churn.ModelKind{c1: churn.ModelChurn, worse: churn.ModelUplift, small: churn.ModelUplift, u1: churn.ModelUplift, c2: churn.ModelChurn, u2: churn.ModelUplift}
	for _, m := range ms {
		want := m.Version == c2 || m.Version == u2
		if m.Champion != want || m.Kind != kinds[m.Version] {
			t.Fatalf("model %d (%s): champion %v", m.Version, m.Kind, m.Champion)
		}
	}
	// Rolling back one kind leaves the other's champion alone.
	if v, err := c.Rollback(ctx, churn.ModelUplift, "t", "worse in the field"); err != nil || v != u1 {
		t.Fatalf("uplift rollback: %d, %v; want %d", v, err, u1)
	}
	if champ(churn.ModelChurn) != c2 || champ(churn.ModelUplift) != u1 {
		t.Fatalf("after the uplift rollback: churn %d uplift %d", champ(churn.ModelChurn), champ(churn.ModelUplift))
	}
	if _, err := c.Rollback(ctx, churn.ModelUplift, "t", "again"); churn.ErrorKind(err) != churn.KindConflict || !strings.Contains(err.Error(), "uplift") {
		t.Fatalf("second uplift rollback: %v", err)
	}
	if v, err := c.Rollback(ctx, churn.ModelChurn, "t", "bad scores"); err != nil || v != c1 {
		t.Fatalf("churn rollback: %d, %v; want %d", v, err, c1)
	}
	if champ(churn.ModelUplift) != u1 {
		t.Fatalf("uplift champion %d after the churn rollback, want %d", champ(churn.ModelUplift), u1)
	}
	m, err := c.Model(ctx, c1)
	if err != nil || m.Kind != churn.ModelChurn {
		t.Fatalf("model %d kind %q (%v)", c1, m.Kind, err)
	}
}
