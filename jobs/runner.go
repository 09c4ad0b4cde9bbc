package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/telcoretain/churn"
)

// Start begins a run of the named job in the background and returns it as
// recorded at its start. When the job is still running from before, the new
// run is recorded as skipped and a KindConflict error is returned; an unknown
// name is KindNotFound. The run is cancelled when Run's context ends.
func (s *Scheduler) Start(name, trigger string) (churn.JobRun, error) {
	e, run, err := s.begin(name, trigger)
	if err != nil {
		return run, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runChain(s.base, e, run)
	}()
	return run, nil
}

// RunNow runs the named job in the caller's goroutine, then the jobs that
// run after it, and returns every run, the asked one first. The error is the
// asked job's; the chained runs' errors are in their records.
func (s *Scheduler) RunNow(ctx context.Context, name, trigger string) ([]churn.JobRun, error) {
	e, run, err := s.begin(name, trigger)
	if err != nil {
		return []churn.JobRun{run}, err
	}
	return s.runChain(ctx, e, run)
}

// begin marks a job running, or records a skip when it already is.
func (s *Scheduler) begin(name, trigger string) (*entry, churn.JobRun, error) {
	e, ok := s.byName[name]
	if !ok {
		return nil, churn.JobRun{Job: name, Trigger: trigger}, s.notFound(name)
	}
	s.mu.Lock()
	now := s.now().UTC()
	s.seq++
	run := churn.JobRun{ID: fmt.Sprintf("%s-%s-%d%04x", name, now.Format("20060102T150405.000"), s.seq, s.rand.IntN(1<<16)),
		Job: name, Trigger: trigger, Started: now}
	if s.stopped {
		s.mu.Unlock()
		return nil, run, churn.Errorf(churn.KindUnavailable, "run job "+name, "the scheduler is shutting down")
	}
	if cur := e.running; cur != nil {
		s.mu.Unlock()
		run.Status, run.Finished = churn.JobSkipped, now
		run.Error = fmt.Sprintf("run %s (%s) started %s is still going", cur.ID, cur.Trigger, cur.Started.Format(time.RFC3339))
		s.log.Warn("job skipped: still running", "job", name, "trigger", trigger, "running", cur.ID)
		s.metrics.finished(run, 0)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.record(s.base, run)
		}()
		return nil, run, churn.Errorf(churn.KindConflict, "run job "+name, "%s", run.Error)
	}
	run.Status = churn.JobRunning
	e.running = &run
	s.mu.Unlock()
	return e, run, nil
}

// runChain executes a run, then, when it succeeded, the jobs that run after
// it.
func (s *Scheduler) runChain(ctx context.Context, e *entry, run churn.JobRun) ([]churn.JobRun, error) {
	done, err := s.execute(ctx, e, run)
	out := []churn.JobRun{done}
	if err != nil {
		return out, err
	}
	for _, next := range s.order {
		if next.after != e.spec.Name {
			continue
		}
		ne, nrun, berr := s.begin(next.spec.Name, run.Trigger)
		if berr != nil {
			out = append(out, nrun)
			continue
		}
		more, _ := s.runChain(ctx, ne, nrun)
		out = append(out, more...)
	}
	return out, nil
}

// recordTimeout bounds each write of a run's status, so that a ClickHouse
// that hangs cannot hold a run open; unwritten rows wait in memory.
const recordTimeout = 10 * time.Second

func (s *Scheduler) record(ctx context.Context, run churn.JobRun) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	s.hist.record(rctx, run)
}

// execute runs one job with its timeout and retries and records the result.
func (s *Scheduler) execute(ctx context.Context, e *entry, run churn.JobRun) (churn.JobRun, error) {
	name := e.spec.Name
	log := s.log.With("job", name, "run", run.ID, "trigger", run.Trigger)
	log.Info("job started")
	s.record(ctx, run)

	rows := &rowCounter{}
	rctx, cancel := context.WithTimeout(context.WithValue(ctx, rowsKey{}, rows), e.spec.Timeout)
	err := s.backoff.Do(rctx, log, "job "+name, func(ctx context.Context) error {
		rows.n.Store(0) // only the attempt that succeeds counts
		return call(ctx, e.spec.Job, log)
	})
	timedOut := errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()

	run.Finished, run.Rows = s.now().UTC(), rows.n.Load()
	switch {
	case err == nil:
		run.Status = churn.JobSucceeded
	case timedOut:
		run.Status, run.Error = churn.JobFailed, fmt.Sprintf("timed out after %s: %v", e.spec.Timeout, err)
		err = fmt.Errorf("job %s timed out after %s: %w", name, e.spec.Timeout, err)
	case ctx.Err() != nil:
		run.Status, run.Error = churn.JobCancelled, fmt.Sprintf("cancelled: %v", err)
	default:
		run.Status, run.Error = churn.JobFailed, err.Error()
	}
	took := run.Finished.Sub(run.Started)
	if err != nil {
		log.Error("job "+string(run.Status), "took", took.Round(time.Millisecond).String(), "err", run.Error)
	} else {
		log.Info("job succeeded", "took", took.Round(time.Millisecond).String(), "rows", run.Rows)
	}
	s.mu.Lock()
	e.running, e.last = nil, &run
	s.planRetry(e, run)
	s.mu.Unlock()
	s.metrics.finished(run, took)
	s.record(ctx, run)
	return run, err
}

// call runs a job and turns a panic into an error, so that one bad job
// neither kills the process nor stays "running" forever.
func call(ctx context.Context, j Job, log interface {
	Error(msg string, args ...any)
}) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("job panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = churn.Errorf(churn.KindInternal, "run job", "panic: %v", r)
		}
	}()
	return j.Run(ctx)
}

type rowsKey struct{}

type rowCounter struct{ n atomic.Int64 }

// AddRows counts rows a run produced (scores written, actions queued) for its
// record in job_runs. Outside a run of the scheduler it does nothing, so jobs
// call it unconditionally.
func AddRows(ctx context.Context, n int64) {
	if c, ok := ctx.Value(rowsKey{}).(*rowCounter); ok {
		c.n.Add(n)
	}
}
