package retention

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/ctxwait"
)

// DeliveryQueue is the part of the action queue the dispatcher works
// (*Queue): the automated actions waiting, and where results go.
type DeliveryQueue interface {
	Pending(ctx context.Context) ([]churn.Action, error)
	RecordDeliveries(ctx context.Context, actor string, ds []Delivery) (skipped int, err error)
}

// Sender makes one attempt at delivering an action (a webhook call).
// Attempts of one action carry the same idempotency key, the action id, so
// a receiver that got an earlier attempt (whose answer was lost, or whose
// result this process did not record before it died) drops the repeat.
type Sender interface {
	Send(ctx context.Context, a churn.Action, attempt int) error
}

// FileSink hands the actions of one cycle and channel over as a file.
type FileSink interface {
	WriteFile(ctx context.Context, cycle, channel string, as []churn.Action) (path string, err error)
}

// SendError is a failed attempt and what to do about it.
type SendError struct {
	Status    int  // the receiver's HTTP status; 0 when there was no answer
	Retryable bool // another attempt may succeed (5xx, 408, 429, timeouts, refused connections)
	// Halt: every other action would fail the same way (the receiver
	// refuses the signature), so the run stops without dead-lettering.
	Halt bool
	Err  error
}

func (e *SendError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("receiver answered %d: %v", e.Status, e.Err)
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// DispatchObserver hears of every attempt and every result (the metrics).
type DispatchObserver interface {
	Attempt(channel string, took time.Duration, err error)
	Result(channel string, r DeliveryResult, attempts int)
}

// Defaults of the dispatcher.
const (
	DefaultMaxAttempts     = 5
	DefaultDispatchBackoff = 2 * time.Second
	DefaultDispatchMaxWait = time.Minute
	defaultDeliveryBatch   = 200
	maxDetailLen           = 500
)

// DispatchOptions tune a Dispatcher; zero values take the defaults.
type DispatchOptions struct {
	MaxAttempts int           // attempts of an action, over all runs, before it is dead-lettered
	Backoff     time.Duration // wait before the second attempt, doubling after each failure
	MaxWait     time.Duration // cap of one wait
	Batch       int           // results per write to the action log
	Actor       string        // recorded on the events; "dispatcher"
	Observer    DispatchObserver
	Log         *slog.Logger
	Now         func() time.Time                                 // times attempts
	Sleep       func(ctx context.Context, d time.Duration) error // waits between attempts
	Rand        func() float64                                   // draws the jitter, in [0, 1)
}

// Dispatcher delivers the queue's automated actions (email, sms) to the
// operator's campaign system, through a webhook (Sender) or as one CSV file
// per cycle and channel (FileSink), and records each result in the action
// log. Delivery is at least once: a result is recorded after the send, so a
// process that dies between the two sends again after a restart, with the
// same idempotency key; an action recorded delivered is never sent again.
type Dispatcher struct {
	queue DeliveryQueue
	send  Sender
	files FileSink
	o     DispatchOptions
}

// NewDispatcher returns a dispatcher of q's actions through exactly one of
// send and files.
func NewDispatcher(q DeliveryQueue, send Sender, files FileSink, o DispatchOptions) (*Dispatcher, error) {
	if (send == nil) == (files == nil) {
		return nil, churn.Invalid("dispatch actions", "dispatch", "want exactly one of a webhook and a CSV directory")
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	o.Backoff = cmp.Or(o.Backoff, DefaultDispatchBackoff)
	o.MaxWait = max(cmp.Or(o.MaxWait, DefaultDispatchMaxWait), o.Backoff)
	o.Batch = cmp.Or(o.Batch, defaultDeliveryBatch)
	o.Actor = cmp.Or(o.Actor, "dispatcher")
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = ctxwait.Sleep
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	return &Dispatcher{queue: q, send: send, files: files, o: o}, nil
}

type noObserver struct{}

func (noObserver) Attempt(string, time.Duration, error) {}
func (noObserver) Result(string, DeliveryResult, int)   {}

// DispatchReport counts what a run did.
type DispatchReport struct {
	Pending      int // automated actions waiting when the run started
	Delivered    int
	Failed       int // not delivered yet: tried again by the next run
	DeadLettered int
	Skipped      int // changed meanwhile (cancelled): result not recorded
	Attempts     int
	Files        []string // written, in CSV mode
}

// Run delivers every waiting automated action once and records the
// results. It stops early, recording what it did, when ctx ends or the
// receiver refuses the signature; the actions not reached stay queued.
func (d *Dispatcher) Run(ctx context.Context) (DispatchReport, error) {
	pending, err := d.queue.Pending(ctx)
	if err != nil {
		return DispatchReport{}, err
	}
	rec := &recorder{d: d, rep: DispatchReport{Pending: len(pending)}}
	if d.files != nil {
		err = d.writeFiles(ctx, pending, rec)
	} else {
		err = d.sendAll(ctx, pending, rec)
	}
	// Record what was sent even when the run was cancelled: an unrecorded
	// delivery is sent again.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if ferr := rec.flush(fctx); ferr != nil {
		err = errors.Join(err, ferr)
	}
	r := rec.rep
	d.o.Log.Info("dispatch: automated actions", "pending", r.Pending, "delivered", r.Delivered, "failed", r.Failed,
		"dead_lettered", r.DeadLettered, "skipped", r.Skipped, "attempts", r.Attempts, "err", err)
	return r, err
}

func (d *Dispatcher) sendAll(ctx context.Context, pending []churn.Action, rec *recorder) error {
	for _, a := range pending {
		if err := ctx.Err(); err != nil {
			return err
		}
		del, stop := d.deliver(ctx, a, &rec.rep)
		if err := rec.add(ctx, channelOf(a), del); err != nil {
			return err
		}
		if stop != nil {
			return stop
		}
	}
	return nil
}

// deliver tries one action until it is delivered, dead-lettered, or the run
// must stop (stop != nil).
func (d *Dispatcher) deliver(ctx context.Context, a churn.Action, rep *DispatchReport) (del Delivery, stop error) {
	del = Delivery{ActionID: a.ID, Attempts: a.Attempts}
	ch := channelOf(a)
	for {
		del.Attempts++
		rep.Attempts++
		start := d.o.Now()
		err := d.send.Send(ctx, a, del.Attempts)
		d.o.Observer.Attempt(ch, d.o.Now().Sub(start), err)
		if err == nil {
			del.Result, del.Detail = Delivered, "delivered by webhook"
			return del, nil
		}
		del.Result, del.Detail = DeliveryFailed, clip(err.Error())
		se := &SendError{Retryable: true, Err: err}
		errors.As(err, &se)
		switch {
		case se.Halt:
			return del, fmt.Errorf("dispatch action %s: %w", a.ID, err)
		case ctx.Err() != nil:
			return del, ctx.Err()
		case !se.Retryable || del.Attempts >= d.o.MaxAttempts:
			del.Result = DeadLettered
			d.o.Log.Warn("dispatch: action dead-lettered", "action", a.ID, "attempts", del.Attempts, "err", err)
			return del, nil
		}
		if err := d.o.Sleep(ctx, d.wait(del.Attempts)); err != nil {
			return del, err
		}
	}
}

// wait is the pause after failed attempt n: Backoff doubled n-1 times up
// to MaxWait, drawn from its upper half so that retries of many actions do
// not hit a recovering receiver in step.
func (d *Dispatcher) wait(n int) time.Duration {
	w := d.o.Backoff
	for i := 1; i < n && w < d.o.MaxWait; i++ {
		w *= 2
	}
	w = min(w, d.o.MaxWait)
	return w/2 + time.Duration(d.o.Rand()*float64(w/2))
}

// writeFiles writes one file per cycle and channel; a file written counts
// as delivered for each of its actions.
func (d *Dispatcher) writeFiles(ctx context.Context, pending []churn.Action, rec *recorder) error {
	type key struct{ cycle, channel string }
	groups := map[key][]churn.Action{}
	var keys []key
	for _, a := range pending {
		k := key{a.Cycle, channelOf(a)}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], a)
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Or(cmp.Compare(x.cycle, y.cycle), cmp.Compare(x.channel, y.channel)) })
	for _, k := range keys {
		start := d.o.Now()
		path, err := d.files.WriteFile(ctx, k.cycle, k.channel, groups[k])
		d.o.Observer.Attempt(k.channel, d.o.Now().Sub(start), err)
		if err != nil {
			return fmt.Errorf("dispatch cycle %s channel %s: %w", k.cycle, k.channel, err)
		}
		rec.rep.Files = append(rec.rep.Files, path)
		for _, a := range groups[k] {
			rec.rep.Attempts++
			if err := rec.add(ctx, k.channel, Delivery{ActionID: a.ID, Result: Delivered, Attempts: a.Attempts + 1, Detail: "delivered in " + path}); err != nil {
				return err
			}
		}
	}
	return nil
}

func channelOf(a churn.Action) string { return cmp.Or(a.Channel, string(a.Kind)) }

func clip(s string) string {
	if len(s) > maxDetailLen {
		return s[:maxDetailLen]
	}
	return s
}

// recorder writes results in batches: one write per result would make a
// part per row in ClickHouse.
type recorder struct {
	d        *Dispatcher
	rep      DispatchReport
	buf      []Delivery
	channels []string
}

func (r *recorder) add(ctx context.Context, channel string, del Delivery) error {
	r.buf = append(r.buf, del)
	r.channels = append(r.channels, channel)
	if len(r.buf) < r.d.o.Batch {
		return nil
	}
	return r.flush(ctx)
}

func (r *recorder) flush(ctx context.Context) error {
	if len(r.buf) == 0 {
		return nil
	}
	skipped, err := r.d.queue.RecordDeliveries(ctx, r.d.o.Actor, r.buf)
	if err != nil {
		return fmt.Errorf("record %d deliveries: %w", len(r.buf), err)
	}
	r.rep.Skipped += skipped
	for i, del := range r.buf {
		switch del.Result {
		case Delivered:
			r.rep.Delivered++
		case DeadLettered:
			r.rep.DeadLettered++
		default:
			r.rep.Failed++
		}
		r.d.o.Observer.Result(r.channels[i], del.Result, del.Attempts)
	}
	r.buf, r.channels = r.buf[:0], r.channels[:0]
	return nil
}
