package retention

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/telcoretain/churn"
)

// Log is the append-only action event log (ClickHouse's action_events).
type Log interface {
	// AppendActionEvents writes events as one block, all or nothing, before returning.
	AppendActionEvents(ctx context.Context, events []churn.ActionEvent) error
	// ActionEvents returns the events at or after since (zero: all), ordered by id.
	ActionEvents(ctx context.Context, since time.Time) ([]churn.ActionEvent, error)
	// ScanActionEvents streams to fn, ordered by id, the events whose id is
	// after after ("": from the first) and at most upto ("": to the last).
	ScanActionEvents(ctx context.Context, after, upto string, fn func(churn.ActionEvent) error) error
}

// ReplicatedLog is a Log whose events reach the replicas of a cluster one
// after the other (clickhouse.Client on a cluster).
type ReplicatedLog interface {
	Log
	// AwaitActionEventsReplicated waits, for a bounded time, until every
	// replica that answers holds every event written so far; it returns at
	// once on a single node.
	AwaitActionEventsReplicated(ctx context.Context) error
}

// Queue is the work queue of retention actions. One process owns it (see
// shared/ARCHITECTURE.md): the queue holds the state in memory, serialises
// changes, and writes each change's event to the log before the change
// becomes visible, so an answer given to an agent is never lost. Events
// other processes append (plans run from the CLI) are folded in by Sync.
type Queue struct {
	log   Log
	now   func() time.Time
	lease func() time.Duration
	ids   *EventIDs
	logr  *slog.Logger
	fence func() (uint64, error)

	mu     sync.Mutex
	st     *state
	stale  bool // not loaded yet, or a write failed: memory may lag the log
	loaded bool // the log was read at least once
	// loadedAt is when the log was last read whole (CatchUp).
	loadedAt time.Time

	// Snapshots (snapshot.go): the store, whether this queue keeps the
	// settled state to write them, and, under snapMu, that state and the
	// cut of the snapshot last written or loaded.
	snaps       SnapshotStore
	keepSettled bool
	writer      string
	snapMu      sync.Mutex
	settled     *state
	written     string
}

// QueueOptions are the queue's collaborators; zero values take defaults.
type QueueOptions struct {
	Now   func() time.Time     // time.Now
	Lease func() time.Duration // DefaultLease; the current policy's in a server
	Log   *slog.Logger
	// Fence, when set, is asked before every write for the owner's fencing
	// token, or why this process may not write (Ownership.Fence). Without
	// it the queue writes token 0, as plans run from the CLI do.
	Fence func() (uint64, error)
	// Snapshots, when set, is where loads start from: the newest snapshot
	// that reads back whole, then the events after it.
	Snapshots SnapshotStore
	// WriteSnapshots keeps the settled state beside the live one so that
	// WriteSnapshot can store it (a server that may own the queue); it
	// needs Snapshots. Writer names the writer in the snapshot headers.
	WriteSnapshots bool
	Writer         string
}

// NewQueue returns a queue over log. It reads the log on Load, or on the
// first Sync or change, so a server can start while ClickHouse is down;
// reads fail as unavailable until then.
func NewQueue(log Log, o QueueOptions) *Queue {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lease == nil {
		o.Lease = func() time.Duration { return DefaultLease }
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Fence == nil {
		o.Fence = func() (uint64, error) { return 0, nil }
	}
	return &Queue{log: log, now: o.Now, lease: o.Lease, ids: NewEventIDs(o.Now), logr: o.Log, fence: o.Fence,
		st: newState(), stale: true, snaps: o.Snapshots, keepSettled: o.WriteSnapshots && o.Snapshots != nil, writer: o.Writer}
}

// Load rebuilds the queue from the newest usable snapshot (with Snapshots)
// and the events after it, or from the whole log.
func (q *Queue) Load(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.reload(ctx)
}

func (q *Queue) reload(ctx context.Context) error {
	base := newState()
	if q.snaps != nil {
		var err error
		if base, err = q.loadSnapshot(ctx); err != nil {
			return err
		}
	}
	// The settled state is the live one until the first event too new to
	// settle: one scan of the log builds both, and a copy is made once.
	st, upto, loaded := base, settleBound(q.now()), base.cut
	var settled *state
	settle := func() {
		if q.keepSettled && settled == nil {
			settled = st.clone()
			settled.applied, settled.pruneAt = map[string]int64{}, minPrune
		}
	}
	q.ids.Observe(loaded)
	err := q.log.ScanActionEvents(ctx, loaded, "", func(e churn.ActionEvent) error {
		if e.ID > upto {
			settle()
		}
		st.apply(e)
		if settled == nil {
			st.cut = e.ID
		}
		q.ids.Observe(e.ID)
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	settle()
	q.st, q.stale, q.loaded, q.loadedAt = st, false, true, q.now()
	if q.keepSettled {
		q.snapMu.Lock()
		q.settled, q.written = settled, loaded
		q.snapMu.Unlock()
	}
	return nil
}

// CatchUp brings the queue up to the log before this process writes as its
// owner. Right after a load (a server that starts and at once takes the
// queue over) a Sync does, so a start reads the snapshot and the log once;
// otherwise the queue is loaded again, as every takeover did before.
//
// When the log is replicated (a ClickHouse cluster) it first waits until
// every replica holds every event, as far as the log can tell
// (ReplicatedLog); a log whose replicas do not agree in time is read as it
// is, with a warning, rather than leave the queue without an owner.
func (q *Queue) CatchUp(ctx context.Context) error {
	if r, ok := q.log.(ReplicatedLog); ok {
		if err := r.AwaitActionEventsReplicated(ctx); err != nil {
			if ctx.Err() != nil {
				return err
			}
			q.logr.Warn("taking the queue over before every replica of the action log caught up", "err", err)
		}
	}
	q.mu.Lock()
	fresh := q.loaded && !q.stale && q.now().Sub(q.loadedAt) < catchUpWindow
	q.mu.Unlock()
	if !fresh {
		return q.Load(ctx)
	}
	_, err := q.Sync(ctx)
	return err
}

// catchUpWindow is how recent a load lets CatchUp sync instead of load.
const catchUpWindow = time.Minute

// syncMargin is how far back Sync looks before the newest event it knows:
// another process stamps its events before it writes them, so a plan's
// events can land a little after later ones of ours.
const syncMargin = 10 * time.Minute

// Sync folds in events other processes appended since the last look and
// returns how many changed the queue.
func (q *Queue) Sync(ctx context.Context) (int, error) {
	q.mu.Lock()
	since, stale := q.st.latest.Add(-syncMargin), q.stale
	q.mu.Unlock()
	if stale {
		q.mu.Lock()
		defer q.mu.Unlock()
		return 0, q.reload(ctx)
	}
	if since.Before(time.Unix(0, 0)) {
		since = time.Time{}
	}
	evs, err := q.log.ActionEvents(ctx, since)
	if err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stale {
		return 0, q.reload(ctx)
	}
	n := 0
	for _, e := range evs {
		if q.st.apply(e) {
			n++
		}
		q.ids.Observe(e.ID)
	}
	return n, nil
}

// commit writes events and then folds them in. The caller holds q.mu and
// has checked each event against the state. When the write fails nothing
// changes in memory, and the next change reloads the log first, in case the
// write landed after all.
func (q *Queue) commit(ctx context.Context, evs []churn.ActionEvent) error {
	tok, err := q.fenced()
	if err != nil {
		return err
	}
	for i := range evs {
		evs[i].Token = tok
	}
	if err := q.log.AppendActionEvents(ctx, evs); err != nil {
		q.stale = true
		return err
	}
	for _, e := range evs {
		q.st.apply(e)
	}
	return nil
}

// fenced returns the token to write with, or why this process may not
// write; the caller holds q.mu.
func (q *Queue) fenced() (uint64, error) {
	tok, err := q.fence()
	if err != nil {
		return 0, err
	}
	if tok != 0 && tok < q.st.token {
		return 0, churn.Errorf(churn.KindUnavailable, "write action event",
			"a newer owner of the action queue (token %d, this server's %d) wrote to the log; this server steps down on its next poll", q.st.token, tok)
	}
	return tok, nil
}

// begin takes the lock for a change, reloading first if a write failed. A
// process that may not write fails here, before it could answer from
// memory (an empty claim, an existing action) as if it owned the queue.
func (q *Queue) begin(ctx context.Context) error {
	if _, err := q.fence(); err != nil {
		return err
	}
	q.mu.Lock()
	if q.stale {
		if err := q.reload(ctx); err != nil {
			q.mu.Unlock()
			return err
		}
	}
	if _, err := q.fenced(); err != nil {
		q.mu.Unlock()
		return err
	}
	return nil
}

func (q *Queue) event(t churn.ActionStatus, actor string, a churn.Action) churn.ActionEvent {
	id, at := q.ids.Next()
	return churn.ActionEvent{ID: id, Type: t, At: at, Actor: actor, Action: a}
}

// Enqueue appends actions of a plan (queued) and its control group in one
// write, skipping ids the log already has, and returns how many it added.
func (q *Queue) Enqueue(ctx context.Context, actor string, actions, control []churn.Action) (int, error) {
	if err := q.begin(ctx); err != nil {
		return 0, err
	}
	defer q.mu.Unlock()
	var evs []churn.ActionEvent
	for _, set := range []struct {
		t  churn.ActionStatus
		as []churn.Action
	}{{churn.ActionQueued, actions}, {churn.ActionControl, control}} {
		for _, a := range set.as {
			if err := q.st.open(a.Cycle); err != nil {
				return 0, fmt.Errorf("enqueue actions: %w", err) // nothing written yet
			}
			if q.st.actions[a.ID] != nil {
				continue
			}
			evs = append(evs, q.event(set.t, actor, a))
		}
	}
	if len(evs) == 0 {
		return 0, nil
	}
	return len(evs), q.commit(ctx, evs)
}

// Add queues one action by hand and reports whether it is new; adding the
// same action again returns the existing one.
func (q *Queue) Add(ctx context.Context, actor string, a churn.Action) (churn.Action, bool, error) {
	if err := q.begin(ctx); err != nil {
		return churn.Action{}, false, err
	}
	defer q.mu.Unlock()
	if cur := q.st.actions[a.ID]; cur != nil {
		return q.view(cur), false, nil
	}
	if err := q.st.open(a.Cycle); err != nil {
		return churn.Action{}, false, fmt.Errorf("add action: %w", err)
	}
	e := q.event(churn.ActionQueued, actor, a)
	if err := q.commit(ctx, []churn.ActionEvent{e}); err != nil {
		return churn.Action{}, false, err
	}
	return q.view(q.st.actions[a.ID]), true, nil
}

// ArchiveCycles archives the cycles not archived yet (churn.ActionArchived),
// in one write, and returns them: their closed actions leave memory, now
// and as their open ones close, keeping each customer's contact days for
// the contact rules. Archive a cycle once its outcomes are labelled, which
// read its actions.
func (q *Queue) ArchiveCycles(ctx context.Context, actor string, cycles []string) ([]string, error) {
	for i, c := range cycles {
		if _, err := CycleDate(c); err != nil {
			return nil, churn.Invalid("archive cycles", fmt.Sprintf("cycles[%d]", i), "%q is not a cycle date (YYYY-MM-DD)", c)
		}
	}
	if err := q.begin(ctx); err != nil {
		return nil, err
	}
	defer q.mu.Unlock()
	var evs []churn.ActionEvent
	var out []string
	for _, c := range slices.Compact(slices.Sorted(slices.Values(cycles))) {
		if !q.st.archived[c] {
			evs = append(evs, q.event(churn.ActionArchived, actor, churn.Action{Cycle: c}))
			out = append(out, c)
		}
	}
	if len(evs) == 0 {
		return nil, nil
	}
	if err := q.commit(ctx, evs); err != nil {
		return nil, err
	}
	return out, nil
}

// Archive is what the queue keeps of its archived cycles: the cycles, and
// each customer's contact days in them (days since 1970-01-01, ascending).
// The caller may keep it; the queue never changes what it returned.
type Archive struct {
	Cycles   map[string]bool
	Contacts map[string][]int32
}

// Archive returns the archived cycles and their contacts.
func (q *Queue) Archive() (Archive, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.loaded {
		return Archive{}, errNotLoaded
	}
	return q.archive(), nil
}

// archive copies the state's archive; the caller holds q.mu.
func (q *Queue) archive() Archive {
	return Archive{Cycles: maps.Clone(q.st.archived), Contacts: maps.Clone(q.st.contacts)}
}

// History returns every action as it stands now, in work order, and the
// archive, read at one instant, for planning: an action that closes in
// between is in one of them, never in both.
func (q *Queue) History() ([]churn.Action, Archive, error) {
	q.mu.Lock()
	if !q.loaded {
		q.mu.Unlock()
		return nil, Archive{}, errNotLoaded
	}
	all, arch := q.matching(Filter{}), q.archive()
	q.mu.Unlock()
	sortWork(all)
	return all, arch, nil
}

// Archived reports whether cycle is archived.
func (q *Queue) Archived(cycle string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.st.archived[cycle]
}

// Claim gives agent up to limit queued actions, most urgent first (priority,
// then expected value), each under a lease; automated kinds (email, sms)
// are the dispatcher's and never claimed. Claims of concurrent agents are
// serialised, so no action goes to two agents.
func (q *Queue) Claim(ctx context.Context, agent, actor string, limit int) ([]churn.Action, error) {
	return q.ClaimCycle(ctx, agent, actor, limit, "")
}

// ClaimCycle is Claim limited to the actions of one cycle (YYYY-MM-DD; ""
// for every cycle), for work that belongs to a cycle, such as the demo's
// synthetic agents, which must leave a later cycle's queue alone.
func (q *Queue) ClaimCycle(ctx context.Context, agent, actor string, limit int, cycle string) ([]churn.Action, error) {
	if cycle != "" {
		if _, err := CycleDate(cycle); err != nil {
			return nil, churn.Invalid("claim actions", "cycle", "%q is not a cycle date (YYYY-MM-DD)", cycle)
		}
	}
	if strings.TrimSpace(agent) == "" {
		return nil, churn.Invalid("claim actions", "agent", "is required: name the agent taking the actions")
	}
	if limit < 1 {
		return nil, churn.Invalid("claim actions", "limit", "%d: want at least 1", limit)
	}
	if err := q.begin(ctx); err != nil {
		return nil, err
	}
	defer q.mu.Unlock()
	now := q.now()
	var open []*churn.Action
	for _, a := range q.st.actions {
		if effective(a, now) == churn.ActionQueued && !a.Kind.Automated() && (cycle == "" || a.Cycle == cycle) {
			open = append(open, a)
		}
	}
	slices.SortFunc(open, workOrder)
	open = open[:min(limit, len(open))]
	until := now.Add(q.lease()).Truncate(time.Second) // the log keeps whole seconds
	evs := make([]churn.ActionEvent, len(open))
	for i, a := range open {
		c := *a
		c.Agent, c.LeaseUntil, c.Outcome, c.Note = agent, until, "", ""
		evs[i] = q.event(churn.ActionClaimed, actor, c)
	}
	if len(evs) == 0 {
		return []churn.Action{}, nil
	}
	if err := q.commit(ctx, evs); err != nil {
		return nil, err
	}
	out := make([]churn.Action, len(evs))
	for i, e := range evs {
		out[i] = q.view(q.st.actions[e.Action.ID])
	}
	return out, nil
}

// workOrder sorts actions the way agents should work them.
func workOrder(x, y *churn.Action) int {
	if c := cmp.Compare(x.Priority, y.Priority); c != 0 {
		return c
	}
	if c := cmp.Compare(y.Value, x.Value); c != 0 {
		return c
	}
	return cmp.Compare(x.ID, y.ID)
}

// Complete records the outcome of a claimed action. agent, when given, must
// be the agent holding the claim (KindForbidden otherwise); an admin acting
// for whoever holds it passes "".
func (q *Queue) Complete(ctx context.Context, id, agent, outcome, note, actor string) (churn.Action, error) {
	t := churn.ActionDone
	switch outcome {
	case OutcomeAccepted, OutcomeDeclined:
	case OutcomeUnreachable:
		t = churn.ActionFailed
	default:
		return churn.Action{}, churn.Invalid("complete action", "outcome", "%q: want accepted, declined or unreachable", outcome)
	}
	return q.change(ctx, id, t, actor, func(a *churn.Action) error {
		if a.Status == t && a.Outcome == outcome && a.Note == note && (agent == "" || a.Agent == agent) {
			// A retry of a completion whose answer was lost (the owner
			// died after writing it): the same request gets the same answer.
			return errRepeated
		}
		if agent != "" && a.Agent != agent && a.Status == churn.ActionClaimed {
			return churn.Errorf(churn.KindForbidden, "complete action", "action %s is claimed by %s, not %s; only an admin may complete another agent's claim", id, a.Agent, agent)
		}
		if a.Kind.Automated() && a.Status != churn.ActionClaimed {
			return churn.Errorf(churn.KindConflict, "complete action", "action %s is an %s action: the dispatcher delivers it, agents do not work it", id, a.Kind)
		}
		a.Outcome, a.Note = outcome, note
		return nil
	})
}

// Answer records the customer's answer to a delivered email or sms action
// (accepted or declined), which the campaign system reports after the
// dispatcher handed the message over: the action stays done, with the
// answer as its outcome, so the learned acceptance of messages counts it.
// A message is answered once; the same answer again is a retry and writes
// nothing. An answer without a note keeps the dispatcher's.
func (q *Queue) Answer(ctx context.Context, id, outcome, note, actor string) (churn.Action, error) {
	if err := CheckAnswer(outcome); err != nil {
		return churn.Action{}, err
	}
	return q.change(ctx, id, churn.ActionAnswered, actor, answerEdit(id, outcome, note))
}

// MessageAnswer is one answer of a batch (AnswerAll).
type MessageAnswer struct {
	ActionID, Outcome, Note string
}

// MaxAnswers is the most answers one AnswerAll takes.
const MaxAnswers = 1000

// AnswerAll records the answers of many delivered messages in one write to
// the log, as a campaign system reports them in bulk: all of them or, when
// one cannot be recorded (unknown, not a delivered message, answered
// otherwise), none, with an error naming answers[i]. Answers already
// recorded are retries and write nothing. It returns the actions as they
// stand, in the order of answers, and how many answers it wrote.
func (q *Queue) AnswerAll(ctx context.Context, answers []MessageAnswer, actor string) ([]churn.Action, int, error) {
	const op = "answer actions"
	if len(answers) == 0 || len(answers) > MaxAnswers {
		return nil, 0, churn.Invalid(op, "answers", "%d answers: want 1 to %d", len(answers), MaxAnswers)
	}
	at := func(i int, err error) error {
		if churn.ErrorKind(err) == churn.KindInternal {
			return fmt.Errorf("%s: answers[%d]: %w", op, i, err)
		}
		return churn.InField(fmt.Sprintf("answers[%d]", i), err)
	}
	first := map[string]int{}
	for i, an := range answers {
		if j, ok := first[an.ActionID]; ok {
			return nil, 0, churn.Invalid(op, fmt.Sprintf("answers[%d].action_id", i), "%q is answers[%d] too: answer a message once per request", an.ActionID, j)
		}
		first[an.ActionID] = i
		if err := CheckAnswer(an.Outcome); err != nil {
			return nil, 0, at(i, err)
		}
	}
	if err := q.begin(ctx); err != nil {
		return nil, 0, err
	}
	defer q.mu.Unlock()
	var evs []churn.ActionEvent
	for i, an := range answers {
		e, repeated, err := q.prepare(an.ActionID, churn.ActionAnswered, actor, answerEdit(an.ActionID, an.Outcome, an.Note))
		if err != nil {
			return nil, 0, at(i, err)
		}
		if !repeated {
			evs = append(evs, e)
		}
	}
	if len(evs) > 0 {
		if err := q.commit(ctx, evs); err != nil {
			return nil, 0, err
		}
	}
	out := make([]churn.Action, len(answers))
	for i, an := range answers {
		out[i] = q.view(q.st.actions[an.ActionID])
	}
	return out, len(evs), nil
}

// CheckAnswer says whether outcome is an answer a message takes: accepted
// or declined.
func CheckAnswer(outcome string) error {
	if outcome != OutcomeAccepted && outcome != OutcomeDeclined {
		return churn.Invalid("answer action", "outcome", "%q: want accepted or declined", outcome)
	}
	return nil
}

// answerEdit is the change an answer makes to its action. Which actions take
// an answer is the log's rule (state.check): a delivered message, once.
func answerEdit(id, outcome, note string) func(*churn.Action) error {
	return func(a *churn.Action) error {
		switch {
		case !a.Kind.Automated():
			// before the retry case: an agent's accepted offer is no answer
			return churn.Errorf(churn.KindConflict, "answer action", "action %s is a %s action: its agent's completion is its answer", id, a.Kind)
		case a.Status == churn.ActionDone && a.Outcome == outcome && (note == "" || a.Note == note):
			return errRepeated
		}
		a.Outcome = outcome
		if note != "" { // else the dispatcher's (the receiver's answer, the file) stays
			a.Note = note
		}
		return nil
	}
}

// Cancel takes an action out of the queue for good. An agent (agent not
// "") cancels a queued action or its own claim; another agent's claim only
// an admin (agent "") may cancel, as with Complete.
func (q *Queue) Cancel(ctx context.Context, id, agent, note, actor string) (churn.Action, error) {
	return q.change(ctx, id, churn.ActionCancelled, actor, func(a *churn.Action) error {
		if agent != "" && a.Status == churn.ActionClaimed && a.Agent != agent {
			return churn.Errorf(churn.KindForbidden, "cancel action", "action %s is claimed by %s, not %s; only an admin may cancel another agent's claim", id, a.Agent, agent)
		}
		a.Note = note
		return nil
	})
}

func (q *Queue) change(ctx context.Context, id string, t churn.ActionStatus, actor string, edit func(*churn.Action) error) (churn.Action, error) {
	if err := q.begin(ctx); err != nil {
		return churn.Action{}, err
	}
	defer q.mu.Unlock()
	e, repeated, err := q.prepare(id, t, actor, edit)
	if err != nil {
		return churn.Action{}, err
	}
	if !repeated {
		if err := q.commit(ctx, []churn.ActionEvent{e}); err != nil {
			return churn.Action{}, err
		}
		if q.st.actions[id] == nil {
			// it closed an action of an archived cycle, which left memory
			a := e.Action
			a.Status = t
			return a, nil
		}
	}
	return q.view(q.st.actions[id]), nil
}

// prepare builds the event of type t that edit makes of action id, checked
// against the log's rules, for the caller (holding q.mu) to commit;
// repeated says edit found the request carried out already (errRepeated),
// with nothing to write.
func (q *Queue) prepare(id string, t churn.ActionStatus, actor string, edit func(*churn.Action) error) (e churn.ActionEvent, repeated bool, err error) {
	cur := q.st.actions[id]
	if cur == nil {
		return e, false, q.st.missing(string(t)+" action", id)
	}
	a := *cur
	if err := edit(&a); errors.Is(err, errRepeated) {
		return e, true, nil
	} else if err != nil {
		return e, false, err
	}
	e = q.event(t, actor, a)
	if err := q.st.check(&e); err != nil {
		return churn.ActionEvent{}, false, err
	}
	return e, false, nil
}

// errRepeated tells change that the request was already carried out.
var errRepeated = errors.New("already done")

var errNotLoaded = churn.Errorf(churn.KindUnavailable, "read action queue",
	"the action log has not been read yet (ClickHouse unavailable?); retry later")

// MaxToken is the highest fencing token in the log as last read.
func (q *Queue) MaxToken() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.st.token
}

// Get returns one action as it stands now.
func (q *Queue) Get(id string) (churn.Action, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.loaded {
		return churn.Action{}, errNotLoaded
	}
	a := q.st.actions[id]
	if a == nil {
		return churn.Action{}, q.st.missing("get action", id)
	}
	return q.view(a), nil
}

// view copies an action with its effective status.
func (q *Queue) view(a *churn.Action) churn.Action {
	v := *a
	if st := effective(a, q.now()); st != v.Status {
		v.Status, v.Agent, v.LeaseUntil = st, "", time.Time{}
	}
	return v
}

// Filter selects actions in List; empty fields match everything.
type Filter struct {
	Status     churn.ActionStatus
	Tier       churn.ValueTier
	Kind       churn.ActionKind
	Cycle      string
	CustomerID string
	Agent      string
}

// Validate reports the first field of f that names no action status,
// value tier, action kind or cycle date (an empty field matches any).
func (f Filter) Validate() error {
	const op = "list actions"
	if f.Status != "" && !slices.Contains(churn.ActionStatuses, f.Status) {
		return churn.Invalid(op, "status", "%q: want one of %s", f.Status, churn.Names(churn.ActionStatuses))
	}
	if f.Tier != "" && f.Tier.Rank() < 0 {
		return churn.Invalid(op, "tier", "%q is not a value tier; want %s", f.Tier, churn.Names(churn.ValueTiers[:]))
	}
	if f.Kind != "" && !slices.Contains(churn.ActionKinds, f.Kind) {
		return churn.Invalid(op, "kind", "%q: want one of %s", f.Kind, churn.Names(churn.ActionKinds))
	}
	if f.Cycle != "" {
		if _, err := CycleDate(f.Cycle); err != nil {
			return churn.Invalid(op, "cycle", "%q is not a cycle date (YYYY-MM-DD)", f.Cycle)
		}
	}
	return nil
}

func (f Filter) match(a *churn.Action) bool {
	return (f.Status == "" || a.Status == f.Status) && (f.Tier == "" || a.Tier == f.Tier) &&
		(f.Kind == "" || a.Kind == f.Kind) && (f.Cycle == "" || a.Cycle == f.Cycle) &&
		(f.CustomerID == "" || a.CustomerID == f.CustomerID) && (f.Agent == "" || a.Agent == f.Agent)
}

// List returns the actions that match f in work order, offset and limit
// applied, and how many match in all.
func (q *Queue) List(f Filter, offset, limit int) ([]churn.Action, int, error) {
	if offset < 0 || limit < 0 {
		return nil, 0, churn.Invalid("list actions", "limit", "offset %d and limit %d: want numbers >= 0", offset, limit)
	}
	q.mu.Lock()
	if !q.loaded {
		q.mu.Unlock()
		return nil, 0, errNotLoaded
	}
	all := q.matching(f)
	q.mu.Unlock()
	sortWork(all)
	total := len(all)
	if offset >= total {
		return []churn.Action{}, total, nil
	}
	return all[offset:min(total, offset+limit)], total, nil
}

// matching returns the actions that match f as they stand now, in no
// order; the caller holds q.mu.
func (q *Queue) matching(f Filter) []churn.Action {
	var all []churn.Action
	for _, a := range q.st.actions {
		if v := q.view(a); f.match(&v) {
			all = append(all, v)
		}
	}
	return all
}

func sortWork(as []churn.Action) {
	slices.SortFunc(as, func(x, y churn.Action) int { return workOrder(&x, &y) })
}

// Actions returns every action as it stands now, for planning.
func (q *Queue) Actions() ([]churn.Action, error) {
	out, _, err := q.List(Filter{}, 0, 1<<62)
	return out, err
}

// Stats is what the queue holds in memory, for its metrics.
type Stats struct {
	Loaded           bool                       // the log was read at least once
	Actions          map[churn.ActionStatus]int // by status as it stands now
	ArchivedCycles   int
	ArchivedContacts int // customers whose contact days in archived cycles are kept
}

// Stats counts what the queue holds in memory now.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := Stats{Loaded: q.loaded, Actions: map[churn.ActionStatus]int{}, ArchivedCycles: len(q.st.archived),
		ArchivedContacts: len(q.st.contacts)}
	now := q.now()
	for _, a := range q.st.actions {
		st.Actions[effective(a, now)]++
	}
	return st
}

// Counts returns how many actions have each status now.
func (q *Queue) Counts() map[churn.ActionStatus]int { return q.Stats().Actions }
