package retention

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/telcoretain/churn"
)

// OwnerStore keeps the owners' heartbeats (ClickHouse's queue_owners).
type OwnerStore interface {
	// WriteOwnerClaim records a beat of claim.
	WriteOwnerClaim(ctx context.Context, c churn.OwnerClaim) error
	// OwnerClaims returns the latest claim of each owner whose last beat is
	// at or after since.
	OwnerClaims(ctx context.Context, since time.Time) ([]churn.OwnerClaim, error)
	// MaxOwnerTerm returns the highest term ever claimed, 0 when none.
	MaxOwnerTerm(ctx context.Context) (uint64, error)
}

// QueueRole is what a server does with the action queue.
type QueueRole string

// The roles: the owner writes; a candidate has claimed and waits one beat
// for rival claims; a reader serves reads of the log and refuses writes.
const (
	RoleOwner     QueueRole = "owner"
	RoleCandidate QueueRole = "candidate"
	RoleReader    QueueRole = "reader"
)

// OwnerStatus says who owns the queue as this server last saw it.
type OwnerStatus struct {
	Role  QueueRole
	Self  string           // this server's owner id
	Owner churn.OwnerClaim // the owner's claim; zero when no live owner is known
	Term  uint64           // this server's term while it owns or claims
	Err   error            // of the last check; nil when it succeeded
}

// OwnershipOptions configure an Ownership; zero values take defaults.
type OwnershipOptions struct {
	ID     string        // NewOwnerID()
	Addr   string        // advertised HTTP address, told to agents sent elsewhere
	TTL    time.Duration // a claim without a beat for this long is dead; required
	Settle time.Duration // a new claim waits this long for rivals: min(TTL/3, 2s)
	Claim  bool          // whether this server may own the queue at all
	Now    func() time.Time
	Log    *slog.Logger
	// Floor returns the highest fencing token the log holds, so that a new
	// term is above every event written before (the queue's MaxToken).
	Floor func() uint64
	// Gain runs before this server starts writing as the owner: it brings
	// the queue up to the log, which the last owner may have changed
	// (the queue's CatchUp).
	Gain func(ctx context.Context) error
	// Gone reports that the process of an owner id is known to have
	// exited (same host, no such pid), so its claim is dead before its TTL
	// runs out: a server restarted after a crash takes its queue back at
	// once. nil: never known.
	Gone func(owner string) bool
}

// Ownership decides, with the other servers on the same database, which one
// owns the action queue, through heartbeats in the owner table: a server
// claims only when no live claim exists, waits one beat for rival claims,
// and the best live claim (highest term, then earliest start, then lowest
// id) owns. An owner that sees a better live claim (a rival took over while
// it stalled) steps down. Check runs at start and on every poll.
type Ownership struct {
	store OwnerStore
	o     OwnershipOptions

	// checkMu serialises checks, which alone change the state; mu guards
	// the state for readers. Checks do I/O and reload the queue without mu,
	// as the queue asks Fence for a token while it holds its own lock.
	checkMu sync.Mutex
	mu      sync.Mutex
	role    QueueRole
	mine    churn.OwnerClaim // this server's claim while it owns or is candidate
	owner   churn.OwnerClaim // the live owner as last seen
	beatOK  time.Time        // when the last beat of this server's claim was checked
	err     error
	claimed time.Time // when this server became candidate
	seq     uint64    // of this server's last claim row
}

// NewOwnerID returns host:pid:random, unique to this process.
func NewOwnerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// NewOwnership returns the ownership state of one server; it starts as a
// reader and claims on its first Check.
func NewOwnership(store OwnerStore, o OwnershipOptions) (*Ownership, error) {
	if o.TTL <= 0 {
		return nil, churn.Invalid("queue ownership", "ttl", "%s: want a positive duration", o.TTL)
	}
	if o.ID == "" {
		o.ID = NewOwnerID()
	}
	if o.Settle <= 0 {
		o.Settle = min(o.TTL/3, 2*time.Second)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Floor == nil {
		o.Floor = func() uint64 { return 0 }
	}
	if o.Gain == nil {
		o.Gain = func(context.Context) error { return nil }
	}
	if o.Gone == nil {
		o.Gone = func(string) bool { return false }
	}
	return &Ownership{store: store, o: o, role: RoleReader}, nil
}

// Start checks, and when this server claimed, waits out the settle time and
// checks again, so that a server that will own does so when Start returns.
func (w *Ownership) Start(ctx context.Context) error {
	if err := w.Check(ctx); err != nil {
		return err
	}
	if w.Status().Role != RoleCandidate {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(w.o.Settle):
	}
	return w.Check(ctx)
}

// better reports whether claim x outranks claim y.
func better(x, y churn.OwnerClaim) bool { return rank(x, y) < 0 }

func rank(x, y churn.OwnerClaim) int {
	if c := cmp.Compare(y.Term, x.Term); c != 0 {
		return c
	}
	if c := x.StartedAt.Compare(y.StartedAt); c != 0 {
		return c
	}
	return cmp.Compare(x.Owner, y.Owner)
}

// Check beats this server's claim and decides its role from the live claims.
func (w *Ownership) Check(ctx context.Context) error {
	w.checkMu.Lock()
	defer w.checkMu.Unlock()
	err := w.check(ctx)
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	if err != nil {
		w.o.Log.Warn("action queue: ownership check failed", "role", w.role, "err", err)
	}
	return err
}

func (w *Ownership) check(ctx context.Context) error {
	now := w.o.Now()
	claims, err := w.store.OwnerClaims(ctx, now.Add(-w.o.TTL))
	if err != nil {
		return err
	}
	var best *churn.OwnerClaim
	for i := range claims {
		if claims[i].Owner == w.o.ID && w.role == RoleReader {
			continue // a claim this server gave up
		}
		if claims[i].Owner != w.o.ID && w.o.Gone(claims[i].Owner) {
			continue
		}
		if best == nil || better(claims[i], *best) {
			best = &claims[i]
		}
	}
	rival := best != nil && best.Owner != w.o.ID
	switch w.role {
	case RoleOwner:
		if rival && better(*best, w.mine) {
			w.stepDown(*best, "a newer live claim outranks this server's")
			return nil
		}
		return w.beat(ctx, now)
	case RoleCandidate:
		if rival {
			w.stepDown(*best, "another server claimed the queue at the same time and wins the tie-break")
			return nil
		}
		if now.Sub(w.claimed) < w.o.Settle {
			return w.beat(ctx, now)
		}
		if err := w.o.Gain(ctx); err != nil {
			return fmt.Errorf("take over the action queue: %w", err)
		}
		if err := w.beat(ctx, now); err != nil {
			return err
		}
		w.set(func() { w.role, w.owner = RoleOwner, w.mine })
		w.o.Log.Info("action queue: this server owns the queue", "owner", w.o.ID, "term", w.mine.Term, "addr", w.o.Addr)
		return nil
	}
	if best != nil {
		if best.Owner != w.owner.Owner {
			w.o.Log.Info("action queue: another server owns the queue; serving reads only",
				"owner", best.Owner, "owner_addr", best.Addr, "term", best.Term)
		}
		w.set(func() { w.owner = *best })
		return nil
	}
	w.set(func() { w.owner = churn.OwnerClaim{} })
	if !w.o.Claim {
		return nil
	}
	top, err := w.store.MaxOwnerTerm(ctx)
	if err != nil {
		return err
	}
	mine := churn.OwnerClaim{Owner: w.o.ID, Term: max(top, w.o.Floor()) + 1, Addr: w.o.Addr, StartedAt: now}
	w.set(func() { w.mine, w.role, w.claimed = mine, RoleCandidate, now })
	w.o.Log.Info("action queue: no live owner; claiming the queue", "owner", w.o.ID, "term", w.mine.Term)
	return w.beat(ctx, now)
}

// set changes the state under mu; only check calls it.
func (w *Ownership) set(f func()) {
	w.mu.Lock()
	f()
	w.mu.Unlock()
}

func (w *Ownership) beat(ctx context.Context, now time.Time) error {
	c := w.mine
	w.seq++
	c.BeatAt, c.Seq = now, w.seq
	if err := w.store.WriteOwnerClaim(ctx, c); err != nil {
		return err
	}
	w.set(func() { w.mine.BeatAt, w.beatOK = now, now })
	return nil
}

func (w *Ownership) stepDown(winner churn.OwnerClaim, why string) {
	if w.role == RoleOwner {
		w.o.Log.Warn("action queue: stepping down as owner; serving reads only", "reason", why,
			"owner", winner.Owner, "owner_addr", winner.Addr, "term", winner.Term, "own_term", w.mine.Term)
	} else {
		w.o.Log.Info("action queue: yielding the queue", "reason", why, "owner", winner.Owner, "owner_addr", winner.Addr)
	}
	w.set(func() { w.role, w.owner, w.mine = RoleReader, winner, churn.OwnerClaim{} })
}

// Release gives the queue up when the server stops: writes are refused from
// now on and the claim is marked released, so another server (or this one
// restarted) takes over on its next poll instead of after the TTL.
func (w *Ownership) Release(ctx context.Context) error {
	w.checkMu.Lock()
	defer w.checkMu.Unlock()
	if w.role == RoleReader {
		return nil
	}
	c := w.mine
	w.set(func() { w.role, w.owner, w.mine = RoleReader, churn.OwnerClaim{}, churn.OwnerClaim{} })
	w.seq++
	c.BeatAt, c.Seq, c.Released = w.o.Now(), w.seq, true
	if err := w.store.WriteOwnerClaim(ctx, c); err != nil {
		return fmt.Errorf("release the action queue: %w", err)
	}
	w.o.Log.Info("action queue: released", "owner", w.o.ID, "term", c.Term)
	return nil
}

// Status says who owns the queue as last checked.
func (w *Ownership) Status() OwnerStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return OwnerStatus{Role: w.role, Self: w.o.ID, Owner: w.owner, Term: w.mine.Term, Err: w.err}
}

// Fence returns the token to write events with, or why this server may not
// write: it is not the owner, or it could not renew its claim for so long
// that another server may soon take over (a beat older than five sixths of
// the TTL: a rival takes over only after the whole TTL and its settle time,
// so clocks may differ by a sixth of the TTL).
func (w *Ownership) Fence() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.role != RoleOwner {
		return 0, w.notOwner()
	}
	if age := w.o.Now().Sub(w.beatOK); age > w.o.TTL*5/6 {
		return 0, churn.Errorf(churn.KindUnavailable, "write action event",
			"this server could not renew its claim on the action queue for %s (ClickHouse unavailable?); writes are refused until it can, retry later",
			age.Round(time.Second))
	}
	return w.mine.Term, nil
}

func (w *Ownership) notOwner() error {
	switch {
	case w.owner.Owner != "" && w.owner.Addr != "":
		return churn.Errorf(churn.KindUnavailable, "write action event",
			"this server does not own the retention action queue: send action writes to the owner at %s (%s)", w.owner.Addr, w.owner.Owner)
	case w.owner.Owner != "":
		return churn.Errorf(churn.KindUnavailable, "write action event",
			"this server does not own the retention action queue: the owner is %s", w.owner.Owner)
	case w.role == RoleCandidate:
		return churn.Errorf(churn.KindUnavailable, "write action event",
			"this server is claiming the retention action queue and waits for rival claims; retry in a few seconds")
	case !w.o.Claim:
		return churn.Errorf(churn.KindUnavailable, "write action event",
			"this server never owns the retention action queue (--queue-owner=false) and no live owner is known; start a server that may own it")
	}
	return churn.Errorf(churn.KindUnavailable, "write action event",
		"no server owns the retention action queue right now; one takes it over on its next poll, retry later")
}
