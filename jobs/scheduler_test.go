package jobs_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
	"github.com/telcoretain/churn/jobs"
)

// clock only moves when the test says so.
type clock = clocktest.Clock

// memHistory is an in-memory job_runs table that can be made to fail.
type memHistory struct {
	mu   sync.Mutex
	rows []churn.JobRun
	down bool
}

func (h *memHistory) RecordJobRun(_ context.Context, r churn.JobRun) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		return churn.Unavailable("insert into job_runs", errors.New("connection refused"))
	}
	h.rows = append(h.rows, r)
	return nil
}

func (h *memHistory) JobRuns(_ context.Context, job string, limit int) ([]churn.JobRun, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		return nil, churn.Unavailable("read job_runs", errors.New("connection refused"))
	}
	var out []churn.JobRun
	seen := map[string]int{}
	for _, r := range h.rows { // the latest row of a run wins, as in ClickHouse
		if job != "" && r.Job != job {
			continue
		}
		if i, ok := seen[r.ID]; ok {
			out[i] = r
			continue
		}
		seen[r.ID] = len(out)
		out = append(out, r)
	}
	slices.Reverse(out)
	return out[:min(limit, len(out))], nil
}

func (h *memHistory) setDown(down bool) {
	h.mu.Lock()
	h.down = down
	h.mu.Unlock()
}

// final returns the final status of each run of job, oldest first.
func (h *memHistory) final(job string) []churn.JobRun {
	runs, _ := h.JobRuns(context.Background(), job, 1000)
	slices.Reverse(runs)
	return runs
}

// counting is a job that counts its runs and does what fn says.
type counting struct {
	n  atomic.Int32
	fn func(ctx context.Context) error
}

func (c *counting) Run(ctx context.Context) error {
	c.n.Add(1)
	if c.fn == nil {
		return nil
	}
	return c.fn(ctx)
}

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// noSleep records the backoff's waits instead of sleeping.
func noSleep(waits *[]time.Duration) *jobs.Backoff {
	var mu sync.Mutex
	return &jobs.Backoff{Attempts: 4, Initial: time.Second, Max: 4 * time.Second,
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			*waits = append(*waits, d)
			mu.Unlock()
			return nil
		}}
}

func newScheduler(t *testing.T, clk *clock, h *memHistory, specs ...jobs.Spec) *jobs.Scheduler {
	t.Helper()
	var waits []time.Duration
	s, err := jobs.New(jobs.Options{Location: berlin, Now: clk.Now, History: h, Backoff: noSleep(&waits)}, specs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDueJobsRunOnceInTheConfiguredZoneAndChainedJobsFollow(t *testing.T) {
	clk := clocktest.New(time.Date(2025, 6, 4, 4, 59, 30, 0, berlin)) // a Wednesday
	h := &memHistory{}
	score, actions, train := &counting{}, &counting{}, &counting{}
	s := newScheduler(t, clk, h,
		jobs.Spec{Name: "train", Job: train, Schedule: "0 3 * * 0"},
		jobs.Spec{Name: "score", Job: score, Schedule: "0 5 * * *"},
		jobs.Spec{Name: "actions", Job: actions, Schedule: "after score"},
		jobs.Spec{Name: "drift", Job: &counting{}, Schedule: "manual"},
	)
	next := map[string]time.Time{}
	for _, st := range s.Jobs() {
		next[st.Name] = st.Next
	}
	if want := time.Date(2025, 6, 4, 5, 0, 0, 0, berlin); !next["score"].Equal(want) {
		t.Errorf("score next %s, want %s", next["score"], want)
	}
	if want := time.Date(2025, 6, 8, 3, 0, 0, 0, berlin); !next["train"].Equal(want) {
		t.Errorf("train next %s, want Sunday %s", next["train"], want)
	}
	if !next["actions"].IsZero() || !next["drift"].IsZero() {
		t.Errorf("jobs off the clock have next runs: %v", next)
	}

	steps := []struct {
		at       time.Time
		wantDue  []string
		wantRuns int32
	}{
		{time.Date(2025, 6, 4, 4, 59, 59, 0, berlin), nil, 0},
		{time.Date(2025, 6, 4, 5, 0, 0, 0, berlin), []string{"score"}, 1},
		{time.Date(2025, 6, 4, 5, 0, 30, 0, berlin), nil, 1},
		{time.Date(2025, 6, 4, 23, 0, 0, 0, time.UTC), nil, 1}, // 01:00 in Berlin
		// The process slept through two 05:00s: the job runs once.
		{time.Date(2025, 6, 6, 9, 0, 0, 0, berlin), []string{"score"}, 2},
	}
	for _, st := range steps {
		clk.Set(st.at)
		due := s.Tick(st.at)
		s.Wait()
		if !slices.Equal(due, st.wantDue) || score.n.Load() != st.wantRuns {
			t.Fatalf("tick at %s: due %v, score ran %d times; want %v and %d", st.at, due, score.n.Load(), st.wantDue, st.wantRuns)
		}
	}
	if actions.n.Load() != 2 || train.n.Load() != 0 {
		t.Fatalf("actions ran %d times (want 2, after each score), train %d (want 0)", actions.n.Load(), train.n.Load())
	}
	for _, job := range []string{"score", "actions"} {
		runs := h.final(job)
		if len(runs) != 2 || runs[0].Status != churn.JobSucceeded || runs[0].Trigger != jobs.TriggerSchedule || runs[0].Finished.IsZero() {
			t.Fatalf("%s history %+v", job, runs)
		}
	}
}

func TestAnOverlappingRunIsSkippedAndRecorded(t *testing.T) {
	clk := clocktest.New(time.Date(2025, 6, 4, 0, 0, 0, 0, time.UTC))
	h := &memHistory{}
	release, started := make(chan struct{}), make(chan struct{}, 1)
	slow := &counting{fn: func(ctx context.Context) error {
		started <- struct{}{}
		<-release
		jobs.AddRows(ctx, 42)
		return nil
	}}
	s := newScheduler(t, clk, h, jobs.Spec{Name: "score", Job: slow, Schedule: "@every 1h"})
	s.Tick(clk.Now().Add(time.Hour))
	<-started
	s.Tick(clk.Now().Add(2 * time.Hour))
	if _, err := s.Start("score", jobs.TriggerManual); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("manual start while running: %v, want a conflict", err)
	}
	if st := s.Jobs()[0]; st.Running == nil || st.Running.Trigger != jobs.TriggerSchedule {
		t.Fatalf("status while running: %+v", st)
	}
	close(release)
	s.Wait()
	if slow.n.Load() != 1 {
		t.Fatalf("the job ran %d times, want 1", slow.n.Load())
	}
	var statuses []string
	for _, r := range h.final("score") {
		statuses = append(statuses, string(r.Status)+"/"+r.Trigger)
		if r.Status == churn.JobSucceeded && r.Rows != 42 {
			t.Errorf("succeeded run counted %d rows, want 42", r.Rows)
		}
		if r.Status == churn.JobSkipped && !strings.Contains(r.Error, "still going") {
			t.Errorf("skip says %q", r.Error)
		}
	}
	slices.Sort(statuses)
	if want := []string{"skipped/manual", "skipped/schedule", "succeeded/schedule"}; !slices.Equal(statuses, want) {
		t.Fatalf("history %v, want %v", statuses, want)
	}
}

func TestFailuresArePanicsRecoveredAndRecordedAndStopTheChain(t *testing.T) {
	tests := []struct {
		name      string
		fn        func(context.Context) error
		wantRuns  int32
		wantError string
	}{
		{"invalid data halts at once", func(context.Context) error {
			return churn.Invalid("score", "usage_daily", "day 2025-13-01 is not a date")
		}, 1, "usage_daily: day 2025-13-01 is not a date"},
		{"a panic is a failure", func(context.Context) error { panic("boom") }, 1, "panic: boom"},
		{"unavailable is retried, then given up", func(context.Context) error {
			return churn.Unavailable("read usage_daily", errors.New("connection refused"))
		}, 4, "gave up after 4 attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &memHistory{}
			job, after := &counting{fn: tt.fn}, &counting{}
			s := newScheduler(t, clocktest.New(time.Now()), h,
				jobs.Spec{Name: "score", Job: job}, jobs.Spec{Name: "actions", Job: after, Schedule: "after score"})
			runs, err := s.RunNow(context.Background(), "score", jobs.TriggerManual)
			s.Wait()
			if err == nil || len(runs) != 1 || runs[0].Status != churn.JobFailed || !strings.Contains(runs[0].Error, tt.wantError) {
				t.Fatalf("runs %+v, err %v; want one failed run with %q", runs, err, tt.wantError)
			}
			if job.n.Load() != tt.wantRuns || after.n.Load() != 0 {
				t.Fatalf("job ran %d times (want %d), the chained job %d (want 0)", job.n.Load(), tt.wantRuns, after.n.Load())
			}
			if got := h.final("score"); len(got) != 1 || got[0].Status != churn.JobFailed || got[0].Error != runs[0].Error {
				t.Fatalf("history %+v", got)
			}
			// The scheduler still runs the job afterwards.
			job.fn = nil
			if _, err := s.RunNow(context.Background(), "score", jobs.TriggerManual); err != nil || after.n.Load() != 1 {
				t.Fatalf("next run: %v, chained runs %d", err, after.n.Load())
			}
		})
	}
}

func TestUnavailableStorageIsRetriedWithGrowingJitteredWaits(t *testing.T) {
	var waits []time.Duration
	fails := 3
	job := &counting{}
	job.fn = func(context.Context) error {
		if int(job.n.Load()) <= fails {
			return churn.Unavailable("insert into scores", errors.New("connection refused"))
		}
		return nil
	}
	s, err := jobs.New(jobs.Options{History: &memHistory{}, Backoff: noSleep(&waits)}, jobs.Spec{Name: "score", Job: job})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.RunNow(context.Background(), "score", jobs.TriggerManual)
	if err != nil || runs[0].Status != churn.JobSucceeded || job.n.Load() != 4 {
		t.Fatalf("run %+v after %d attempts: %v", runs[0], job.n.Load(), err)
	}
	caps := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	if len(waits) != len(caps) {
		t.Fatalf("waits %v, want 3", waits)
	}
	for i, w := range waits {
		if w < caps[i]/2 || w > caps[i] {
			t.Errorf("wait %d is %s, want within [%s, %s]", i+1, w, caps[i]/2, caps[i])
		}
	}
}

func TestALongRunIsCancelledByItsTimeout(t *testing.T) {
	h := &memHistory{}
	job := &counting{fn: func(ctx context.Context) error {
		<-ctx.Done() // a job stops at its next safe point
		return churn.Unavailable("write scores", ctx.Err())
	}}
	s := newScheduler(t, clocktest.New(time.Now()), h, jobs.Spec{Name: "train", Job: job, Timeout: 20 * time.Millisecond})
	runs, err := s.RunNow(context.Background(), "train", jobs.TriggerManual)
	if err == nil || runs[0].Status != churn.JobFailed || !strings.Contains(runs[0].Error, "timed out after 20ms") || job.n.Load() != 1 {
		t.Fatalf("run %+v (%d attempts): %v", runs[0], job.n.Load(), err)
	}
}

func TestShutdownCancelsTheRunningJobAndWaitsForItToStop(t *testing.T) {
	h := &memHistory{}
	clk := clocktest.New(time.Date(2025, 6, 4, 0, 0, 0, 0, time.UTC))
	var stopped atomic.Bool
	started := make(chan struct{})
	job := &counting{fn: func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // finishing the current step
		stopped.Store(true)
		return ctx.Err()
	}}
	s := newScheduler(t, clk, h, jobs.Spec{Name: "score", Job: job, Schedule: "0 5 * * *"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	if _, err := s.Start("score", jobs.TriggerManual); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !stopped.Load() {
		t.Fatal("Run returned before the job stopped")
	}
	if runs := h.final("score"); len(runs) != 1 || runs[0].Status != churn.JobCancelled {
		t.Fatalf("history %+v, want one cancelled run", runs)
	}
	if _, err := s.Start("score", jobs.TriggerManual); churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("start after shutdown: %v", err)
	}
}

func TestRunsAreKeptWhileTheHistoryIsDownAndWrittenWhenItIsBack(t *testing.T) {
	h := &memHistory{}
	fail := &counting{fn: func(context.Context) error { return churn.Invalid("score", "as_of", "no active customers") }}
	s := newScheduler(t, clocktest.New(time.Now()), h, jobs.Spec{Name: "score", Job: fail})
	h.setDown(true)
	if _, err := s.RunNow(context.Background(), "score", jobs.TriggerManual); err == nil {
		t.Fatal("want the job's error")
	}
	runs, err := s.Runs(context.Background(), "", 10)
	if err == nil || len(runs) != 1 || runs[0].Status != churn.JobFailed {
		t.Fatalf("runs during the outage %+v, %v; want the failed run from memory and the error", runs, err)
	}
	h.setDown(false)
	runs, err = s.Runs(context.Background(), "score", 10)
	if err != nil || len(runs) != 1 || runs[0].Status != churn.JobFailed {
		t.Fatalf("runs after the outage %+v, %v", runs, err)
	}
	if got := h.final("score"); len(got) != 1 || got[0].Status != churn.JobFailed {
		t.Fatalf("stored %+v, want the failed run written after the outage", got)
	}
}

func TestSchedulerRejectsBadSpecsNamingTheJob(t *testing.T) {
	ok := &counting{}
	tests := []struct {
		name  string
		specs []jobs.Spec
		want  string
	}{
		{"bad cron", []jobs.Spec{{Name: "score", Job: ok, Schedule: "0 25 * * *"}}, "score: schedule \"0 25 * * *\""},
		{"time zone in the spec", []jobs.Spec{{Name: "score", Job: ok, Schedule: "TZ=Europe/Berlin"}}, "--timezone"},
		{"after an unknown job", []jobs.Spec{{Name: "actions", Job: ok, Schedule: "after score"}}, "runs after \"score\""},
		{"a circle", []jobs.Spec{{Name: "a", Job: ok, Schedule: "after b"}, {Name: "b", Job: ok, Schedule: "after a"}}, "circle: a after b after a"},
		{"twice", []jobs.Spec{{Name: "score", Job: ok}, {Name: "score", Job: ok}}, "registered twice"},
		{"bad name", []jobs.Spec{{Name: "Score Job", Job: ok}}, "lowercase name"},
		{"no job", []jobs.Spec{{Name: "score"}}, "has no job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jobs.New(jobs.Options{}, tt.specs...)
			if churn.ErrorKind(err) != churn.KindInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want invalid with %q", err, tt.want)
			}
		})
	}
}

func TestUnknownJobIsNotFound(t *testing.T) {
	s := newScheduler(t, clocktest.New(time.Now()), &memHistory{}, jobs.Spec{Name: "score", Job: &counting{}})
	if _, err := s.Start("scores", jobs.TriggerManual); churn.ErrorKind(err) != churn.KindNotFound || !strings.Contains(err.Error(), "jobs: score") {
		t.Fatalf("err %v", err)
	}
}

func TestSchedulerMetricsCountRunsByStatus(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	fail := &counting{fn: func(context.Context) error { return churn.Invalid("x", "y", "z") }}
	s, err := jobs.New(jobs.Options{Registerer: reg, History: &memHistory{}},
		jobs.Spec{Name: "score", Job: &counting{}, Schedule: "@daily"}, jobs.Spec{Name: "drift", Job: fail})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.RunNow(context.Background(), "score", jobs.TriggerManual)
	_, _ = s.RunNow(context.Background(), "drift", jobs.TriggerManual)
	s.Wait()
	got := map[string]float64{}
	series := 0
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "churn_job_runs_total":
				var job, status string
				for _, l := range m.GetLabel() {
					switch l.GetName() {
					case "job":
						job = l.GetValue()
					case "status":
						status = l.GetValue()
					}
				}
				got[job+"/"+status] = m.GetCounter().GetValue()
			case "churn_job_next_run_timestamp_seconds", "churn_job_running":
				series++
			}
		}
	}
	want := map[string]float64{"score/succeeded": 1, "score/failed": 0, "score/skipped": 0, "score/cancelled": 0,
		"drift/succeeded": 0, "drift/failed": 1, "drift/skipped": 0, "drift/cancelled": 0}
	if !maps.Equal(got, want) {
		t.Fatalf("runs by status %v, want %v", got, want)
	}
	if series != 3 {
		t.Fatalf("%d next-run and running series, want 1 + 2", series)
	}
}
