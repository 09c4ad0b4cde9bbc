package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/serve"
)

// defaultSchedules are the schedules of the jobs when configuration says
// nothing: score daily, actions and the drift check after each scoring run,
// the dispatch of automated actions (when configured) after actions,
// outcomes daily, train weekly (Sunday night), and the prune of old scores
// (when --scores-keep-months is set) daily before scoring. Times are in
// --timezone.
var defaultSchedules = []struct{ name, spec string }{
	{"train", "0 2 * * 0"},
	{"score", "0 5 * * *"},
	{"actions", "after score"},
	{"dispatch", "after actions"},
	{"outcomes", "0 6 * * *"},
	{"drift", "after score"},
	{"prune", "0 4 * * *"},
}

// defaultTimeouts bound each run; training is the long one.
var defaultTimeouts = map[string]time.Duration{"train": 4 * time.Hour, "score": 2 * time.Hour}

// jobsConfig is the scheduler's configuration, shared by `churn serve` and
// `churn jobs`; its settings are in config.settings.
type jobsConfig struct {
	schedules []string // NAME=SPEC
	timeouts  []string // NAME=DURATION
	timezone  string
	psi       float64
	aucFloor  float64
	attempts  int
	backoff   time.Duration
	// Runs of a failed scheduled run before the job's next slot.
	windowRetries int
	windowWait    time.Duration
	// Months of runs whose scores are kept; 0: all, and no prune job.
	keepMonths int
}

// jobSet is the registry of named jobs of this process. newJobSet adds
// train, score and drift; the retention wiring adds actions and outcomes
// with add, before the scheduler is built.
type jobSet struct {
	specs []jobs.Spec
	// off names the jobs this configuration leaves out, with what would
	// add them, for a request to run one (jobs.Options.LeftOut).
	off   map[string]string
	drift *jobs.Drift
	score *jobs.Scoring // its Finished hook tells a server of this process
}

// add registers a job; its schedule and timeout come from configuration.
func (s *jobSet) add(name string, j jobs.Job) {
	s.specs = append(s.specs, jobs.Spec{Name: name, Job: j})
}

// leaveOut records that this configuration leaves the job name out, and
// why: what it would need.
func (s *jobSet) leaveOut(name, why string) {
	if s.off == nil {
		s.off = map[string]string{}
	}
	s.off[name] = why
}

// dispatchOff is why a configuration without a dispatch target has no
// dispatch job.
const dispatchOff = "the dispatch job runs only with --dispatch-webhook-url (CHURN_DISPATCH_WEBHOOK_URL) or --dispatch-csv-dir (CHURN_DISPATCH_CSV_DIR), where the email and sms actions go"

// newJobSet registers the model jobs. Drift metrics go to reg when it is not
// nil.
func (a *app) newJobSet(st *clickhouse.Client, cfg jobsConfig, reg prometheus.Registerer) *jobSet {
	set := &jobSet{}
	set.add("train", jobs.TrainJob{Train: &jobs.Train{Data: st, Models: st, Registry: st, Runs: st, Log: a.log.With("job", "train"), Actor: "job:train",
		Inactivity: a.cfg.PrepaidInactivity, Operator: a.op}})
	set.score = &jobs.Scoring{Data: st, Models: st, Runs: st, Scores: st, Uplift: st, Log: a.log.With("job", "score"), Reconcile: a.reconcileScoreRuns(st),
		Inactivity: a.cfg.PrepaidInactivity, Operator: a.op}
	set.add("score", jobs.ScoreJob{Scoring: set.score})
	set.drift = &jobs.Drift{Data: st, Models: st, Runs: st, Checks: st, Log: a.log.With("job", "drift"), Threshold: cfg.psi, AUCFloor: cfg.aucFloor,
		Inactivity: a.cfg.PrepaidInactivity, Operator: a.op}
	if reg != nil {
		set.drift.Metrics = jobs.NewDriftMetrics(reg)
	}
	set.add("drift", set.drift)
	if cfg.keepMonths > 0 {
		set.add("prune", &jobs.PruneScores{Store: st, KeepMonths: cfg.keepMonths, Log: a.log.With("job", "prune")})
	} else {
		set.leaveOut("prune", "the prune job runs only with --scores-keep-months N (CHURN_SCORES_KEEP_MONTHS), the months of scores to keep")
	}
	return set
}

// newScheduler applies the configured schedules and timeouts to the jobs of
// set. Drift retraining starts the train job through the scheduler, so that
// it is recorded with trigger "drift" and never overlaps a running one.
func (a *app) newScheduler(st *clickhouse.Client, set *jobSet, cfg jobsConfig, reg prometheus.Registerer) (*jobs.Scheduler, error) {
	loc, err := time.LoadLocation(cfg.timezone)
	if err != nil {
		return nil, churn.Invalid("schedule jobs", "timezone", "%q: %v (want an IANA name such as Europe/Berlin)", cfg.timezone, err)
	}
	names := make([]string, len(set.specs))
	for i, sp := range set.specs {
		names[i] = sp.Name
	}
	sched := map[string]string{}
	for _, d := range defaultSchedules {
		sched[d.name] = d.spec
	}
	if err := parsePairs("schedule", cfg.schedules, names, func(name, v string) error { sched[name] = v; return nil }); err != nil {
		return nil, err
	}
	timeouts := map[string]time.Duration{}
	err = parsePairs("job-timeout", cfg.timeouts, names, func(name, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 90m", v)
		}
		timeouts[name] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The order of defaultSchedules is the listing order and the order of
	// jobs chained after the same one: actions before the drift check.
	specs := slices.Clone(set.specs)
	rank := func(name string) int {
		i := slices.IndexFunc(defaultSchedules, func(d struct{ name, spec string }) bool { return d.name == name })
		return cmpInt(i, len(defaultSchedules))
	}
	slices.SortStableFunc(specs, func(x, y jobs.Spec) int { return rank(x.Name) - rank(y.Name) })
	for i := range specs {
		sp := &specs[i]
		sp.Schedule = sched[sp.Name]
		if after, ok := strings.CutPrefix(sp.Schedule, "after "); ok && !slices.Contains(names, strings.TrimSpace(after)) {
			// A job whose predecessor is not in this process (actions
			// after score in a worker without scoring) runs by hand only.
			sp.Schedule = "manual"
		}
		sp.Timeout = cmpOr(timeouts[sp.Name], defaultTimeouts[sp.Name])
	}
	s, err := jobs.New(jobs.Options{Location: loc, Log: a.log, History: st, Registerer: reg, LeftOut: set.off,
		Backoff: &jobs.Backoff{Attempts: cfg.attempts, Initial: cfg.backoff, Max: 16 * cfg.backoff},
		Retry:   &jobs.WindowRetry{Attempts: cfg.windowRetries, Wait: cfg.windowWait}}, specs...)
	if err != nil {
		return nil, err
	}
	set.drift.Retrain = func(context.Context, string) error {
		_, err := s.Start("train", jobs.TriggerDrift)
		return err
	}
	return s, nil
}

// cmpInt returns i, or def when i is negative (not found).
func cmpInt(i, def int) int {
	if i < 0 {
		return def
	}
	return i
}

func cmpOr(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

// parsePairs reads NAME=VALUE items, checking NAME is a registered job.
func parsePairs(flag string, items, names []string, set func(name, v string) error) error {
	for _, it := range items {
		name, v, ok := strings.Cut(it, "=")
		name, v = strings.TrimSpace(name), strings.TrimSpace(v)
		if !ok || name == "" || v == "" {
			return churn.Invalid("schedule jobs", flag, "%q: want NAME=VALUE, e.g. score=0 5 * * *", it)
		}
		if !slices.Contains(names, name) {
			return churn.Invalid("schedule jobs", flag, "%q: no job named %q (jobs: %s)", it, name, strings.Join(names, ", "))
		}
		if err := set(name, v); err != nil {
			return churn.Invalid("schedule jobs", flag, "%s: %v", name, err)
		}
	}
	return nil
}

// schedulerAPI adapts the scheduler to serve.JobScheduler.
type schedulerAPI struct{ *jobs.Scheduler }

// Jobs lists the jobs as the API shows them.
func (s schedulerAPI) Jobs() []serve.JobInfo {
	st := s.Scheduler.Jobs()
	out := make([]serve.JobInfo, len(st))
	for i, j := range st {
		out[i] = serve.JobInfo(j)
	}
	return out
}

// runWithScheduler runs serve and, when sched is not nil, the scheduler
// beside it until ctx ends or either fails; the scheduler then cancels its
// running job and waits for it to stop at a safe point.
func runWithScheduler(ctx context.Context, sched *jobs.Scheduler, run func(ctx context.Context) error) error {
	if sched == nil {
		return run(ctx)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return run(gctx) })
	g.Go(func() error { return sched.Run(gctx) })
	return g.Wait()
}

// cliJobSet is the job set of `churn jobs`: the model jobs, and actions and
// outcomes on a queue read from the action log when they run. (In `churn
// serve` those two use the server's own queue, which owns the log.)
func (a *app) cliJobSet(st *clickhouse.Client, cfg jobsConfig, policyPath string, reg prometheus.Registerer) *jobSet {
	set := a.newJobSet(st, cfg, reg)
	build := func(ctx context.Context) (jobs.ActionsJob, jobs.OutcomesJob, error) {
		w, err := a.policyWatcher(policyPath, time.Minute)
		if err != nil {
			return jobs.ActionsJob{}, jobs.OutcomesJob{}, err
		}
		q, err := loadQueue(ctx, st)
		if err != nil {
			return jobs.ActionsJob{}, jobs.OutcomesJob{}, err
		}
		aj, oj := a.newActionJobs(st, q, w)
		return aj, oj, nil
	}
	set.add("actions", jobs.JobFunc(func(ctx context.Context) error {
		aj, _, err := build(ctx)
		if err != nil {
			return err
		}
		return aj.Run(ctx)
	}))
	set.add("outcomes", jobs.JobFunc(func(ctx context.Context) error {
		_, oj, err := build(ctx)
		if err != nil {
			return err
		}
		return oj.Run(ctx)
	}))
	if a.cfg.Dispatch.configured() {
		set.add("dispatch", a.cliDispatchJob(st, reg))
	} else {
		set.leaveOut("dispatch", dispatchOff)
	}
	return set
}
