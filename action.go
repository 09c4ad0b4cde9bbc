package churn

import (
	"strings"
	"time"
)

// ActionKind is what a retention action does.
type ActionKind string

// Action kinds, strongest first. ActionNone matches customers on purpose and
// leaves them alone (low value, or a reason no action fixes).
const (
	ActionSpecialistCall ActionKind = "specialist_call"
	ActionOffer          ActionKind = "offer"
	ActionEmail          ActionKind = "email"
	ActionSMS            ActionKind = "sms"
	ActionNone           ActionKind = "none"
)

// ActionKinds lists the action kinds, strongest first.
var ActionKinds = []ActionKind{ActionSpecialistCall, ActionOffer, ActionEmail, ActionSMS, ActionNone}

// Automated reports whether actions of the kind are sent by the operator's
// campaign system (the dispatcher delivers them) rather than worked by
// agents, who cannot claim them.
func (k ActionKind) Automated() bool { return k == ActionEmail || k == ActionSMS }

// ActionStatus is the state of a retention action in the queue, and the type
// of the event of the action log that moved it there.
type ActionStatus string

// Action statuses, in the order an action usually passes through them. An
// action is born queued or control; claimed, done, failed and cancelled move
// it on. There is no status for an expired lease: a claim whose lease has
// passed is queued again by definition.
const (
	ActionQueued    ActionStatus = "queued"
	ActionClaimed   ActionStatus = "claimed"
	ActionDone      ActionStatus = "done"
	ActionFailed    ActionStatus = "failed"
	ActionCancelled ActionStatus = "cancelled"
	ActionControl   ActionStatus = "control" // held out on purpose: no contact
)

// ActionStatuses lists the statuses in the order of the constants.
var ActionStatuses = []ActionStatus{ActionQueued, ActionClaimed, ActionDone, ActionFailed, ActionCancelled, ActionControl}

// ActionDeliveryFailed is the type of an event that is no status: a
// delivery of an automated action failed and will be retried. It records
// the attempts so far and leaves the action queued; delivered and
// dead-lettered deliveries are done and failed events.
const ActionDeliveryFailed ActionStatus = "delivery_failed"

// ActionAnswered is the type of another event that is no status: the
// customer's answer to a delivered email or sms action (accepted or
// declined), as the campaign system reports it. The action stays done;
// the answer replaces the outcome "delivered".
const ActionAnswered ActionStatus = "answered"

// ActionArchived is the type of an event about a whole cycle rather than one
// action: the cycle is archived. Its closed actions (done, failed,
// cancelled, control) leave the queue's memory, now and when its open ones
// close later; what the contact rules need of them stays, as each
// customer's contact days, and the cycle takes no new actions. The events
// stay in the log and the cycle's results in its outcomes. The event's
// action carries the cycle only.
const ActionArchived ActionStatus = "archived"

// Action is a retention action for one customer: whom to contact, how, and
// why, with the targeting that chose it.
type Action struct {
	ID         string
	CustomerID string
	Cycle      string
	Kind       ActionKind
	Offer      string
	Channel    string
	Cost       float64
	Priority   int
	Value      float64 // expected value of acting
	Status     ActionStatus
	Agent      string
	LeaseUntil time.Time
	Outcome    string
	Note       string
	CreatedAt  time.Time
	Attempts   int // deliveries tried of an automated action, by the dispatcher

	RunID         string // scoring run the action was planned from; empty for manual actions
	Rule          string // policy rule that chose it; "manual" for actions added by hand
	Tier          ValueTier
	Band          RiskBand
	Reason        string // top churn reason category
	Probability   float64
	LifetimeValue float64
}

// ActionEvent is one row of the append-only action log. Every event carries
// the whole action as it is after the event, so a row can be read on its own.
type ActionEvent struct {
	ID     string       // time-ordered and unique: sorting by ID replays the log in order
	Type   ActionStatus // the status the event moves the action to
	At     time.Time
	Actor  string // who caused it: a job, an API key, an agent
	Action Action
	// Token is the fencing token of the queue owner that wrote the event
	// (its term); 0 for events written outside the queue's owner (plans
	// run from the CLI) and for events older than fencing.
	Token uint64
}

// Groups of a cycle's outcomes.
const (
	GroupTreated = "treated"
	GroupControl = "control"
)

// Outcome is one planned customer of a cycle, labelled once the horizon has
// passed: churned within [cycle, cycle+horizon) or retained.
type Outcome struct {
	Cycle         string
	CustomerID    string
	ActionID      string
	Group         string     // GroupTreated or GroupControl
	Kind          ActionKind // the action given, or that would have been given
	Tier          ValueTier
	Reason        string  // top churn reason category the plan saw
	Probability   float64 // churn probability the plan saw
	LifetimeValue float64
	Status        ActionStatus // the action's status when labelled
	Outcome       string       // the agent's outcome, if any
	Cost          float64      // spent: the cost of actions that were worked
	Churned       bool
	ChurnedAt     time.Time
	HorizonDays   int       // the horizon the label looked ahead, set when labelled
	LabeledAt     time.Time // when the label was stored
}

// Names joins the values of an enumeration with ", " for messages that list
// what is accepted.
func Names[T ~string](vs []T) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(v))
	}
	return b.String()
}

// OwnerClaim is one server's claim on the action queue: a heartbeat row of
// the queue owner table. A claim is live while its last beat is younger
// than the TTL.
type OwnerClaim struct {
	Owner     string // host:pid:random, unique per process
	Term      uint64 // fencing token: higher than every term and event token before it
	Addr      string // advertised HTTP address of the server
	StartedAt time.Time
	BeatAt    time.Time
	Seq       uint64 // orders one owner's beats: the latest has the highest
	Released  bool   // the owner gave the queue up (it stopped): dead at once
}
