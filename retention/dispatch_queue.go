package retention

import (
	"context"
	"slices"

	"github.com/telcoretain/churn"
)

// Outcomes of a delivery of an automated action, as the action log keeps
// them: a delivered action is done, a dead-lettered one failed; a failed
// attempt that will be retried is a delivery_failed event.
const (
	OutcomeDelivered    = "delivered"
	OutcomeDeadLettered = "dead_lettered"
)

// DeliveryResult is what became of one automated action in a dispatch run.
type DeliveryResult string

// Delivery results.
const (
	Delivered      DeliveryResult = "delivered"     // the receiver took it: done
	DeliveryFailed DeliveryResult = "failed"        // not yet: queued for the next run
	DeadLettered   DeliveryResult = "dead_lettered" // given up after the last attempt: failed
)

// Delivery is the result of dispatching one action, to be recorded.
type Delivery struct {
	ActionID string
	Result   DeliveryResult
	Attempts int    // attempts in all, over every run
	Detail   string // the receiver's answer or the file written, for people
}

// Pending returns the automated actions waiting for delivery (queued email
// and sms actions), most urgent first, or why this process may not
// dispatch: only the queue's owner does, so that two processes never send
// the same cycle at once.
func (q *Queue) Pending(ctx context.Context) ([]churn.Action, error) {
	if err := q.begin(ctx); err != nil {
		return nil, err
	}
	var out []*churn.Action
	for _, a := range q.st.actions {
		if a.Kind.Automated() && a.Status == churn.ActionQueued {
			out = append(out, a)
		}
	}
	q.mu.Unlock()
	slices.SortFunc(out, workOrder)
	as := make([]churn.Action, len(out))
	for i, a := range out {
		as[i] = *a
	}
	return as, nil
}

// RecordDeliveries appends one event per delivery in one write: done for a
// delivered action, failed for a dead-lettered one, delivery_failed for one
// that will be retried, each with its attempt count. Deliveries of actions
// that changed meanwhile (cancelled by an admin) are skipped and counted.
func (q *Queue) RecordDeliveries(ctx context.Context, actor string, ds []Delivery) (skipped int, err error) {
	if len(ds) == 0 {
		return 0, nil
	}
	if err := q.begin(ctx); err != nil {
		return 0, err
	}
	defer q.mu.Unlock()
	evs := make([]churn.ActionEvent, 0, len(ds))
	for _, d := range ds {
		cur := q.st.actions[d.ActionID]
		if cur == nil {
			skipped++
			continue
		}
		a := *cur
		a.Attempts, a.Note = d.Attempts, d.Detail
		t := churn.ActionDeliveryFailed
		switch d.Result {
		case Delivered:
			t, a.Outcome = churn.ActionDone, OutcomeDelivered
		case DeadLettered:
			t, a.Outcome = churn.ActionFailed, OutcomeDeadLettered
		}
		e := q.event(t, actor, a)
		if q.st.check(&e) != nil {
			skipped++
			continue
		}
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		return skipped, nil
	}
	return skipped, q.commit(ctx, evs)
}
