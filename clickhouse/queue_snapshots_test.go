package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/internal/clocktest"
	"github.com/telcoretain/churn/retention"
)

// snapshotWriter is a fresh database and a loaded queue on it that writes
// snapshots, on a test clock.
func snapshotWriter(t *testing.T) (*clickhouse.Client, *clocktest.Clock, *retention.Queue) {
	t.Helper()
	c, _ := chtest.NewDB(t)
	clock, q := snapshotQueue(t, c)
	return c, clock, q
}

// snapshotQueue is a loaded queue on c that writes snapshots, on a test
// clock.
func snapshotQueue(t *testing.T, c *clickhouse.Client) (*clocktest.Clock, *retention.Queue) {
	t.Helper()
	clock := clocktest.New(time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC))
	q := retention.NewQueue(c, retention.QueueOptions{Now: clock.Now, Snapshots: c, WriteSnapshots: true, Writer: "test"})
	if err := q.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return clock, q
}

func TestQueueFromSnapshotAndLaterEventsEqualsFullReplay(t *testing.T) {
	c, clock, writer := snapshotWriter(t)
	ctx := context.Background()
	// Enough actions for two chunks, some worked before the snapshot.
	var plan []churn.Action
	for i := range 9000 {
		plan = append(plan, churn.Action{ID: fmt.Sprintf("a%05d", i), CustomerID: fmt.Sprintf("c%05d", i), Cycle: "2026-04-01",
			Kind: churn.ActionSMS, Priority: i % 3, Value: float64(i), Tier: churn.TierA, Band: churn.RiskHigh, Probability: 0.5})
	}
	if _, err := writer.Enqueue(ctx, "job:actions", plan[:8000], plan[8000:8100]); err != nil {
		t.Fatal(err)
	}
	work := func(n int) {
		t.Helper()
		got, err := writer.Claim(ctx, "ann", "agent:ann", n)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got[:len(got)/2] {
			if _, err := writer.Complete(ctx, a.ID, "ann", retention.OutcomeAccepted, "ok", "agent:ann"); err != nil {
				t.Fatal(err)
			}
		}
	}
	work(20)
	clock.Add(time.Hour)
	h, ok, err := writer.WriteSnapshot(ctx)
	if err != nil || !ok || h.Actions != 8100 {
		t.Fatalf("snapshot %+v, wrote %v: %v", h, ok, err)
	}
	// Later events: the rest of the plan, more work, a lease that runs out.
	if _, err := writer.Enqueue(ctx, "job:actions", plan[8100:], nil); err != nil {
		t.Fatal(err)
	}
	work(10)
	clock.Add(time.Hour)

	fromSnap := retention.NewQueue(c, retention.QueueOptions{Now: clock.Now, Snapshots: c})
	full := retention.NewQueue(c, retention.QueueOptions{Now: clock.Now})
	for _, q := range []*retention.Queue{fromSnap, full} {
		if err := q.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := fromSnap.Actions()
	if err != nil {
		t.Fatal(err)
	}
	want, err := full.Actions()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 9000 || len(got) != len(want) {
		t.Fatalf("%d actions from the snapshot, %d from a full replay, want 9000", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.LeaseUntil, g.CreatedAt, w.LeaseUntil, w.CreatedAt = g.LeaseUntil.UTC(), g.CreatedAt.UTC(), w.LeaseUntil.UTC(), w.CreatedAt.UTC()
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("action %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestQueueSnapshotWithoutHeaderIsNeverListedAndIsDroppedLater(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	died := errors.New("writer died")
	write := func(id uint64, cut string, fail bool) error {
		return c.WriteQueueSnapshot(ctx, churn.QueueSnapshot{ID: id, Cut: cut, Actions: 0, WrittenAt: time.Unix(int64(id), 0)},
			func(yield func([]byte) error) error {
				if err := yield([]byte(fmt.Sprintf("chunk of %d", id))); err != nil {
					return err
				}
				if fail {
					return died
				}
				return yield([]byte("second"))
			})
	}
	if err := write(100, "e1", true); !errors.Is(err, died) {
		t.Fatalf("failed write: %v", err)
	}
	hs, err := c.QueueSnapshots(ctx, 10)
	if err != nil || len(hs) != 0 {
		t.Fatalf("after a writer died: %+v %v, want no snapshot", hs, err)
	}
	for i, cut := range []string{"e2", "e3", "e4"} {
		if err := write(uint64(200+i), cut, false); err != nil {
			t.Fatal(err)
		}
	}
	hs, err = c.QueueSnapshots(ctx, 10)
	if err != nil || len(hs) != 3 || hs[0].Cut != "e4" || hs[0].Chunks != 2 || hs[0].ID != 202 {
		t.Fatalf("headers %+v %v", hs, err)
	}
	var chunks []string
	for _, id := range []uint64{100, 200, 201, 202} {
		n := 0
		if err := c.QueueSnapshotChunks(ctx, id, func(b []byte) error {
			if n == 0 {
				chunks = append(chunks, string(b))
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The orphan of the failed write and the oldest snapshot are dropped.
	if want := []string{"chunk of 201", "chunk of 202"}; !reflect.DeepEqual(chunks, want) {
		t.Fatalf("chunks left %q, want %q", chunks, want)
	}
}

// A message's answer goes through ClickHouse like any event: a queue read
// back from the log, and one started from a snapshot taken after the
// answer, both show it.
func TestAnAnsweredMessageIsReadBackFromTheLogAndFromASnapshot(t *testing.T) {
	c, clock, q := snapshotWriter(t)
	answeredMessage(t, c, clock, q)
}

// On a cluster the answer is an event of the Distributed action_events,
// sharded by customer like the rest of the log.
func TestClusterAnsweredMessageIsReadBackFromTheLogAndFromASnapshot(t *testing.T) {
	c, _ := chtest.NewClusterDB(t)
	clock, q := snapshotQueue(t, c)
	answeredMessage(t, c, clock, q)
}

// answeredMessage delivers two messages through q, answers one, and checks
// that queues read from the log and from a snapshot show the answer.
func answeredMessage(t *testing.T, c *clickhouse.Client, clock *clocktest.Clock, q *retention.Queue) {
	t.Helper()
	ctx := context.Background()
	msgs := []churn.Action{
		{ID: "m1", CustomerID: "c1", Cycle: "2026-04-01", Kind: churn.ActionSMS, Channel: "sms", Tier: churn.TierC},
		{ID: "m2", CustomerID: "c2", Cycle: "2026-04-01", Kind: churn.ActionEmail, Channel: "email", Tier: churn.TierB}}
	if _, err := q.Enqueue(ctx, "job:actions", msgs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := q.RecordDeliveries(ctx, "job:dispatch", []retention.Delivery{
		{ActionID: "m1", Result: retention.Delivered, Attempts: 1}, {ActionID: "m2", Result: retention.Delivered, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Answer(ctx, "m1", retention.OutcomeAccepted, "redeemed", "campaigns"); err != nil {
		t.Fatal(err)
	}
	fromLogAndSnapshot(t, c, clock, q, func(what string, r *retention.Queue) {
		t.Helper()
		for id, want := range map[string]string{"m1": retention.OutcomeAccepted, "m2": retention.OutcomeDelivered} {
			if a, err := r.Get(id); err != nil || a.Status != churn.ActionDone || a.Outcome != want {
				t.Errorf("%s: %s is %+v (%v), want done with outcome %s", what, id, a, err, want)
			}
		}
	})
	var n uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM action_events WHERE event = 'answered' AND outcome = 'accepted'").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d answered events in action_events (%v), want 1", n, err)
	}
}

func TestAnArchivedCycleIsReadBackFromTheLogAndFromASnapshot(t *testing.T) {
	c, clock, q := snapshotWriter(t)
	archivedCycle(t, c, clock, q)
}

// On a cluster the cycle's event, which names no customer, lands on one
// shard of the Distributed action_events and is read with the rest.
func TestClusterArchivedCycleIsReadBackFromTheLogAndFromASnapshot(t *testing.T) {
	c, _ := chtest.NewClusterDB(t)
	clock, q := snapshotQueue(t, c)
	archivedCycle(t, c, clock, q)
}

// archivedCycle works two cycles through q, archives the first, and checks
// that queues read from the log and from a snapshot hold the same actions
// (with their delivery attempts) and the same archive.
func archivedCycle(t *testing.T, c *clickhouse.Client, clock *clocktest.Clock, q *retention.Queue) {
	t.Helper()
	ctx := context.Background()
	var plan []churn.Action
	for i := range 40 {
		cycle, kind := "2026-03-01", churn.ActionOffer
		if i >= 20 {
			cycle = "2026-04-01"
		}
		if i%4 == 0 {
			kind = churn.ActionSMS
		}
		plan = append(plan, churn.Action{ID: fmt.Sprintf("a%02d", i), CustomerID: fmt.Sprintf("c%02d", i%25), Cycle: cycle,
			Kind: kind, Channel: "phone", Rule: "r", Tier: churn.TierB})
	}
	if _, err := q.Enqueue(ctx, "job:actions", plan, nil); err != nil {
		t.Fatal(err)
	}
	var ds []retention.Delivery
	for i, a := range plan {
		if a.Kind.Automated() {
			res := retention.Delivered
			if i%8 == 0 {
				res = retention.DeliveryFailed // stays queued, with its attempts
			}
			ds = append(ds, retention.Delivery{ActionID: a.ID, Result: res, Attempts: 2})
		}
	}
	if _, err := q.RecordDeliveries(ctx, "job:dispatch", ds); err != nil {
		t.Fatal(err)
	}
	claimed, err := q.Claim(ctx, "ann", "agent:ann", 30)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range claimed[:20] {
		if _, err := q.Complete(ctx, a.ID, "ann", retention.OutcomeDeclined, "", "agent:ann"); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := q.ArchiveCycles(ctx, "job:outcomes", []string{"2026-03-01"}); err != nil || len(got) != 1 {
		t.Fatalf("archive: %v %v", got, err)
	}
	wantActions, _ := q.Actions()
	wantArchive, _ := q.Archive()
	if len(wantArchive.Contacts) == 0 || len(wantActions) == len(plan) {
		t.Fatalf("archiving kept %d contacts and %d of %d actions: the test proves nothing", len(wantArchive.Contacts), len(wantActions), len(plan))
	}
	fromLogAndSnapshot(t, c, clock, q, func(what string, r *retention.Queue) {
		t.Helper()
		got, _ := r.Actions()
		wantActions, _ := q.Actions() // at the same time: leases run out
		arch, _ := r.Archive()
		if !reflect.DeepEqual(arch, wantArchive) {
			t.Fatalf("%s: archive %+v, want %+v", what, arch, wantArchive)
		}
		if len(got) != len(wantActions) {
			t.Fatalf("%s: %d actions, want %d", what, len(got), len(wantActions))
		}
		for i := range got {
			g, w := got[i], wantActions[i]
			if g.ID != w.ID || g.Status != w.Status || g.Attempts != w.Attempts {
				t.Fatalf("%s: action %d is %s %s (%d attempts), want %s %s (%d)", what, i, g.ID, g.Status, g.Attempts, w.ID, w.Status, w.Attempts)
			}
		}
	})
}

// fromLogAndSnapshot loads a queue from c's log, then, an hour later, one
// from a snapshot q writes, and hands each to check.
func fromLogAndSnapshot(t *testing.T, c *clickhouse.Client, clock *clocktest.Clock, q *retention.Queue, check func(what string, r *retention.Queue)) {
	t.Helper()
	ctx := context.Background()
	load := func(what string, o retention.QueueOptions) {
		t.Helper()
		o.Now = clock.Now
		r := retention.NewQueue(c, o)
		if err := r.Load(ctx); err != nil {
			t.Fatal(err)
		}
		check(what, r)
	}
	clock.Add(time.Minute)
	load("from the log", retention.QueueOptions{})
	clock.Add(time.Hour) // a snapshot holds the settled events only
	if _, ok, err := q.WriteSnapshot(ctx); err != nil || !ok {
		t.Fatalf("snapshot written %v: %v", ok, err)
	}
	clock.Add(time.Minute)
	load("from the snapshot", retention.QueueOptions{Snapshots: c})
}
