package retention

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
)

// memOwners is an in-memory OwnerStore: the latest beat per owner, as the
// table's argMax reads it.
type memOwners struct {
	mu     sync.Mutex
	claims map[string]churn.OwnerClaim
	top    uint64
	down   bool
	blind  int // claim checks left that miss every claim, as if rivals' writes had not landed yet
}

func (m *memOwners) WriteOwnerClaim(_ context.Context, c churn.OwnerClaim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return churn.Unavailable("insert into queue_owners", errors.New("connection refused"))
	}
	if m.claims == nil {
		m.claims = map[string]churn.OwnerClaim{}
	}
	if c.Released {
		delete(m.claims, c.Owner)
	} else {
		m.claims[c.Owner] = c
	}
	m.top = max(m.top, c.Term)
	return nil
}

func (m *memOwners) OwnerClaims(_ context.Context, since time.Time) ([]churn.OwnerClaim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, churn.Unavailable("read queue_owners", errors.New("connection refused"))
	}
	if m.blind > 0 {
		return nil, nil
	}
	var out []churn.OwnerClaim
	for _, c := range m.claims {
		if !c.BeatAt.Before(since) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memOwners) MaxOwnerTerm(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.blind > 0 {
		m.blind--
		return 0, nil
	}
	return m.top, nil
}

const testTTL = 3 * time.Second

func newTestOwnership(t *testing.T, store OwnerStore, id string, clk *clock) *Ownership {
	t.Helper()
	w, err := NewOwnership(store, OwnershipOptions{ID: id, Addr: id + ":8080", TTL: testTTL, Settle: time.Second,
		Claim: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// startOwner returns a server that claimed and, a second later, owns.
func startOwner(t *testing.T, store OwnerStore, id string, clk *clock) *Ownership {
	t.Helper()
	w := newTestOwnership(t, store, id, clk)
	mustCheck(t, w)
	clk.Add(time.Second)
	mustCheck(t, w)
	if w.Status().Role != RoleOwner {
		t.Fatalf("%s is %s after claiming alone; want owner", id, w.Status().Role)
	}
	return w
}

func mustCheck(t *testing.T, ws ...*Ownership) {
	t.Helper()
	for _, w := range ws {
		if err := w.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func owners(ws ...*Ownership) int {
	n := 0
	for _, w := range ws {
		if _, err := w.Fence(); err == nil {
			n++
		}
	}
	return n
}

func TestOwnershipTwoServersStartingTogetherOneOwns(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := &memOwners{}
	a, b := newTestOwnership(t, store, "host-a:1:aa", clk), newTestOwnership(t, store, "host-b:2:bb", clk)
	mustCheck(t, a)
	store.blind = 1
	mustCheck(t, b) // b read before a's claim landed: both claim
	if a.Status().Role != RoleCandidate || b.Status().Role != RoleCandidate {
		t.Fatalf("roles %s, %s: want both candidates", a.Status().Role, b.Status().Role)
	}
	if n := owners(a, b); n != 0 {
		t.Fatalf("%d servers accept writes while claims settle", n)
	}
	clk.Add(time.Second)
	mustCheck(t, b, a)
	if a.Status().Role != RoleOwner || b.Status().Role != RoleReader {
		t.Fatalf("roles %s, %s: want the tie-break (same term, same start) to pick the lower id", a.Status().Role, b.Status().Role)
	}
	_, err := b.Fence()
	if churn.ErrorKind(err) != churn.KindUnavailable || !contains(err, "host-a:1:aa:8080") {
		t.Fatalf("reader's write error %v: want unavailable naming the owner's address", err)
	}
}

func TestOwnershipReaderTakesOverWhenOwnerStopsBeating(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := &memOwners{}
	a := startOwner(t, store, "a", clk)
	b := newTestOwnership(t, store, "b", clk)
	mustCheck(t, b)
	if b.Status().Role != RoleReader || b.Status().Owner.Owner != "a" {
		t.Fatalf("b: %+v, want a reader naming a", b.Status())
	}
	// a stops beating (killed); b polls every second.
	var took time.Duration
	for took = time.Second; took <= 10*time.Second; took += time.Second {
		clk.Add(time.Second)
		mustCheck(t, b)
		if b.Status().Role == RoleOwner {
			break
		}
	}
	if b.Status().Role != RoleOwner {
		t.Fatalf("b did not take over within 10 s: %+v", b.Status())
	}
	if took > testTTL+2*time.Second {
		t.Fatalf("b took over after %s; want within TTL %s plus two polls", took, testTTL)
	}
	if b.Status().Term <= 1 {
		t.Fatalf("b's term %d: want above a's 1", b.Status().Term)
	}
	// a comes back from a long pause: its claim is older than b's, it steps down.
	if _, err := a.Fence(); err == nil {
		t.Fatal("a accepts writes after a pause longer than its TTL")
	}
	mustCheck(t, a)
	if a.Status().Role != RoleReader || owners(a, b) != 1 {
		t.Fatalf("after the pause a is %s, %d owners; want a reader and one owner", a.Status().Role, owners(a, b))
	}
}

func TestOwnershipNewTermIsAboveTheLogsTokens(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	w, err := NewOwnership(&memOwners{}, OwnershipOptions{ID: "a", TTL: testTTL, Claim: true, Now: clk.Now,
		Floor: func() uint64 { return 41 }})
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, w)
	if got := w.Status().Term; got != 42 {
		t.Fatalf("term %d: want 42, above the log's highest token 41", got)
	}
}

func TestOwnershipServerThatMayNotOwnNeverClaims(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := &memOwners{}
	w, err := NewOwnership(store, OwnershipOptions{ID: "r", TTL: testTTL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, w)
	clk.Add(time.Second)
	mustCheck(t, w)
	if w.Status().Role != RoleReader || len(store.claims) != 0 {
		t.Fatalf("role %s with %d claims: want a reader that writes no claim", w.Status().Role, len(store.claims))
	}
}

func TestOwnerRefusesWritesWhenItCannotRenewItsClaim(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := &memOwners{}
	a := startOwner(t, store, "a", clk)
	store.down = true
	for range 3 {
		clk.Add(time.Second)
		_ = a.Check(context.Background())
	}
	if _, err := a.Fence(); err == nil || !contains(err, "could not renew") {
		t.Fatalf("fence after 3 s without a beat (TTL 3 s): %v, want refused", err)
	}
	store.down = false
	clk.Add(time.Second)
	mustCheck(t, a)
	if _, err := a.Fence(); err != nil {
		t.Fatalf("fence after the store came back: %v", err)
	}
}

func TestQueueOfReaderRefusesWritesAndStaleOwnersEventsAreFenced(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	log := &memLog{}
	ctx := context.Background()
	old := NewQueue(log, QueueOptions{Now: clk.Now, Fence: func() (uint64, error) { return 1, nil }})
	if _, err := old.Enqueue(ctx, "test", []churn.Action{{ID: "x", CustomerID: "c1", Cycle: "2026-03-01"}}, nil); err != nil {
		t.Fatal(err)
	}
	reader := NewQueue(log, QueueOptions{Now: clk.Now, Fence: func() (uint64, error) {
		return 0, churn.Errorf(churn.KindUnavailable, "", "not the owner")
	}})
	if err := reader.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Claim(ctx, "agent", "test", 1); churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("reader's claim: %v, want unavailable", err)
	}
	if _, err := reader.Get("x"); err != nil {
		t.Fatalf("reader's read: %v", err)
	}
	// A new owner (term 2) claims x; the old owner's late claim (term 1) is
	// fenced out of every replay.
	clk.Add(time.Second)
	newer := NewQueue(log, QueueOptions{Now: clk.Now, Fence: func() (uint64, error) { return 2, nil }})
	if _, err := newer.Claim(ctx, "agent-2", "test", 1); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	stale := churn.ActionEvent{ID: "e9999999999999999999-ff", Type: churn.ActionClaimed, At: clk.Now(), Token: 1,
		Action: churn.Action{ID: "x", Agent: "agent-1", LeaseUntil: clk.Now().Add(time.Hour)}}
	if err := log.AppendActionEvents(ctx, []churn.ActionEvent{stale}); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Claim(ctx, "agent-1", "test", 1); churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("old owner's write after a newer token: %v, want unavailable", err)
	}
	replay := NewQueue(log, QueueOptions{Now: clk.Now})
	if err := replay.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if a, _ := replay.Get("x"); a.Agent != "agent-2" {
		t.Fatalf("replayed x held by %q: want agent-2, the stale owner's claim fenced out", a.Agent)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

func TestReleasedOwnerIsReplacedOnTheNextPoll(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := &memOwners{}
	a, b := startOwner(t, store, "a", clk), newTestOwnership(t, store, "b", clk)
	mustCheck(t, b)
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fence(); err == nil {
		t.Fatal("a released the queue but still accepts writes")
	}
	clk.Add(time.Second)
	mustCheck(t, b) // no live claim: b claims
	clk.Add(time.Second)
	mustCheck(t, b)
	if b.Status().Role != RoleOwner {
		t.Fatalf("b is %s two polls after a released the queue; want owner", b.Status().Role)
	}
}

func TestClaimOfAProcessKnownToHaveExitedIsDead(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	store := &memOwners{}
	startOwner(t, store, "h:1:aa", clk)
	b, err := NewOwnership(store, OwnershipOptions{ID: "h:2:bb", TTL: testTTL, Settle: time.Second, Claim: true, Now: clk.Now,
		Gone: func(owner string) bool { return owner == "h:1:aa" }})
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, b)
	clk.Add(time.Second)
	mustCheck(t, b)
	if b.Status().Role != RoleOwner {
		t.Fatalf("b is %s; want owner at once, a's process having exited", b.Status().Role)
	}
}
