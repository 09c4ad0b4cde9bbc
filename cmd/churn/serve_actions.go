package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/serve"
	"github.com/telcoretain/churn/zookeeper"
)

// addActionDeps gives the server the retention action queue, rebuilt from
// the action log (now, or on the first poll when ClickHouse is down), its
// ownership, the labelled outcomes lift reads and the policy, reread on
// every poll. Every server keeps the queue for reads; only the owner writes.
func (a *app) addActionDeps(ctx context.Context, st *clickhouse.Client, policyPath string, every time.Duration, addr string,
	deps *serve.Deps) (*retention.Queue, *retention.Watcher, queueOwner, error) {
	w, err := a.policyWatcher(policyPath, every)
	if err != nil {
		return nil, nil, nil, err
	}
	var own queueOwner
	id := retention.NewOwnerID()
	q := retention.NewQueue(st, retention.QueueOptions{Lease: w.Lease, Log: a.log,
		Fence:     func() (uint64, error) { return own.Fence() },
		Snapshots: st, WriteSnapshots: a.cfg.QueueOwner && a.cfg.SnapshotEvery > 0, Writer: id})
	start := time.Now()
	if err := q.Load(ctx); err != nil {
		a.log.Warn("action queue: cannot read the action log yet; retrying on every poll", "err", err)
	} else {
		a.log.Info("action queue rebuilt from the action log", "actions", statusCounts(q.Counts()), "policy", w.Status().Path,
			"took", time.Since(start).Round(time.Millisecond))
	}
	own, err = a.queueOwner(st, id, addr, every, q)
	if err != nil {
		return nil, nil, nil, err
	}
	if !a.cfg.QueueOwner {
		a.log.Info("never the action queue owner (--queue-owner=false): action writes answer 503 here")
	}
	if err := own.Start(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("action queue: cannot check the queue's owner yet; retrying on every poll", "err", err)
	}
	deps.Actions, deps.Outcomes, deps.Policy, deps.Owner = q, st, w, own
	return q, w, own, nil
}

// queueOwner decides whether this server owns the action queue: heartbeats
// in ClickHouse (*retention.Ownership) or a ZooKeeper lease
// (*zookeeper.Lease).
type queueOwner interface {
	serve.QueueOwnership
	Start(ctx context.Context) error
	Fence() (uint64, error)
	Release(ctx context.Context) error
}

// queueOwner returns the lease of --zookeeper when set, else the heartbeats.
func (a *app) queueOwner(st *clickhouse.Client, id, addr string, every time.Duration, q *retention.Queue) (queueOwner, error) {
	if a.cfg.ZooKeeper != "" {
		l, err := zookeeper.Open(zookeeper.Options{Servers: strings.Split(a.cfg.ZooKeeper, ","),
			Path: "/churn/" + st.Database() + "/queue-owner", ID: id, Addr: addr, SessionTimeout: a.cfg.ZKSession,
			Claim: a.cfg.QueueOwner, Log: a.log, Gain: q.CatchUp})
		if err != nil {
			return nil, usageError{fmt.Errorf("--zookeeper %s: %w", a.cfg.ZooKeeper, err)}
		}
		return l, nil
	}
	own, err := retention.NewOwnership(st, retention.OwnershipOptions{ID: id, Addr: addr, TTL: a.cfg.OwnerTTL,
		Settle: min(a.cfg.OwnerTTL/3, every, 2*time.Second), Claim: a.cfg.QueueOwner, Log: a.log, Floor: q.MaxToken, Gain: q.CatchUp,
		Gone: func(owner string) bool { return ownerExited(owner, id) }})
	if err != nil {
		return nil, usageError{err}
	}
	return own, nil
}

// advertised is the address other servers name for this one: the setting,
// else the listener's.
func advertised(setting string, ln net.Listener) string {
	if setting != "" {
		return setting
	}
	return ln.Addr().String()
}

// ownerOnly runs a job that writes to the action queue only on the server
// that owns it; on the others a run does nothing, since the owner's
// scheduler runs the same job.
type ownerOnly struct {
	job jobs.Job
	own queueOwner
	log *slog.Logger
}

// Run runs the job when this server owns the queue.
func (o ownerOnly) Run(ctx context.Context) error {
	if _, err := o.own.Fence(); err != nil {
		o.log.Info("job not run here: this server does not own the action queue", "reason", err)
		return nil
	}
	return o.job.Run(ctx)
}

// addDispatchJob registers the dispatch of automated actions on a server,
// when configured: through the server's own queue, on the owner only.
func (a *app) addDispatchJob(set *jobSet, q *retention.Queue, own queueOwner, reg prometheus.Registerer) error {
	d, err := a.newDispatcher(q, dispatchMetrics(reg))
	if err != nil {
		return err
	}
	if d == nil {
		set.leaveOut("dispatch", dispatchOff)
		return nil
	}
	set.add("dispatch", ownerOnly{jobs.DispatchJob{Dispatcher: d}, own, a.log})
	return nil
}

// newActionJobs are the actions and outcomes jobs of a server: they plan
// into and label from the server's own queue, so the one owner of the queue
// writes every event.
func (a *app) newActionJobs(st *clickhouse.Client, q *retention.Queue, w *retention.Watcher) (jobs.ActionsJob, jobs.OutcomesJob) {
	return jobs.ActionsJob{Actions: &jobs.Actions{Runs: st, Queue: q, Policy: w.Policy, Log: a.log, Outcomes: st, Rand: retention.PlanRand, Uplift: a.upliftScorer(st)}},
		jobs.OutcomesJob{Outcomes: &jobs.Outcomes{Churn: st, Labels: st, Actions: q, Archive: q, Policy: w.Policy, Log: a.log}}
}

// upliftScorer estimates uplift for policies that target by it.
func (a *app) upliftScorer(st *clickhouse.Client) *jobs.UpliftScorer {
	return &jobs.UpliftScorer{Models: st, Data: st, Operator: a.op, Inactivity: a.cfg.PrepaidInactivity}
}

// queueSnapshots stores a snapshot of the action queue every
// --queue-snapshot-interval while this server owns the queue, so that a
// server starting later reads it and only the events after it.
func (a *app) queueSnapshots(ctx context.Context, q *retention.Queue, own queueOwner) error {
	if !a.cfg.QueueOwner || a.cfg.SnapshotEvery <= 0 {
		return nil
	}
	t := time.NewTicker(a.cfg.SnapshotEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			a.snapshotQueue(ctx, q, own)
		}
	}
}

// snapshotQueue stores one snapshot when this server owns the queue; a
// failure is logged, and the next one tries again.
func (a *app) snapshotQueue(ctx context.Context, q *retention.Queue, own queueOwner) {
	if !a.cfg.QueueOwner || a.cfg.SnapshotEvery <= 0 {
		return
	}
	if _, err := own.Fence(); err != nil {
		return
	}
	start := time.Now()
	h, wrote, err := q.WriteSnapshot(ctx)
	switch {
	case err != nil:
		a.log.Warn("action queue: snapshot failed; the next one retries", "err", err)
	case wrote:
		a.log.Info("action queue: snapshot stored", "snapshot", h.ID, "cut", h.Cut, "actions", h.Actions,
			"took", time.Since(start).Round(time.Millisecond))
	}
}
