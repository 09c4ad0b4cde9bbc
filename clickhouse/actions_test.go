package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestActionEventsRoundTripInEventOrder(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	t0 := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	a := churn.Action{ID: "a1", CustomerID: "c1", Cycle: "2025-06-01", Kind: "specialist_call", Offer: "discount",
		Channel: "phone", Cost: 25.5, Priority: 1, Value: 312.25}
	claimed := a
	claimed.Agent, claimed.LeaseUntil = "ann", t0.Add(30*time.Minute)
	done := claimed
	done.Outcome, done.Note = "accepted", "took the discount"
	queued := a
	queued.RunID, queued.Rule, queued.Tier, queued.Band, queued.Reason, queued.Probability, queued.LifetimeValue =
		"run-1", "a-price", churn.TierA, churn.RiskHigh, "price", 0.31, 4200
	evs := []churn.ActionEvent{
		{ID: "e2", Type: churn.ActionClaimed, At: t0.Add(time.Minute), Actor: "api", Action: claimed},
		{ID: "e1", Type: churn.ActionQueued, At: t0, Actor: "job", Action: queued},
		{ID: "e3", Type: churn.ActionDone, At: t0.Add(40 * 24 * time.Hour), Actor: "api", Action: done},
	}
	if err := c.AppendActionEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err := c.ActionEvents(ctx, time.Time{})
	if err != nil || len(got) != 3 {
		t.Fatalf("%d events, %v", len(got), err)
	}
	if got[0].ID != "e1" || got[1].ID != "e2" || got[2].ID != "e3" {
		t.Fatalf("order %s %s %s", got[0].ID, got[1].ID, got[2].ID)
	}
	q := got[0]
	if q.Action.LeaseUntil != (time.Time{}) || q.Action.Cost != 25.5 || q.Action.Priority != 1 || q.Action.Tier != churn.TierA ||
		q.Action.Band != churn.RiskHigh || q.Action.Probability != 0.31 || q.Action.RunID != "run-1" || !q.At.Equal(t0) ||
		q.Type != churn.ActionQueued || q.Action.Status != churn.ActionQueued || q.Action.Kind != churn.ActionSpecialistCall {
		t.Fatalf("queued event %+v", q)
	}
	if !got[1].Action.LeaseUntil.Equal(t0.Add(30*time.Minute)) || got[2].Action.Note != "took the discount" {
		t.Fatalf("later events %+v %+v", got[1], got[2])
	}
	since, err := c.ActionEvents(ctx, t0.Add(30*time.Second))
	if err != nil || len(since) != 2 || since[0].ID != "e2" {
		t.Fatalf("events since: %d %v", len(since), err)
	}
}

func TestActionOutcomesAndChurnWindows(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	if err := c.InsertColumns(ctx, "churn_events", []string{"customer_id", "churned_at", "reason", "kind"}, []any{
		[]string{"c1", "c2", "c3", "c4"},
		[]time.Time{d("2025-06-10"), d("2025-07-01"), d("2025-05-31"), d("2025-06-20")},
		[]string{"price", "price", "network", "other"},
		[]string{"voluntary", "voluntary", "voluntary", "involuntary"},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ChurnedBetween(ctx, d("2025-06-01"), d("2025-07-01"))
	if err != nil || len(got) != 2 || !got["c1"].Equal(d("2025-06-10")) || !got["c4"].Equal(d("2025-06-20")) {
		t.Fatalf("churned in June: %v %v", got, err)
	}
	// The synthetic effect keeps churners by the reason they leave for:
	// voluntary churn only.
	reasons, err := c.ChurnReasonsBetween(ctx, d("2025-06-01"), d("2025-07-01"))
	if err != nil || len(reasons) != 1 || reasons["c1"] != "price" {
		t.Fatalf("reasons of June: %v %v", reasons, err)
	}
	// The demo's synthetic effect removes voluntary churn only.
	if err := c.DeleteChurnEvents(ctx, []string{"c1", "c4"}, d("2025-06-01"), d("2025-07-01")); err != nil {
		t.Fatal(err)
	}
	got, _ = c.ChurnedBetween(ctx, d("2025-06-01"), d("2025-07-01"))
	if len(got) != 1 || got["c4"].IsZero() {
		t.Fatalf("after deleting c1 and c4: %v", got)
	}
	// A contact woke c5: the demo adds their churn event.
	if err := c.AddSyntheticChurnEvents(ctx, []string{"c5"}, []time.Time{d("2025-06-15")}, "competitor"); err != nil {
		t.Fatal(err)
	}
	if got, _ = c.ChurnedBetween(ctx, d("2025-06-01"), d("2025-07-01")); len(got) != 2 || !got["c5"].Equal(d("2025-06-15")) {
		t.Fatalf("after waking c5: %v", got)
	}

	outcomes := []churn.Outcome{
		{Cycle: "2025-06-01", CustomerID: "c1", ActionID: "a1", Group: "treated", Kind: "sms", Tier: "C", LifetimeValue: 300,
			Status: "done", Outcome: "accepted", Cost: 0.1, HorizonDays: 30, LabeledAt: d("2025-07-02"), Reason: "price", Probability: 0.25},
		{Cycle: "2025-06-01", CustomerID: "c4", ActionID: "a4", Group: "control", Kind: "sms", Tier: "C", Status: "control",
			Churned: true, ChurnedAt: d("2025-06-20"), HorizonDays: 30, LabeledAt: d("2025-07-02")},
	}
	if err := c.WriteActionOutcomes(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	cycles, err := c.LabeledCycles(ctx)
	if err != nil || !cycles["2025-06-01"] || len(cycles) != 1 {
		t.Fatalf("labelled cycles %v %v", cycles, err)
	}
	back, err := c.ActionOutcomes(ctx, "2025-06-01")
	if err != nil || len(back) != 2 {
		t.Fatalf("outcomes %d %v", len(back), err)
	}
	if back[0].Churned || !back[0].ChurnedAt.IsZero() || back[0].Outcome != "accepted" || !back[1].Churned || !back[1].ChurnedAt.Equal(d("2025-06-20")) ||
		back[0].Reason != "price" || back[0].Probability != 0.25 {
		t.Fatalf("outcomes %+v", back)
	}
	if none, _ := c.ActionOutcomes(ctx, "2024-01-01"); len(none) != 0 {
		t.Fatalf("outcomes of another cycle: %d", len(none))
	}
}
