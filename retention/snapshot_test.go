package retention

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
	"github.com/telcoretain/churn/retention/retentiontest"
)

// landing is an event of a random history with the time it reaches the
// log: most land as they are stamped, some late (a plan run from the CLI
// stamps its events before it writes them), but never a sync margin late.
type landing struct {
	e    churn.ActionEvent
	land time.Time
}

var snapStart = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// randomHistory makes n events on a few actions: every event type (and an
// unknown one), events that cannot apply, duplicated rows, stale and zero
// fencing tokens, and late landings, ordered by landing time.
func randomHistory(rng *rand.Rand, n int) []landing {
	types := []churn.ActionStatus{churn.ActionQueued, churn.ActionQueued, churn.ActionControl, churn.ActionClaimed, churn.ActionClaimed,
		churn.ActionDone, churn.ActionFailed, churn.ActionCancelled, churn.ActionAnswered, "bogus"}
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	var out []landing
	t, term := snapStart, uint64(1)
	for range n {
		t = t.Add(time.Duration(rng.IntN(180_000)) * time.Millisecond)
		if rng.IntN(20) == 0 {
			term++
		}
		tok := term
		switch rng.IntN(10) {
		case 0:
			tok = 0 // a plan from the CLI
		case 1:
			tok = max(term, 2) - 1 // a stale owner
		}
		id := fmt.Sprintf("e%019d-%s", t.UnixNano(), pick("aaaa", "bbbb"))
		aid := fmt.Sprintf("a%02d", rng.IntN(12))
		typ := types[rng.IntN(len(types))]
		if rng.IntN(40) == 0 {
			typ = churn.ActionArchived
		}
		a := churn.Action{ID: aid, CustomerID: "c" + aid, Cycle: pick("2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"),
			Kind: churn.ActionKind(pick("offer", "sms", "specialist_call")), Offer: pick("", "discount10"), Channel: pick("phone", "sms"),
			Cost: float64(rng.IntN(500)) / 10, Priority: rng.IntN(4), Value: rng.NormFloat64() * 100, Status: typ,
			Agent: pick("", "ann", "bob"), LeaseUntil: t.Add(time.Duration(rng.IntN(40)-5) * time.Minute).Truncate(time.Second),
			Outcome: pick("", OutcomeAccepted, OutcomeDeclined, OutcomeUnreachable, OutcomeDelivered), Note: pick("", "called twice", "é ✓"),
			RunID: "run1", Rule: pick("r1", RuleManual), Tier: churn.ValueTier(pick("high", "low")), Band: churn.RiskBand(pick("high", "medium")),
			Reason: pick("price", ""), Probability: rng.Float64(), LifetimeValue: rng.Float64() * 1000, Attempts: rng.IntN(3)}
		if typ == churn.ActionArchived {
			a = churn.Action{Cycle: a.Cycle} // an event about the cycle
		}
		if rng.IntN(30) == 0 {
			a.Value = math.Inf(1)
		}
		e := churn.ActionEvent{ID: id, Type: typ, At: t.Truncate(time.Second), Actor: pick("job:actions", "agent:ann"), Action: a, Token: tok}
		land := t
		if rng.IntN(6) == 0 {
			land = t.Add(time.Duration(rng.IntN(int(syncMargin/time.Second)-1)) * time.Second)
		}
		out = append(out, landing{e, land})
		if rng.IntN(15) == 0 {
			out = append(out, landing{e, land.Add(time.Duration(rng.IntN(30)) * time.Second)})
		}
	}
	slices.SortStableFunc(out, func(x, y landing) int { return x.land.Compare(y.land) })
	return out
}

// sameState fails the test when two queues' states differ.
func sameState(t *testing.T, what string, got, want *Queue) {
	t.Helper()
	g, w := got.st, want.st
	if g.token != w.token || !g.latest.Equal(w.latest) {
		t.Fatalf("%s: token %d latest %s, want %d %s", what, g.token, g.latest, w.token, w.latest)
	}
	if len(g.actions) != len(w.actions) {
		t.Fatalf("%s: %d actions, want %d", what, len(g.actions), len(w.actions))
	}
	if !maps.Equal(g.archived, w.archived) {
		t.Fatalf("%s: archived cycles %v, want %v", what, g.archived, w.archived)
	}
	if !maps.EqualFunc(g.contacts, w.contacts, slices.Equal) {
		t.Fatalf("%s: archived contacts %v, want %v", what, g.contacts, w.contacts)
	}
	norm := func(a churn.Action) churn.Action {
		a.LeaseUntil, a.CreatedAt = a.LeaseUntil.UTC(), a.CreatedAt.UTC()
		return a
	}
	for id, wa := range w.actions {
		ga, ok := g.actions[id]
		if !ok {
			t.Fatalf("%s: action %s missing", what, id)
		}
		if !reflect.DeepEqual(norm(*ga), norm(*wa)) {
			t.Fatalf("%s: action %s\n got %+v\nwant %+v", what, id, *ga, *wa)
		}
	}
}

func TestSnapshotAndLaterEventsRebuildWhatAFullReplayDoes(t *testing.T) {
	ctx := context.Background()
	archiving := 0 // histories whose archive holds contacts at the end
	for seed := uint64(1); seed <= 150; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		hist := randomHistory(rng, 30+rng.IntN(250))
		log, snaps := &retentiontest.Log{}, retentiontest.NewSnapshots()
		clock := clocktest.New(snapStart)
		newWriter := func() *Queue {
			w := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps, WriteSnapshots: true, Writer: "w"})
			if err := w.Load(ctx); err != nil {
				t.Fatal(err)
			}
			return w
		}
		var w *Queue
		landed := 0
		end := hist[len(hist)-1].land
		// Snapshot rounds at random times, each folding in what has landed.
		for round := 0; round < 1+rng.IntN(4); round++ {
			at := snapStart.Add(time.Duration(rng.Int64N(int64(end.Sub(snapStart) + 2*syncMargin))))
			if at.Before(clock.Now()) {
				continue
			}
			for landed < len(hist) && !hist[landed].land.After(at) {
				if err := log.AppendActionEvents(ctx, []churn.ActionEvent{hist[landed].e}); err != nil {
					t.Fatal(err)
				}
				landed++
			}
			clock.Set(at)
			if w == nil || rng.IntN(2) == 0 {
				w = newWriter() // a new owner starts from the last snapshot
			}
			if _, _, err := w.WriteSnapshot(ctx); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		for ; landed < len(hist); landed++ {
			if err := log.AppendActionEvents(ctx, []churn.ActionEvent{hist[landed].e}); err != nil {
				t.Fatal(err)
			}
		}
		fromSnap := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps})
		full := NewQueue(log, QueueOptions{Now: clock.Now})
		if err := fromSnap.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if err := full.Load(ctx); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("seed %d (%d events, %d snapshots)", seed, len(hist), len(snaps.Headers()))
		sameState(t, what, fromSnap, full)
		if len(full.st.contacts) > 0 {
			archiving++
		}

		// Both keep folding in later events alike.
		more := randomHistory(rng, 20)
		for _, l := range more {
			l.e.ID = strings.Replace(l.e.ID, "e", "e9", 1)[:20] + l.e.ID[20:] // after the history
			if err := log.AppendActionEvents(ctx, []churn.ActionEvent{l.e}); err != nil {
				t.Fatal(err)
			}
		}
		for _, q := range []*Queue{fromSnap, full} {
			if _, err := q.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		sameState(t, what+" after a sync", fromSnap, full)
	}
	if archiving < 30 {
		t.Errorf("only %d of 150 histories end with archived contacts: the test hardly covers archiving", archiving)
	}
}

// history lands every event of a random history and returns the log.
func landedLog(t *testing.T, seed uint64, n int) *retentiontest.Log {
	t.Helper()
	log := &retentiontest.Log{}
	for _, l := range randomHistory(rand.New(rand.NewPCG(seed, 1)), n) {
		if err := log.AppendActionEvents(context.Background(), []churn.ActionEvent{l.e}); err != nil {
			t.Fatal(err)
		}
	}
	return log
}

// bigLog is a log of many actions, so that a snapshot has several chunks.
func bigLog(t *testing.T, actions int) *retentiontest.Log {
	t.Helper()
	log := &retentiontest.Log{}
	evs := make([]churn.ActionEvent, 0, actions)
	for i := range actions {
		at := snapStart.Add(time.Duration(i) * time.Millisecond)
		evs = append(evs, churn.ActionEvent{ID: fmt.Sprintf("e%019d-aaaa", at.UnixNano()), Type: churn.ActionQueued, At: at,
			Action: churn.Action{ID: fmt.Sprintf("a%07d", i), CustomerID: fmt.Sprintf("c%d", i), Cycle: "2026-03-01", Kind: churn.ActionSMS}})
	}
	if err := log.AppendActionEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return log
}

func TestSnapshotWriterThatDiesLeavesNoSnapshotAndLoadsFallBack(t *testing.T) {
	ctx := context.Background()
	log := bigLog(t, 3*chunkActions+5)
	clock := clocktest.New(snapStart.Add(time.Hour))
	snaps := retentiontest.NewSnapshots()
	w := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps, WriteSnapshots: true})
	if err := w.Load(ctx); err != nil {
		t.Fatal(err)
	}
	first, ok, err := w.WriteSnapshot(ctx)
	if err != nil || !ok {
		t.Fatalf("first snapshot: %v %v", ok, err)
	}
	// More events, then writers that die after 0, 2 and all 4 chunks.
	for i := range 3 {
		at := snapStart.Add(time.Hour + time.Duration(i)*time.Second)
		e := churn.ActionEvent{ID: fmt.Sprintf("e%019d-bbbb", at.UnixNano()), Type: churn.ActionCancelled, At: at,
			Action: churn.Action{ID: fmt.Sprintf("a%07d", i), Status: churn.ActionCancelled}}
		if err := log.AppendActionEvents(ctx, []churn.ActionEvent{e}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(snapStart.Add(2 * time.Hour))
	for _, n := range []int{0, 2, 4} {
		snaps.DieAfter(n)
		if _, _, err := w.WriteSnapshot(ctx); err == nil {
			t.Fatalf("writer dying after %d chunks: no error", n)
		}
		if hs := snaps.Headers(); len(hs) != 1 || hs[0].ID != first.ID {
			t.Fatalf("after a writer died after %d chunks: snapshots %+v, want only the first", n, hs)
		}
		got := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps})
		full := NewQueue(log, QueueOptions{Now: clock.Now})
		if err := got.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if err := full.Load(ctx); err != nil {
			t.Fatal(err)
		}
		sameState(t, fmt.Sprintf("died after %d chunks", n), got, full)
	}
	// The next write succeeds and is the one loads use.
	second, ok, err := w.WriteSnapshot(ctx)
	if err != nil || !ok || second.Cut <= first.Cut {
		t.Fatalf("snapshot after the failures: %+v %v %v", second, ok, err)
	}
	if hs := snaps.Headers(); len(hs) != 2 || hs[0].ID != second.ID || hs[0].Chunks != 4 {
		t.Fatalf("snapshots after the failures: %+v, want the new one of 4 chunks first", hs)
	}
}

func TestCorruptOrPartialSnapshotIsSkippedWithALogLine(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		damage func(s *retentiontest.Snapshots, id uint64)
	}{
		{"flipped byte", func(s *retentiontest.Snapshots, id uint64) { s.Damage(id, 1) }},
		{"missing chunk", func(s *retentiontest.Snapshots, id uint64) { s.DropChunk(id) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			log := bigLog(t, 2*chunkActions+1)
			clock := clocktest.New(snapStart.Add(time.Hour))
			snaps := retentiontest.NewSnapshots()
			w := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps, WriteSnapshots: true})
			if err := w.Load(ctx); err != nil {
				t.Fatal(err)
			}
			older, _, err := w.WriteSnapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			at := snapStart.Add(time.Hour)
			if err := log.AppendActionEvents(ctx, []churn.ActionEvent{{ID: fmt.Sprintf("e%019d-bbbb", at.UnixNano()), Type: churn.ActionCancelled,
				At: at, Action: churn.Action{ID: "a0000001"}}}); err != nil {
				t.Fatal(err)
			}
			clock.Set(snapStart.Add(2 * time.Hour))
			newer, ok, err := w.WriteSnapshot(ctx)
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			c.damage(snaps, newer.ID)

			var buf bytes.Buffer
			got := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps, Log: slog.New(slog.NewTextHandler(&buf, nil))})
			full := NewQueue(log, QueueOptions{Now: clock.Now})
			if err := got.Load(ctx); err != nil {
				t.Fatal(err)
			}
			if err := full.Load(ctx); err != nil {
				t.Fatal(err)
			}
			sameState(t, c.name, got, full)
			out := buf.String()
			if !strings.Contains(out, "snapshot is corrupt or incomplete") || !strings.Contains(out, fmt.Sprint(newer.ID)) ||
				!strings.Contains(out, fmt.Sprintf("snapshot loaded\" snapshot=%d", older.ID)) {
				t.Errorf("log does not name the bad snapshot and the one used:\n%s", out)
			}

			// With every snapshot bad, the whole log is replayed.
			c.damage(snaps, older.ID)
			buf.Reset()
			if err := got.Load(ctx); err != nil {
				t.Fatal(err)
			}
			sameState(t, c.name+", all bad", got, full)
			if !strings.Contains(buf.String(), "replaying the whole action log") {
				t.Errorf("no log line for the full replay:\n%s", buf.String())
			}
		})
	}
}

func TestSnapshotLeavesEventsOfTheSyncMarginToTheTail(t *testing.T) {
	ctx := context.Background()
	log := landedLog(t, 3, 200)
	evs, _ := log.ActionEvents(ctx, time.Time{})
	last, _ := idTime(evs[len(evs)-1].ID)
	clock := clocktest.New(last.Add(syncMargin / 2))
	snaps := retentiontest.NewSnapshots()
	w := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps, WriteSnapshots: true})
	if err := w.Load(ctx); err != nil {
		t.Fatal(err)
	}
	h, ok, err := w.WriteSnapshot(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if cut, _ := idTime(h.Cut); cut.After(clock.Now().Add(-syncMargin)) {
		t.Errorf("cut %s is within the sync margin of %s", h.Cut, clock.Now())
	}
	if _, again, err := w.WriteSnapshot(ctx); err != nil || again {
		t.Errorf("second snapshot with no newer settled event: wrote %v, err %v", again, err)
	}
}

func TestChunkRoundTripsEveryField(t *testing.T) {
	as := []*churn.Action{
		{ID: "a1", CustomerID: "c1", Cycle: "2026-03-01", Kind: churn.ActionOffer, Offer: "o", Channel: "phone", Cost: 1.5,
			Priority: -2, Value: math.Inf(-1), Status: churn.ActionClaimed, Agent: "ann", LeaseUntil: snapStart.Add(time.Nanosecond),
			Outcome: "x", Note: "ü\x00", CreatedAt: snapStart, RunID: "r", Rule: "manual", Tier: "high", Band: "low",
			Reason: "price", Probability: 0.25, LifetimeValue: 1e300},
		{ID: "a2"},
	}
	b := encodeChunk(nil, as)
	n, err := chunkCount(b)
	if err != nil || n != len(as) {
		t.Fatalf("count %d (%v), want %d", n, err, len(as))
	}
	got := make([]churn.Action, n)
	if err := decodeChunk(b, got); err != nil {
		t.Fatal(err)
	}
	for i, a := range as {
		if !reflect.DeepEqual(got[i], *a) {
			t.Errorf("action %d:\n got %+v\nwant %+v", i, got[i], *a)
		}
	}
	for _, bad := range [][]byte{b[:len(b)-1], append(slices.Clone(b[:5]), b[6:]...), []byte("QS1")} {
		if err := decodeChunk(bad, make([]churn.Action, len(as))); err == nil {
			t.Errorf("damaged chunk of %d bytes decoded", len(bad))
		}
	}
	if err := decodeChunk(b, make([]churn.Action, len(as)+1)); err == nil {
		t.Error("a chunk decoded into more actions than it holds")
	}
}

// BenchmarkLoadFromSnapshot times the Go side of a start from a snapshot of
// 300,000 actions held in memory (decoding, the index, the settled copy):
// the part of make bench-queue that is not ClickHouse's.
func BenchmarkLoadFromSnapshot(b *testing.B) {
	ctx := context.Background()
	log := &retentiontest.Log{}
	const n = 300_000
	evs := make([]churn.ActionEvent, 0, n)
	for i := range n {
		at := snapStart.Add(time.Duration(i) * time.Millisecond)
		evs = append(evs, churn.ActionEvent{ID: fmt.Sprintf("e%019d-aaaa", at.UnixNano()), Type: churn.ActionQueued, At: at,
			Action: churn.Action{ID: fmt.Sprintf("a%023d", i), CustomerID: fmt.Sprintf("C%d", i%1000000), Cycle: "2026-03-01",
				Kind: churn.ActionSMS, Channel: "sms", Cost: 0.05, Value: float64(i % 1000), RunID: "run-3", Rule: "default",
				Tier: churn.TierB, Band: churn.RiskHigh, Reason: "price", Probability: 0.4, LifetimeValue: 1200}})
	}
	if err := log.AppendActionEvents(ctx, evs); err != nil {
		b.Fatal(err)
	}
	clock := clocktest.New(snapStart.Add(time.Hour))
	snaps := retentiontest.NewSnapshots()
	w := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps, WriteSnapshots: true})
	if err := w.Load(ctx); err != nil {
		b.Fatal(err)
	}
	if _, _, err := w.WriteSnapshot(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		q := NewQueue(log, QueueOptions{Now: clock.Now, Snapshots: snaps, WriteSnapshots: true})
		if err := q.Load(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/action")
}
