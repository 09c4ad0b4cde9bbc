package retention

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
	"github.com/telcoretain/churn/retention/retentiontest"
)

// memLog is the in-memory action log shared with the queue's users' tests.
type memLog = retentiontest.Log

type clock = clocktest.Clock

func newTestQueue(t *testing.T, n int) (*Queue, *memLog, *clock) {
	t.Helper()
	log := &memLog{}
	clk := clocktest.New(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))
	q := NewQueue(log, QueueOptions{Now: clk.Now, Lease: func() time.Duration { return 10 * time.Minute }})
	if _, _, err := q.List(Filter{}, 0, 10); churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("listing before the log was read: %v", err)
	}
	var as []churn.Action
	for i := range n {
		as = append(as, churn.Action{ID: fmt.Sprintf("a%04d", i), CustomerID: fmt.Sprintf("c%04d", i),
			Cycle: "2025-06-01", Kind: churn.ActionOffer, Priority: 1 + i%3, Value: float64(i), Tier: churn.TierC})
	}
	if added, err := q.Enqueue(context.Background(), "test", as, nil); err != nil || added != n {
		t.Fatalf("enqueue: %d, %v", added, err)
	}
	return q, log, clk
}

func TestFiftyAgentsClaimEveryActionExactlyOnce(t *testing.T) {
	q, _, _ := newTestQueue(t, 1000)
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				as, err := q.Claim(ctx, fmt.Sprintf("agent-%d", g), "test", 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(as) == 0 {
					return
				}
				mu.Lock()
				for _, a := range as {
					got[a.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 1000 {
		t.Fatalf("%d distinct actions claimed, want 1000", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("action %s claimed %d times", id, n)
		}
	}
}

func TestClaimTakesTheMostUrgentFirst(t *testing.T) {
	q, _, _ := newTestQueue(t, 9)
	as, err := q.Claim(context.Background(), "ann", "test", 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
		if a.Status != churn.ActionClaimed || a.Agent != "ann" || a.LeaseUntil.IsZero() {
			t.Fatalf("claimed %+v", a)
		}
	}
	// Priority 1 are a0000, a0003, a0006; the most valuable first.
	if fmt.Sprint(ids) != "[a0006 a0003 a0000]" {
		t.Fatalf("claimed %v", ids)
	}
}

func TestClaimOfACycleLeavesOtherCyclesQueued(t *testing.T) {
	q, _, _ := newTestQueue(t, 3)
	ctx := context.Background()
	later := churn.Action{ID: "b0000", CustomerID: "c9999", Cycle: "2025-07-01", Kind: churn.ActionOffer, Priority: 1, Value: 100}
	if added, err := q.Enqueue(ctx, "test", []churn.Action{later}, nil); err != nil || added != 1 {
		t.Fatalf("enqueue: %d, %v", added, err)
	}
	as, err := q.ClaimCycle(ctx, "ann", "test", 10, "2025-06-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 {
		t.Fatalf("claimed %d actions of cycle 2025-06-01, want 3", len(as))
	}
	for _, a := range as {
		if a.Cycle != "2025-06-01" {
			t.Fatalf("claimed %s of cycle %s", a.ID, a.Cycle)
		}
	}
	if a, _ := q.Get("b0000"); a.Status != churn.ActionQueued {
		t.Fatalf("the later cycle's action is %s, want queued", a.Status)
	}
	if _, err := q.ClaimCycle(ctx, "ann", "test", 1, "June"); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("a cycle that is not a date: %v, want an invalid-input error", err)
	}
	if as, err := q.Claim(ctx, "ann", "test", 10); err != nil || len(as) != 1 || as[0].ID != "b0000" {
		t.Fatalf("claim of any cycle: %v, %v; want b0000", as, err)
	}
}

func TestAnExpiredLeaseReturnsTheActionToTheQueue(t *testing.T) {
	q, _, clk := newTestQueue(t, 1)
	ctx := context.Background()
	if as, _ := q.Claim(ctx, "ann", "test", 1); len(as) != 1 {
		t.Fatal("first claim got nothing")
	}
	if as, _ := q.Claim(ctx, "bob", "test", 1); len(as) != 0 {
		t.Fatal("a leased action was claimed again")
	}
	clk.Add(10*time.Minute + time.Second)
	if a, _ := q.Get("a0000"); a.Status != churn.ActionQueued || a.Agent != "" {
		t.Fatalf("after the lease: %+v", a)
	}
	as, err := q.Claim(ctx, "bob", "test", 1)
	if err != nil || len(as) != 1 || as[0].Agent != "bob" {
		t.Fatalf("claim after expiry: %+v %v", as, err)
	}
	if _, err := q.Complete(ctx, "a0000", "ann", OutcomeAccepted, "", "test"); churn.ErrorKind(err) != churn.KindForbidden {
		t.Fatalf("the first agent completed bob's claim: %v", err)
	}
}

func TestCompleteAndCancelFollowTheStateMachine(t *testing.T) {
	q, _, _ := newTestQueue(t, 3)
	ctx := context.Background()
	if _, err := q.Complete(ctx, "a0000", "", OutcomeAccepted, "", "t"); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("completing an unclaimed action: %v", err)
	}
	if _, err := q.Claim(ctx, "ann", "t", 3); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		do      func() (churn.Action, error)
		kind    churn.Kind
		ok      bool
		outcome string
	}{
		{"unknown id", func() (churn.Action, error) { return q.Complete(ctx, "nope", "", OutcomeAccepted, "", "t") }, churn.KindNotFound, false, ""},
		{"bad outcome", func() (churn.Action, error) { return q.Complete(ctx, "a0000", "", "maybe", "", "t") }, churn.KindInvalid, false, ""},
		{"complete", func() (churn.Action, error) {
			return q.Complete(ctx, "a0000", "ann", OutcomeAccepted, "took the offer", "t")
		}, 0, true, OutcomeAccepted},
		{"complete twice", func() (churn.Action, error) { return q.Complete(ctx, "a0000", "", OutcomeDeclined, "", "t") }, churn.KindConflict, false, ""},
		{"cancel done", func() (churn.Action, error) { return q.Cancel(ctx, "a0000", "", "", "t") }, churn.KindConflict, false, ""},
		{"unreachable", func() (churn.Action, error) { return q.Complete(ctx, "a0001", "", OutcomeUnreachable, "", "t") }, 0, true, OutcomeUnreachable},
		{"cancel another agent's claim", func() (churn.Action, error) { return q.Cancel(ctx, "a0002", "eve", "", "t") }, churn.KindForbidden, false, ""},
		{"cancel claimed", func() (churn.Action, error) { return q.Cancel(ctx, "a0002", "", "left already", "t") }, 0, true, ""},
		{"cancel twice", func() (churn.Action, error) { return q.Cancel(ctx, "a0002", "", "", "t") }, churn.KindConflict, false, ""},
	}
	for _, c := range cases {
		a, err := c.do()
		if c.ok && (err != nil || a.Outcome != c.outcome) {
			t.Errorf("%s: %+v %v", c.name, a, err)
		}
		if !c.ok && churn.ErrorKind(err) != c.kind {
			t.Errorf("%s: err %v, want kind %v", c.name, err, c.kind)
		}
	}
	counts := q.Counts()
	if counts[churn.ActionDone] != 1 || counts[churn.ActionFailed] != 1 || counts[churn.ActionCancelled] != 1 {
		t.Fatalf("counts %v", counts)
	}
}

func TestReplayingTheLogRebuildsTheSameQueue(t *testing.T) {
	q, log, clk := newTestQueue(t, 50)
	ctx := context.Background()
	as, _ := q.Claim(ctx, "ann", "t", 20)
	for _, a := range as[:10] {
		if _, err := q.Complete(ctx, a.ID, "", OutcomeDeclined, "", "t"); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = q.Cancel(ctx, as[10].ID, "", "", "t")
	clk.Add(11 * time.Minute)
	_, _ = q.Claim(ctx, "bob", "t", 15) // takes expired claims back too

	fresh := NewQueue(log, QueueOptions{Now: clk.Now})
	if err := fresh.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if a, b := fmt.Sprint(q.Actions()), fmt.Sprint(fresh.Actions()); a != b || len(a) < 100 {
		t.Fatalf("replayed queue differs:\n%s\n%s", a, b)
	}
}

func TestAFailedWriteChangesNothingAndALandedOneIsFoundOnReload(t *testing.T) {
	for _, land := range []bool{false, true} {
		q, log, _ := newTestQueue(t, 2)
		ctx := context.Background()
		log.FailNext(land)
		if _, err := q.Claim(ctx, "ann", "t", 1); churn.ErrorKind(err) != churn.KindUnavailable {
			t.Fatalf("claim during an outage: %v", err)
		}
		if a, _ := q.Get("a0001"); a.Status != churn.ActionQueued {
			t.Fatalf("memory changed after a failed write: %+v", a)
		}
		// The next change reloads first: a claim that landed is honoured.
		as, err := q.Claim(ctx, "bob", "t", 2)
		if err != nil {
			t.Fatal(err)
		}
		want := 2
		if land {
			want = 1
		}
		if len(as) != want {
			t.Fatalf("land=%v: bob claimed %d, want %d", land, len(as), want)
		}
	}
}

func TestEnqueueTwiceAddsNothingAndSyncSeesOtherWriters(t *testing.T) {
	q, log, _ := newTestQueue(t, 5)
	ctx := context.Background()
	again := []churn.Action{{ID: "a0001", CustomerID: "c0001", Cycle: "2025-06-01", Kind: churn.ActionOffer}}
	if n, err := q.Enqueue(ctx, "t", again, nil); n != 0 || err != nil {
		t.Fatalf("second enqueue added %d (%v)", n, err)
	}
	// Another process (a plan run from the CLI) appends to the log.
	other := NewQueue(log, QueueOptions{})
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	ctl := churn.Action{ID: "x1", CustomerID: "c9", Cycle: "2025-06-01", Kind: churn.ActionOffer}
	if n, err := other.Enqueue(ctx, "cli", []churn.Action{{ID: "x0", CustomerID: "c8", Cycle: "2025-06-01", Kind: churn.ActionOffer}}, []churn.Action{ctl}); n != 2 || err != nil {
		t.Fatalf("other enqueue: %d %v", n, err)
	}
	n, err := q.Sync(ctx)
	if err != nil || n != 2 {
		t.Fatalf("sync applied %d (%v)", n, err)
	}
	if a, err := q.Get("x1"); err != nil || a.Status != churn.ActionControl {
		t.Fatalf("control after sync: %+v %v", a, err)
	}
	if n, _ := q.Sync(ctx); n != 0 {
		t.Fatalf("second sync applied %d", n)
	}
	ids := []string{}
	all, _ := q.Actions()
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	if !slices.Contains(ids, "x0") || len(ids) != 7 {
		t.Fatalf("actions %v", ids)
	}
}

func TestARetriedCompletionGetsTheSameAnswerAndWritesNothing(t *testing.T) {
	q, log, _ := newTestQueue(t, 1)
	ctx := context.Background()
	if _, err := q.Claim(ctx, "ann", "t", 1); err != nil {
		t.Fatal(err)
	}
	first, err := q.Complete(ctx, "a0000", "ann", OutcomeAccepted, "took it", "t")
	if err != nil {
		t.Fatal(err)
	}
	events := log.Len()
	again, err := q.Complete(ctx, "a0000", "ann", OutcomeAccepted, "took it", "t")
	if err != nil || again != first {
		t.Fatalf("retry: %+v, %v; want %+v", again, err, first)
	}
	if n := log.Len(); n != events {
		t.Fatalf("the retry wrote %d events", n-events)
	}
	for _, c := range []struct{ agent, outcome, note string }{
		{"bob", OutcomeAccepted, "took it"},
		{"ann", OutcomeDeclined, "took it"},
		{"ann", OutcomeAccepted, "another note"},
	} {
		if _, err := q.Complete(ctx, "a0000", c.agent, c.outcome, c.note, "t"); churn.ErrorKind(err) != churn.KindConflict {
			t.Errorf("completing again as %+v: %v, want a conflict", c, err)
		}
	}
}

// replicatedLog is the in-memory log as a replicated one: it counts the
// waits for its replicas and answers them with err.
type replicatedLog struct {
	*memLog
	awaited int
	err     error // what the wait returns
}

func (l *replicatedLog) AwaitActionEventsReplicated(ctx context.Context) error {
	l.awaited++
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.err
}

func TestCatchUpWaitsForTheReplicasOfTheLogAndGoesOnWhenTheyLag(t *testing.T) {
	_, log, clk := newTestQueue(t, 3)
	rl := &replicatedLog{memLog: log}
	q := NewQueue(rl, QueueOptions{Now: clk.Now})
	ctx := context.Background()
	if err := q.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if rl.awaited != 1 {
		t.Errorf("CatchUp waited for the replicas %d times, want 1", rl.awaited)
	}
	if c := q.Counts(); c[churn.ActionQueued] != 3 {
		t.Errorf("counts %v after catching up, want 3 queued", c)
	}

	// Replicas that do not agree in time: the queue is taken over anyway.
	rl.err = churn.Unavailable("replicate action_events", fmt.Errorf("replicas differ"))
	if err := q.CatchUp(ctx); err != nil {
		t.Errorf("CatchUp with lagging replicas: %v, want the log read as it is", err)
	}
	if rl.awaited != 2 {
		t.Errorf("CatchUp waited for the replicas %d times, want 2", rl.awaited)
	}
	// A cancelled takeover stops there.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := q.CatchUp(cctx); err == nil {
		t.Error("CatchUp with a cancelled context returned nil")
	}
}
