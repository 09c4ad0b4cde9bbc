package retention

import (
	"maps"
	"slices"
	"time"

	"github.com/telcoretain/churn"
)

// state is the fold of the action log: the latest version of every action.
// The same rules decide whether a live request may write an event and
// whether a replayed event takes effect, so replaying the log after a
// restart rebuilds exactly the queue that was served.
//
// Actions are never changed in place (an event stores a new copy), so two
// states may share them: the queue's live state and the settled one it
// snapshots (snapshot.go).
type state struct {
	actions map[string]*churn.Action
	// archived holds the archived cycles (churn.ActionArchived), whose
	// closed actions leave actions; contacts holds what the contact rules
	// need of those: each customer's contact days in archived cycles
	// (days since 1970-01-01, ascending). A contacts slice is never
	// appended to in place, since clones share them.
	archived map[string]bool
	contacts map[string][]int32
	// cut is the last event id of the snapshot the state started from:
	// events up to it are folded in already.
	cut string
	// applied holds the ids of the events folded in after cut with the
	// time they stand for (0: an id without one), so that a Sync that reads
	// an event again skips it; prune forgets those too old to be read again.
	applied   map[string]int64
	pruneAt   int // prune when applied grows to this size
	latest    time.Time
	token     uint64 // highest fencing token seen
	processed int    // events read, whether or not they took effect
}

// minPrune is the size of applied below which it is not pruned.
const minPrune = 1 << 16

func newState() *state {
	return &state{actions: map[string]*churn.Action{}, archived: map[string]bool{}, contacts: map[string][]int32{},
		applied: map[string]int64{}, pruneAt: minPrune}
}

// clone returns a state with the same actions (shared) and no memory of
// events after cut beyond what s has.
func (s *state) clone() *state {
	c := *s
	// maps.Clone copies the map's tables as they are, where inserting every
	// entry again hashes and probes each: a copy of 3.3M actions took 5 s
	// by inserts and 0.2 s cloned (on a loaded machine), and a start from a
	// snapshot makes one.
	c.actions = maps.Clone(s.actions)
	c.applied = maps.Clone(s.applied)
	c.archived = maps.Clone(s.archived)
	c.contacts = maps.Clone(s.contacts)
	return &c
}

// prune forgets the applied ids older than twice the sync margin before the
// newest event: Sync reads back one margin only, and a full reload starts
// over, so no read can bring them again. It keeps a replay of millions of
// events from holding every id.
func (s *state) prune() {
	if len(s.applied) < s.pruneAt {
		return
	}
	horizon := s.latest.Add(-2 * syncMargin).UnixNano()
	for id, t := range s.applied {
		if t != 0 && t < horizon {
			delete(s.applied, id)
		}
	}
	s.pruneAt = max(minPrune, 2*len(s.applied))
}

// check says why event e cannot apply, nil when it can.
func (s *state) check(e *churn.ActionEvent) error {
	if e.Type == churn.ActionArchived {
		if _, err := CycleDate(e.Action.Cycle); err != nil {
			return err
		}
		if s.archived[e.Action.Cycle] {
			return churn.Errorf(churn.KindConflict, "", "cycle %s is archived already", e.Action.Cycle)
		}
		return nil
	}
	a := s.actions[e.Action.ID]
	switch e.Type {
	case churn.ActionQueued, churn.ActionControl:
		// An archived cycle's new actions are refused where requests come
		// in (Enqueue, Add, Plan), not here: a plan stamped before the
		// archive event may land after it, and the fold must give the
		// same state in either order (a control entry leaves at once, a
		// queued action when it closes).
		if a != nil {
			return churn.Errorf(churn.KindConflict, "", "action %s exists already", e.Action.ID)
		}
		return nil
	}
	if a == nil {
		return s.missing("", e.Action.ID)
	}
	expired := a.Status == churn.ActionClaimed && !a.LeaseUntil.After(e.At)
	switch e.Type {
	case churn.ActionClaimed:
		if a.Status == churn.ActionQueued || expired {
			return nil
		}
	case churn.ActionDone, churn.ActionFailed:
		// A claim whose lease passed can still be completed while nobody
		// else holds it: the agent did call, and losing that would be worse
		// than accepting a late answer.
		if a.Status == churn.ActionClaimed {
			return nil
		}
		if a.Status == churn.ActionQueued && a.Kind.Automated() {
			return nil // delivered or dead-lettered by the dispatcher, never claimed
		}
	case churn.ActionDeliveryFailed:
		if a.Status == churn.ActionQueued && a.Kind.Automated() {
			return nil
		}
	case churn.ActionAnswered:
		// once: the answer to a delivered message, not to another answer
		if a.Status == churn.ActionDone && a.Kind.Automated() && a.Outcome == OutcomeDelivered {
			return nil
		}
	case churn.ActionCancelled:
		if a.Status == churn.ActionQueued || a.Status == churn.ActionClaimed {
			return nil
		}
	default:
		return churn.Errorf(churn.KindInvalid, "", "unknown event %q", e.Type)
	}
	return churn.Errorf(churn.KindConflict, "", "action %s is %s%s; it cannot be %s", a.ID, a.Status, outcomeSuffix(a), e.Type)
}

// missing is the error for an action id the state does not hold.
func (s *state) missing(op, id string) error {
	if len(s.archived) > 0 {
		return churn.Errorf(churn.KindNotFound, op, "no action %s (the closed actions of archived cycles leave the queue: their results are in the cycles' outcomes)", id)
	}
	return churn.Errorf(churn.KindNotFound, op, "no action %s", id)
}

// open says why cycle takes no new actions, nil when it does.
func (s *state) open(cycle string) error {
	if s.archived[cycle] {
		return churn.Errorf(churn.KindConflict, "", "cycle %s is archived: it takes no new actions (plan a later scoring run)", cycle)
	}
	return nil
}

func outcomeSuffix(a *churn.Action) string {
	if a.Outcome != "" {
		return " (" + a.Outcome + ")"
	}
	return ""
}

// apply folds an event in; events already applied or that cannot apply are
// skipped, and apply reports whether it changed anything.
func (s *state) apply(e churn.ActionEvent) bool {
	if e.ID <= s.cut {
		return false
	}
	if _, seen := s.applied[e.ID]; seen {
		return false
	}
	t, hasTime := idTime(e.ID)
	s.applied[e.ID] = t.UnixNano()
	if !hasTime {
		s.applied[e.ID] = 0
	}
	s.processed++
	defer s.prune()
	if e.Token != 0 {
		// An owner that lost the queue may still land a write after its
		// successor's: fence it out, so every replay drops it alike.
		if e.Token < s.token {
			return false
		}
		s.token = e.Token
	}
	if hasTime {
		e.At = t
	}
	if e.At.After(s.latest) {
		s.latest = e.At
	}
	if s.check(&e) != nil {
		return false
	}
	if e.Type == churn.ActionArchived {
		s.archive(e.Action.Cycle)
		return true
	}
	a := e.Action
	if prev := s.actions[a.ID]; prev != nil {
		a.CreatedAt = prev.CreatedAt // rows of later events do not carry it
	} else {
		a.CreatedAt = e.At
	}
	// An event moves the action to the status it is named after.
	if slices.Contains(churn.ActionStatuses, e.Type) {
		a.Status = e.Type
	} else if prev := s.actions[a.ID]; prev != nil {
		a.Status = prev.Status // an event that is no status leaves it
	}
	s.actions[a.ID] = &a
	if s.archived[a.Cycle] && closed(a.Status) {
		s.evict(&a)
	}
	return true
}

// closed reports whether an action of status st is over: no event but an
// answer to a delivered message can follow.
func closed(st churn.ActionStatus) bool {
	switch st {
	case churn.ActionDone, churn.ActionFailed, churn.ActionCancelled, churn.ActionControl:
		return true
	}
	return false
}

// archive marks cycle archived and evicts its closed actions; its open
// ones leave when they close (apply).
func (s *state) archive(cycle string) {
	s.archived[cycle] = true
	for _, a := range s.actions {
		if a.Cycle == cycle && closed(a.Status) {
			s.evict(a) // deleting while ranging is safe in Go
		}
	}
}

// evict takes a closed action of an archived cycle out of memory, keeping
// its contact day when it reached the customer: the rule of
// contactsByCustomer for actions of other cycles.
func (s *state) evict(a *churn.Action) {
	delete(s.actions, a.ID)
	if !reachesCustomer(a) {
		return
	}
	d, err := CycleDate(a.Cycle)
	if err != nil {
		return // no contact day; the planner ignores such actions too
	}
	s.contacts[a.CustomerID] = withContact(s.contacts[a.CustomerID], int32(d.Unix()/86400))
}

// withContact returns days (ascending) with day added, in a new slice,
// without the days no contact rule can reach any more: those
// MaxContactDays or more before the newest.
func withContact(days []int32, day int32) []int32 {
	i, _ := slices.BinarySearch(days, day)
	all := slices.Concat(days[:i], []int32{day}, days[i:])
	from, _ := slices.BinarySearch(all, all[len(all)-1]-MaxContactDays+1)
	return slices.Clip(all[from:])
}

// effective is the status an action shows at now: a claim whose lease has
// passed is back in the queue.
func effective(a *churn.Action, now time.Time) churn.ActionStatus {
	if a.Status == churn.ActionClaimed && !a.LeaseUntil.After(now) {
		return churn.ActionQueued
	}
	return a.Status
}
