package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestOwnerClaimsGiveEachOwnersLatestLiveUnreleasedBeat(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	beats := []churn.OwnerClaim{
		{Owner: "a", Seq: 1, Term: 1, Addr: "a:8080", StartedAt: t0, BeatAt: t0},
		{Owner: "a", Seq: 2, Term: 1, Addr: "a:8080", StartedAt: t0, BeatAt: t0.Add(time.Second)},
		{Owner: "b", Seq: 1, Term: 2, Addr: "b:8080", StartedAt: t0, BeatAt: t0.Add(time.Second)},
		{Owner: "b", Seq: 2, Term: 2, Addr: "b:8080", StartedAt: t0, BeatAt: t0.Add(time.Second), Released: true},
		{Owner: "old", Seq: 1, Term: 7, Addr: "old:8080", StartedAt: t0.Add(-time.Hour), BeatAt: t0.Add(-time.Hour)},
	}
	for _, b := range beats {
		if err := c.WriteOwnerClaim(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	live, err := c.OwnerClaims(ctx, t0.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].Owner != "a" || live[0].Seq != 2 || !live[0].BeatAt.Equal(t0.Add(time.Second)) || live[0].Addr != "a:8080" {
		t.Fatalf("live claims %+v: want a's second beat only (b released, old dead)", live)
	}
	top, err := c.MaxOwnerTerm(ctx)
	if err != nil || top != 7 {
		t.Fatalf("max term %d, %v: want 7, dead claims included", top, err)
	}
}

func TestActionEventTokenRoundTripsAndOldRowsReadZero(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := churn.Action{ID: "a1", CustomerID: "c1", Cycle: "2026-03-01", Kind: churn.ActionSMS}
	if err := c.InsertColumns(ctx, "action_events", []string{"event_id", "action_id", "at", "event"},
		[]any{[]string{"e0"}, []string{"a0"}, []time.Time{t0}, []string{"queued"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendActionEvents(ctx, []churn.ActionEvent{{ID: "e1", Type: churn.ActionQueued, At: t0, Action: a, Token: 1 << 33}}); err != nil {
		t.Fatal(err)
	}
	evs, err := c.ActionEvents(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Token != 0 || evs[1].Token != 1<<33 {
		t.Fatalf("tokens %+v: want 0 for a row without one and 1<<33 as written", evs)
	}
}

func TestActionEventAttemptsRoundTripAndOtherEventsReadZero(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := churn.Action{ID: "a1", CustomerID: "c1", Cycle: "2026-03-01", Kind: churn.ActionSMS}
	sent := a
	sent.Attempts, sent.Outcome = 3, "delivered"
	evs := []churn.ActionEvent{{ID: "e1", Type: churn.ActionQueued, At: t0, Action: a},
		{ID: "e2", Type: churn.ActionDeliveryFailed, At: t0, Action: churn.Action{ID: "a1", Kind: churn.ActionSMS, Attempts: 2}},
		{ID: "e3", Type: churn.ActionDone, At: t0, Action: sent}}
	if err := c.AppendActionEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err := c.ActionEvents(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Action.Attempts != 0 || got[1].Action.Attempts != 2 || got[1].Type != churn.ActionDeliveryFailed ||
		got[2].Action.Attempts != 3 || got[2].Action.Outcome != "delivered" {
		t.Fatalf("events %+v: want attempts 0, 2, 3 as written", got)
	}
}
