package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestUpliftTrainRefusesTooFewOutcomesAndModelsListShowsTheKind(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	args := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	var outs []churn.Outcome
	for k, cycle := range []string{"2025-06-01", "2025-07-01"} {
		for i := range 400 {
			outs = append(outs, churn.Outcome{Cycle: cycle, CustomerID: fmt.Sprintf("C%04d", i), ActionID: fmt.Sprintf("a%d-%d", k, i),
				Group: map[bool]string{true: churn.GroupControl, false: churn.GroupTreated}[i%10 == 0], Kind: churn.ActionSMS, HorizonDays: 30})
		}
	}
	if err := c.WriteActionOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, append([]string{"uplift", "train"}, args...)...)
	if code == 0 || !strings.Contains(errOut, "360 treated and 40 control outcomes") || !strings.Contains(errOut, "at least 1000 and 300") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, append([]string{"uplift", "train", "--rounds", "0"}, args...)...); code == 0 || !strings.Contains(errOut, "rounds") {
		t.Fatalf("--rounds 0: exit %d: %s", code, errOut)
	}

	v, err := c.SaveModel(ctx, churn.Model{Kind: churn.ModelUplift, Algorithm: "two_model", Artifact: []byte("{}"),
		Metrics: map[string]float64{churn.MetricQini: 0.0123, churn.MetricQiniRisk: 0.0045, churn.MetricHoldoutControl: 300}})
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, append([]string{"models", "list"}, args...)...)
	if code != 0 || !strings.Contains(out, "KIND") || !strings.Contains(out, "uplift") || !strings.Contains(out, "0.01230 (0.00450)") {
		t.Fatalf("models list (exit %d, %s):\n%s", code, errOut, out)
	}
	if out, errOut, code := run(t, append([]string{"models", "promote", fmt.Sprint(v)}, args...)...); code != 0 {
		t.Fatalf("promote: exit %d: %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, append([]string{"models", "rollback", "--kind", "uplift"}, args...)...); code == 0 || !strings.Contains(errOut, "no earlier uplift champion") {
		t.Fatalf("rollback of the only uplift champion: exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, append([]string{"models", "rollback", "--kind", "propensity"}, args...)...); code == 0 || !strings.Contains(errOut, "kind") {
		t.Fatalf("rollback of an unknown kind: exit %d: %s", code, errOut)
	}
}
