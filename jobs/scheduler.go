package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/telcoretain/churn"
)

// Job is work the scheduler runs by name. The scheduler knows nothing of what
// it does: it runs it, bounds it with a timeout, retries it when ClickHouse
// is unavailable and records the outcome. A job honours ctx at safe points,
// where stopping leaves the previous outputs in force.
type Job interface {
	Run(ctx context.Context) error
}

// JobFunc adapts a function to Job.
type JobFunc func(ctx context.Context) error

// Run calls f.
func (f JobFunc) Run(ctx context.Context) error { return f(ctx) }

// Triggers: why a run started, as job_runs records it. A run chained after
// another (actions after score) inherits the trigger of the run before it.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerDrift    = "drift"
)

// DefaultTimeout bounds a run whose Spec sets none.
const DefaultTimeout = 2 * time.Hour

// Spec is a named job and when it runs.
type Spec struct {
	Name string
	Job  Job
	// Schedule is a cron expression in the scheduler's time zone ("0 5 * * *",
	// "@daily", "@every 6h"), "after NAME" to run after each successful run
	// of job NAME, or "" (or "manual") to run only when asked.
	Schedule string
	Timeout  time.Duration // 0: DefaultTimeout
}

// History is where runs are recorded: package clickhouse's job_runs table.
type History interface {
	RecordJobRun(ctx context.Context, r churn.JobRun) error
	// JobRuns returns the latest runs, newest first; of one job unless job
	// is empty.
	JobRuns(ctx context.Context, job string, limit int) ([]churn.JobRun, error)
}

// Options configure a Scheduler. Every field is optional.
type Options struct {
	Location *time.Location // time zone of the cron expressions; nil: UTC
	Log      *slog.Logger
	Now      func() time.Time
	History  History  // nil: runs are kept in memory only
	Backoff  *Backoff // nil: DefaultBackoff
	// Retry tries a failed scheduled run again before the job's next slot;
	// nil: DefaultWindowRetry. &WindowRetry{} switches it off.
	Retry      *WindowRetry
	Registerer prometheus.Registerer
	Rand       *rand.Rand // run id suffixes; nil: seeded from the clock
	// LeftOut names jobs this configuration leaves out, with what would
	// add them: asking for one of them is still not found, with that
	// reason instead of the list of jobs.
	LeftOut map[string]string
}

// Scheduler runs named jobs on cron schedules, after each other, and on
// demand. A job never runs twice at once: a run that comes due while the
// previous one is still going is skipped and recorded as skipped. Schedules
// are robfig/cron expressions; the timing loop is the scheduler's own so
// that tests can drive it with an injected clock (Tick).
type Scheduler struct {
	loc     *time.Location
	log     *slog.Logger
	now     func() time.Time
	backoff *Backoff
	retry   WindowRetry
	hist    *history
	metrics *schedMetrics
	leftOut map[string]string

	base   context.Context // parent of background runs; cancelled by Run's end
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	order   []*entry
	byName  map[string]*entry
	rand    *rand.Rand
	seq     uint64
	stopped bool
}

type entry struct {
	spec    Spec
	sched   cron.Schedule // nil when not on a clock
	after   string        // job this one follows, "" when none
	next    time.Time     // next due time, zero when not on a clock
	retryAt time.Time     // when a failed scheduled run is tried again; zero when not
	retries int           // retries used since the last slot
	running *churn.JobRun // guarded by Scheduler.mu
	last    *churn.JobRun
}

var jobNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// New checks the specs and returns a scheduler whose next run times count
// from now. It starts nothing: see Run, Start and RunNow.
func New(opts Options, specs ...Spec) (*Scheduler, error) {
	s := &Scheduler{loc: opts.Location, log: opts.Log, now: opts.Now, backoff: opts.Backoff, byName: map[string]*entry{}, rand: opts.Rand,
		leftOut: opts.LeftOut}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.backoff == nil {
		s.backoff = DefaultBackoff()
	}
	s.retry = DefaultWindowRetry()
	if opts.Retry != nil {
		s.retry = *opts.Retry
	}
	if s.rand == nil {
		s.rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	}
	s.hist = newHistory(opts.History, s.log)
	s.base, s.cancel = context.WithCancel(context.Background())
	for _, sp := range specs {
		if err := s.add(sp); err != nil {
			return nil, err
		}
	}
	for _, e := range s.order {
		if e.after != "" {
			if _, ok := s.byName[e.after]; !ok {
				return nil, churn.Invalid("schedule jobs", e.spec.Name, "runs after %q, which is not a registered job (%s)", e.after, strings.Join(s.Names(), ", "))
			}
			if cyc := s.cycle(e); cyc != "" {
				return nil, churn.Invalid("schedule jobs", e.spec.Name, "jobs run after each other in a circle: %s", cyc)
			}
		}
	}
	now := s.now().In(s.loc)
	for _, e := range s.order {
		if e.sched != nil {
			e.next = e.sched.Next(now)
		}
	}
	s.metrics = newSchedMetrics(opts.Registerer, s)
	return s, nil
}

func (s *Scheduler) add(sp Spec) error {
	const op = "schedule jobs"
	if !jobNameRE.MatchString(sp.Name) {
		return churn.Invalid(op, "name", "%q: want a lowercase name of letters, digits, - and _", sp.Name)
	}
	if _, dup := s.byName[sp.Name]; dup {
		return churn.Invalid(op, sp.Name, "registered twice")
	}
	if sp.Job == nil {
		return churn.Invalid(op, sp.Name, "has no job")
	}
	if sp.Timeout < 0 {
		return churn.Invalid(op, sp.Name, "timeout %s is negative", sp.Timeout)
	}
	if sp.Timeout == 0 {
		sp.Timeout = DefaultTimeout
	}
	e := &entry{spec: sp}
	spec := strings.TrimSpace(sp.Schedule)
	switch {
	case spec == "" || spec == "manual":
		e.spec.Schedule = "manual"
	case strings.HasPrefix(spec, "after "):
		e.after = strings.TrimSpace(strings.TrimPrefix(spec, "after "))
		e.spec.Schedule = "after " + e.after
	default:
		sched, err := ParseSchedule(spec)
		if err != nil {
			return churn.Invalid(op, sp.Name, "%v", err)
		}
		e.sched, e.spec.Schedule = sched, spec
	}
	s.order = append(s.order, e)
	s.byName[sp.Name] = e
	return nil
}

// ParseSchedule parses a cron expression: five fields (minute hour
// day-of-month month day-of-week) or a descriptor (@daily, @weekly,
// @every 6h).
func ParseSchedule(spec string) (cron.Schedule, error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		// The time zone is the scheduler's (and robfig/cron panics on a
		// TZ= prefix with nothing after it).
		return nil, fmt.Errorf("schedule %q: set the time zone for all jobs with --timezone, not in the expression", spec)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v (want five fields such as \"0 5 * * *\", a descriptor such as @daily, \"after JOB\" or \"manual\")", spec, err)
	}
	return sched, nil
}

// cycle returns the circle of "after" links through e, "" when there is none.
func (s *Scheduler) cycle(e *entry) string {
	path := []string{e.spec.Name}
	for cur := s.byName[e.after]; cur != nil; cur = s.byName[cur.after] {
		path = append(path, cur.spec.Name)
		if cur == e {
			return strings.Join(path, " after ")
		}
		if len(path) > len(s.order) {
			return ""
		}
	}
	return ""
}

// Names returns the registered jobs in registration order.
func (s *Scheduler) Names() []string {
	out := make([]string, len(s.order))
	for i, e := range s.order {
		out[i] = e.spec.Name
	}
	return out
}

// Location is the time zone of the schedules.
func (s *Scheduler) Location() *time.Location { return s.loc }

// Status is a job as listings show it.
type Status struct {
	Name     string
	Schedule string    // cron expression, "after JOB" or "manual"
	Next     time.Time // next scheduled run in the scheduler's zone; zero when not on a clock
	Timeout  time.Duration
	Running  *churn.JobRun // the run in progress, nil when idle
	Last     *churn.JobRun // the latest finished run this process knows of
}

// Jobs returns every job's schedule, next run and state, in registration
// order.
func (s *Scheduler) Jobs() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, len(s.order))
	for i, e := range s.order {
		next := e.next
		if !e.retryAt.IsZero() && e.retryAt.Before(next) {
			next = e.retryAt // a retry of a failed run comes first
		}
		out[i] = Status{Name: e.spec.Name, Schedule: e.spec.Schedule, Next: next, Timeout: e.spec.Timeout,
			Running: cloneRun(e.running), Last: cloneRun(e.last)}
	}
	return out
}

func cloneRun(r *churn.JobRun) *churn.JobRun {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

// Runs returns the latest runs, newest first, at most limit; of one job
// unless job is empty. Runs not yet written to the history (ClickHouse was
// down) are included. When the history cannot be read, the runs this
// process knows of are returned with the error.
func (s *Scheduler) Runs(ctx context.Context, job string, limit int) ([]churn.JobRun, error) {
	if job != "" {
		if _, ok := s.byName[job]; !ok {
			return nil, s.notFound(job)
		}
	}
	return s.hist.runs(ctx, job, limit)
}

func (s *Scheduler) notFound(name string) error {
	if why, ok := s.leftOut[name]; ok {
		return churn.Errorf(churn.KindNotFound, "run job", "%s", why)
	}
	return churn.Errorf(churn.KindNotFound, "run job", "no job named %q (jobs: %s)", name, strings.Join(s.Names(), ", "))
}

// Tick starts every job due at now and sets its next run from now, so a job
// that came due several times while the process slept runs once. It returns
// the jobs it started or found still running (skipped). Run calls it; tests
// call it with the times they choose.
func (s *Scheduler) Tick(now time.Time) []string {
	now = now.In(s.loc)
	s.mu.Lock()
	var due, retry []string
	for _, e := range s.order {
		switch {
		case e.sched != nil && !e.next.IsZero() && !now.Before(e.next):
			due = append(due, e.spec.Name)
			e.next = e.sched.Next(now)
			e.retryAt, e.retries = time.Time{}, 0 // a new slot, a new window
		case !e.retryAt.IsZero() && !now.Before(e.retryAt):
			retry = append(retry, e.spec.Name)
			e.retryAt = time.Time{}
		}
	}
	s.mu.Unlock()
	for _, name := range due {
		_, _ = s.Start(name, TriggerSchedule) // a skip is recorded by Start
	}
	for _, name := range retry {
		_, _ = s.Start(name, TriggerRetry)
	}
	return append(due, retry...)
}

// maxSleep caps the loop's sleep so that a wall clock that jumps (NTP, a
// suspended VM) delays a due job by a minute at most.
const maxSleep = time.Minute

// Run drives the schedules until ctx ends. Then it cancels the runs in
// progress, which stop at their next safe point (a scoring run is marked
// failed and the previous run stays served; a training run promotes
// nothing), waits for them, and writes what history it still can.
func (s *Scheduler) Run(ctx context.Context) error {
	s.loadLast(ctx)
	for _, st := range s.Jobs() {
		if !st.Next.IsZero() {
			s.log.Info("job scheduled", "job", st.Name, "schedule", st.Schedule, "next", st.Next.Format(time.RFC3339))
		}
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case <-t.C:
		}
		s.Tick(s.now())
		fctx, cancel := context.WithTimeout(ctx, recordTimeout)
		_ = s.hist.flush(fctx)
		cancel()
		t.Reset(s.sleep())
	}
}

// sleep is the time until the earliest next run, at most maxSleep.
func (s *Scheduler) sleep() time.Duration {
	now := s.now()
	d := maxSleep
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.order {
		for _, at := range []time.Time{e.next, e.retryAt} {
			if !at.IsZero() {
				d = min(d, max(at.Sub(now), 10*time.Millisecond))
			}
		}
	}
	return d
}

func (s *Scheduler) shutdown() {
	s.mu.Lock()
	s.stopped = true
	var running []string
	for _, e := range s.order {
		if e.running != nil {
			running = append(running, e.spec.Name)
		}
	}
	s.mu.Unlock()
	if len(running) > 0 {
		s.log.Info("scheduler stopping: cancelling running jobs and waiting for them", "jobs", strings.Join(running, ","))
	}
	s.cancel()
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := s.hist.flush(ctx); err != nil {
		s.log.Warn("scheduler stopped with job runs not written to the history", "pending", s.hist.pendingLen(), "err", err)
	}
}

// loadLast fills each job's last run from the history, best effort.
func (s *Scheduler) loadLast(ctx context.Context) {
	if s.hist.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	for _, e := range s.order {
		runs, err := s.hist.store.JobRuns(ctx, e.spec.Name, 1)
		if err != nil {
			s.log.Warn("read job history", "err", err)
			return
		}
		s.mu.Lock()
		if len(runs) == 1 && e.last == nil && runs[0].Status != churn.JobRunning {
			e.last = &runs[0]
		}
		s.mu.Unlock()
	}
}

// Wait blocks until every run started in the background (Start, Tick, a
// drift retraining) has finished.
func (s *Scheduler) Wait() { s.wg.Wait() }
