package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/retention"
)

// dispatchConfig says where automated actions (email, sms) go; its
// settings are in config.settings.
type dispatchConfig struct {
	webhookURL  string
	secret      string
	csvDir      string
	maxAttempts int
	retryWait   time.Duration
	timeout     time.Duration
}

func (c dispatchConfig) configured() bool { return c.webhookURL != "" || c.csvDir != "" }

// dispatchSettings are the rows of config.settings for the dispatcher.
func dispatchSettings(c *dispatchConfig) []*setting {
	g := groupDispatch
	return []*setting{
		{Flag: "dispatch-webhook-url", Env: "CHURN_DISPATCH_WEBHOOK_URL", Scope: g, Unset: "none",
			Help: "URL of the campaign system's webhook that gets each email and sms action as a signed JSON POST", Kind: stringKind(&c.webhookURL)},
		{Flag: "dispatch-webhook-secret", Env: "CHURN_DISPATCH_WEBHOOK_SECRET", Secret: true, Scope: g,
			Help: "shared secret of the webhook's X-Churn-Signature header (sha256=HMAC-SHA256 of the body), at least 16 characters", Kind: stringKind(&c.secret)},
		{Flag: "dispatch-csv-dir", Env: "CHURN_DISPATCH_CSV_DIR", Scope: g, Unset: "none",
			Help: "directory of one CSV file per cycle and channel (actions-CYCLE-CHANNEL.csv) for the campaign system, instead of the webhook", Kind: stringKind(&c.csvDir)},
		{Flag: "dispatch-max-attempts", Env: "CHURN_DISPATCH_MAX_ATTEMPTS", Default: strconv.Itoa(retention.DefaultMaxAttempts), Scope: g,
			Help: "webhook attempts of an action, over all runs, before it is dead-lettered (recorded failed, never sent again)", Kind: intKind(&c.maxAttempts, 1, 100)},
		{Flag: "dispatch-retry-wait", Env: "CHURN_DISPATCH_RETRY_WAIT", Default: formatDuration(retention.DefaultDispatchBackoff), Scope: g,
			Help: "wait after an action's first failed attempt, doubling after each (at most 1m), with jitter", Kind: durationKind(&c.retryWait, time.Millisecond)},
		{Flag: "dispatch-timeout", Env: "CHURN_DISPATCH_TIMEOUT", Default: "10s", Scope: g,
			Help: "time one webhook attempt may take before it counts as failed", Kind: durationKind(&c.timeout, time.Millisecond)},
	}
}

// dispatchMetrics registers the dispatch metrics on reg; nil (no metrics)
// when reg is nil.
func dispatchMetrics(reg prometheus.Registerer) retention.DispatchObserver {
	if reg == nil {
		return nil
	}
	return jobs.NewDispatchMetrics(reg)
}

// newDispatcher returns the dispatcher of q's automated actions, nil when
// neither a webhook nor a CSV directory is configured.
func (a *app) newDispatcher(q retention.DeliveryQueue, obs retention.DispatchObserver) (*retention.Dispatcher, error) {
	c := a.cfg.Dispatch
	if !c.configured() {
		return nil, nil
	}
	if c.webhookURL != "" && c.csvDir != "" {
		return nil, usageError{churn.Invalid("dispatch actions", "dispatch-csv-dir", "set either --dispatch-webhook-url or --dispatch-csv-dir, not both")}
	}
	o := retention.DispatchOptions{MaxAttempts: c.maxAttempts, Backoff: c.retryWait, Actor: "job:dispatch",
		Log: a.log.With("job", "dispatch"), Observer: obs}
	if c.csvDir != "" {
		return retention.NewDispatcher(q, nil, retention.CSVFiles{Dir: c.csvDir}, o)
	}
	wh, err := retention.NewWebhook(c.webhookURL, c.secret, c.timeout, nil)
	if err != nil {
		return nil, usageError{err}
	}
	return retention.NewDispatcher(q, wh, nil, o)
}

// errOwnedElsewhere: a server owns the action queue, and its scheduler
// dispatches.
var errOwnedElsewhere = errors.New("a running server owns the action queue")

// dispatchAsOwner dispatches from a process that is no server (`churn
// actions dispatch`, `churn jobs`): it takes the action queue's ownership
// for the run, as a server would, so that no other process writes to the
// queue meanwhile, and releases it afterwards. When a server owns the
// queue, it leaves the dispatch to that server's scheduler.
func (a *app) dispatchAsOwner(ctx context.Context, st *clickhouse.Client, obs retention.DispatchObserver) (retention.DispatchReport, error) {
	var own queueOwner
	q := retention.NewQueue(st, retention.QueueOptions{Log: a.log, Snapshots: st, Fence: func() (uint64, error) { return own.Fence() }})
	d, err := a.newDispatcher(q, obs)
	if err != nil {
		return retention.DispatchReport{}, err
	}
	if d == nil {
		return retention.DispatchReport{}, usageError{churn.Invalid("dispatch actions", "dispatch-webhook-url",
			"nowhere to dispatch to: set --dispatch-webhook-url (with --dispatch-webhook-secret) or --dispatch-csv-dir")}
	}
	if err := q.Load(ctx); err != nil {
		return retention.DispatchReport{}, err
	}
	beat := max(a.cfg.OwnerTTL/3, time.Second)
	a.cfg.QueueOwner = true // --queue-owner is a server's setting: a dispatching process may always claim
	if own, err = a.queueOwner(st, retention.NewOwnerID(), "", beat, q); err != nil {
		return retention.DispatchReport{}, err
	}
	if err := own.Start(ctx); err != nil {
		return retention.DispatchReport{}, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := own.Release(rctx); err != nil {
			a.log.Warn("dispatch: could not release the action queue; a server takes over when the claim's TTL has passed", "err", err)
		}
	}()
	if _, err := own.Fence(); err != nil {
		return retention.DispatchReport{}, fmt.Errorf("%w: %v", errOwnedElsewhere, err)
	}
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { // keep the claim alive for a long run
		t := time.NewTicker(beat)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				_ = own.Check(hctx) // logged by the owner; Fence refuses writes once the claim is stale
			}
		}
	}()
	return d.Run(ctx)
}

// cliDispatchJob is the dispatch job of `churn jobs`: it does nothing while
// a server owns the queue (that server's scheduler dispatches).
func (a *app) cliDispatchJob(st *clickhouse.Client, reg prometheus.Registerer) jobs.Job {
	obs := dispatchMetrics(reg) // once: each run builds its own dispatcher
	return jobs.JobFunc(func(ctx context.Context) error {
		rep, err := a.dispatchAsOwner(ctx, st, obs)
		if errors.Is(err, errOwnedElsewhere) {
			a.log.Info("dispatch not run here: a server owns the action queue and dispatches on its schedule", "reason", err)
			return nil
		}
		jobs.AddRows(ctx, int64(rep.Delivered))
		return err
	})
}

func newActionsDispatchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dispatch",
		Short: "Deliver the queued email and sms actions to the campaign system (webhook or CSV files)",
		Long: `Email and sms actions are sent by the operator's campaign system, not worked by
agents. This delivers every queued one: to --dispatch-webhook-url as a JSON
POST signed with --dispatch-webhook-secret (header X-Churn-Signature:
sha256=HMAC-SHA256 of the body) and keyed by the action id (header
Idempotency-Key), retried with jittered exponential backoff and dead-lettered
after --dispatch-max-attempts; or into one CSV file per cycle and channel in
--dispatch-csv-dir. Each result (delivered, failed, dead_lettered, with the
attempt count) is recorded in the action log.

Delivery is at least once: a process that dies between a send and its record
sends again, with the same Idempotency-Key, so the receiver must drop repeats
of a key. An action recorded delivered is never sent again.

Only the queue's owner dispatches: this command takes the queue for its run
when no server owns it; otherwise the server's scheduler dispatches (job
"dispatch", after "actions"; POST /v1/jobs/dispatch/run starts it now).`,
		Example: `  churn actions dispatch --dispatch-csv-dir /var/spool/churn
  CHURN_DISPATCH_WEBHOOK_SECRET=... churn actions dispatch --dispatch-webhook-url https://campaigns.example/hooks/churn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(st *clickhouse.Client) error {
				rep, err := a.dispatchAsOwner(cmd.Context(), st, nil)
				if errors.Is(err, errOwnedElsewhere) {
					return churn.Errorf(churn.KindConflict, "dispatch actions", "%v", err)
				}
				fmt.Fprintf(a.stdout, "automated actions pending %d: delivered %d, failed %d (retried next run), dead-lettered %d, changed meanwhile %d; attempts %d\n",
					rep.Pending, rep.Delivered, rep.Failed, rep.DeadLettered, rep.Skipped, rep.Attempts)
				for _, f := range rep.Files {
					fmt.Fprintf(a.stdout, "wrote %s\n", f)
				}
				return err
			})
		},
	}
	a.cfg.bind(cmd.Flags(), groupDispatch)
	return cmd
}
