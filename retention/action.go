package retention

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/telcoretain/churn"
)

// RuleManual marks actions added by hand rather than by a plan.
const RuleManual = "manual"

// Outcomes an agent reports when completing an action.
const (
	OutcomeAccepted    = "accepted"
	OutcomeDeclined    = "declined"
	OutcomeUnreachable = "unreachable"
)

// Outcomes lists the valid outcomes.
var Outcomes = []string{OutcomeAccepted, OutcomeDeclined, OutcomeUnreachable}

// ActionID is the deterministic id of the action of kind for a customer in
// a cycle, so planning a cycle twice finds the actions it already queued.
func ActionID(customerID, cycle, kind string) string {
	h := sha256.Sum256([]byte("action\x00" + customerID + "\x00" + cycle + "\x00" + kind))
	return "a" + hex.EncodeToString(h[:12])
}

// InControl tells whether a customer belongs to the control group of a
// cycle: a hash of customer and cycle below share. The same customer and
// cycle always give the same answer, and a customer is not held out in
// every cycle.
func InControl(customerID, cycle string, share float64) bool {
	h := sha256.Sum256([]byte("control\x00" + cycle + "\x00" + customerID))
	u := float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53) // uniform in [0, 1)
	return u < share
}

// CycleDate parses a cycle (YYYY-MM-DD).
func CycleDate(cycle string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, cycle)
	if err != nil {
		return time.Time{}, churn.Invalid("cycle", "cycle", "%q is not a date: want YYYY-MM-DD", cycle)
	}
	return d, nil
}

// Cycle names the cycle of a scoring run's as-of date.
func Cycle(asOf time.Time) string { return asOf.UTC().Format(time.DateOnly) }

// EventIDs makes time-ordered unique event ids: the clock's nanoseconds,
// bumped to stay strictly increasing, and a random suffix so that two
// processes never collide.
type EventIDs struct {
	mu     sync.Mutex
	now    func() time.Time
	last   int64
	suffix string
}

// NewEventIDs returns a generator on the clock now (nil: time.Now).
func NewEventIDs(now func() time.Time) *EventIDs {
	if now == nil {
		now = time.Now
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &EventIDs{now: now, suffix: hex.EncodeToString(b[:])}
}

// Next returns a new id and the time it stands for.
func (g *EventIDs) Next() (string, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.now().UnixNano()
	if n <= g.last {
		n = g.last + 1
	}
	g.last = n
	return fmt.Sprintf("e%019d-%s", n, g.suffix), time.Unix(0, n).UTC()
}

// idTime is the time an event id stands for; the log's DateTime column
// keeps whole seconds only, the id keeps nanoseconds.
func idTime(id string) (time.Time, bool) {
	// By hand rather than with fmt.Sscanf("e%019d"), which it matches (up
	// to 19 digits after the e): a replay parses every id.
	if len(id) < 2 || id[0] != 'e' {
		return time.Time{}, false
	}
	var n int64
	digits := 0
	for _, c := range []byte(id[1:min(len(id), 20)]) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	if digits == 0 || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n).UTC(), true
}

// Observe keeps later ids after id, so a restarted process whose clock is
// behind still appends after the log it replayed.
func (g *EventIDs) Observe(id string) {
	t, ok := idTime(id)
	if !ok {
		return
	}
	g.mu.Lock()
	if n := t.UnixNano(); n > g.last {
		g.last = n
	}
	g.mu.Unlock()
}
