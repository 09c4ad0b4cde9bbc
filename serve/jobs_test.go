package serve

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// fakeScheduler is an in-memory JobScheduler with a score job that can be
// made to look busy and a history that can be made to fail.
type fakeScheduler struct {
	mu      sync.Mutex
	busy    bool
	started []string
	runs    []churn.JobRun // newest first
	histErr error
}

var jobsT0 = time.Date(2025, 6, 4, 3, 0, 0, 0, time.UTC)

func (f *fakeScheduler) Jobs() []JobInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := f.runs[0]
	score := JobInfo{Name: "score", Schedule: "0 5 * * *", Next: jobsT0.Add(2 * time.Hour), Timeout: 2 * time.Hour, Last: &last}
	if f.busy {
		score.Running = &churn.JobRun{ID: "score-2", Job: "score", Trigger: "schedule", Status: "running", Started: jobsT0}
	}
	return []JobInfo{score, {Name: "actions", Schedule: "after score", Timeout: time.Hour}}
}

func (f *fakeScheduler) Runs(_ context.Context, job string, limit int) ([]churn.JobRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []churn.JobRun
	for _, r := range f.runs {
		if (job == "" || r.Job == job) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, f.histErr
}

func (f *fakeScheduler) Start(name, trigger string) (churn.JobRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case name != "score" && name != "actions":
		return churn.JobRun{}, churn.Errorf(churn.KindNotFound, "run job", "no job named %q (jobs: score, actions)", name)
	case f.busy:
		return churn.JobRun{}, churn.Errorf(churn.KindConflict, "run job", "run score-2 (schedule) started %s is still going", jobsT0.Format(time.RFC3339))
	}
	f.started = append(f.started, name+"/"+trigger)
	return churn.JobRun{ID: name + "-3", Job: name, Trigger: trigger, Status: "running", Started: jobsT0.Add(time.Minute)}, nil
}

func (f *fakeScheduler) Location() *time.Location { return time.UTC }

func newJobsEnv(t *testing.T, sched JobScheduler) *testEnv {
	t.Helper()
	keys, err := ParseKeys("viewer:"+viewerKey+",admin:"+adminKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	store := &fakeStore{models: testModels()}
	deps := Deps{Scores: store, Models: store, Pinger: store, Registry: prometheus.NewRegistry()}
	if sched != nil {
		deps.Jobs = sched
	}
	srv, err := New(Config{Keys: keys}, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, store: store, srv: srv}
}

func newFakeScheduler() *fakeScheduler {
	return &fakeScheduler{runs: []churn.JobRun{
		{ID: "actions-1", Job: "actions", Trigger: "schedule", Status: "succeeded", Started: jobsT0.Add(-time.Hour), Finished: jobsT0.Add(-time.Hour), Rows: 120},
		{ID: "score-1", Job: "score", Trigger: "schedule", Status: "failed", Started: jobsT0.Add(-2 * time.Hour), Finished: jobsT0.Add(-time.Hour), Error: "ClickHouse at 127.0.0.1:9000: connection refused"},
	}}
}

func TestJobsListsSchedulesNextRunsAndHistory(t *testing.T) {
	f := newFakeScheduler()
	f.busy = true
	e := newJobsEnv(t, f)
	rec := e.do("GET", "/v1/jobs", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decode[jobsJSON](t, rec)
	if len(got.Jobs) != 2 || got.Jobs[0].NextRun == nil || *got.Jobs[0].NextRun != "2025-06-04T05:00:00Z" || got.Jobs[0].Running == nil ||
		got.Jobs[1].NextRun != nil || got.Jobs[1].Schedule != "after score" || got.TimeZone != "UTC" || !got.HistoryComplete {
		t.Fatalf("jobs %+v", got)
	}
	if len(got.Runs) != 2 || got.Runs[1].Status != "failed" || got.Runs[1].Error == "" || got.Runs[0].Rows != 120 {
		t.Fatalf("runs %+v", got.Runs)
	}
	one := decode[jobsJSON](t, e.do("GET", "/v1/jobs?job=score&limit=1", ""))
	if len(one.Jobs) != 1 || len(one.Runs) != 1 || one.Runs[0].ID != "score-1" {
		t.Fatalf("job=score&limit=1: %+v", one)
	}
}

func TestJobsListFallsBackToTheRunsInMemoryWhenTheHistoryIsDown(t *testing.T) {
	f := newFakeScheduler()
	f.histErr = errDown
	e := newJobsEnv(t, f)
	got := decode[jobsJSON](t, e.do("GET", "/v1/jobs", ""))
	if got.HistoryComplete || len(got.Runs) != 2 {
		t.Fatalf("during an outage: %+v", got)
	}
	f.runs = nil
	if rec := e.do("GET", "/v1/jobs", ""); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("no runs at all and no history: %d", rec.Code)
	}
}

func TestRunningAJobNeedsAdminAndSaysWhenItIsBusyOrUnknown(t *testing.T) {
	f := newFakeScheduler()
	e := newJobsEnv(t, f)
	admin := []string{"Authorization", "Bearer " + adminKey}
	tests := []struct {
		name    string
		path    string
		headers []string
		busy    bool
		want    int
		body    string
	}{
		{"viewer is forbidden", "/v1/jobs/score/run", nil, false, http.StatusForbidden, "forbidden"},
		{"admin starts a run", "/v1/jobs/score/run", admin, false, http.StatusAccepted, `"trigger":"manual"`},
		{"a running job conflicts", "/v1/jobs/score/run", admin, true, http.StatusConflict, "still going"},
		{"an unknown job is not found", "/v1/jobs/scores/run", admin, false, http.StatusNotFound, "jobs: score, actions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.mu.Lock()
			f.busy = tt.busy
			f.mu.Unlock()
			rec := e.do("POST", tt.path, "", tt.headers...)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.body) {
				t.Fatalf("status %d %s, want %d with %q", rec.Code, rec.Body, tt.want, tt.body)
			}
		})
	}
	if len(f.started) != 1 || f.started[0] != "score/manual" {
		t.Fatalf("started %v, want one manual score run", f.started)
	}
}

func TestJobRoutesOfAServerWithoutSchedulerAreNotFound(t *testing.T) {
	e := newJobsEnv(t, nil)
	for _, r := range []struct{ method, path string }{{"GET", "/v1/jobs"}, {"POST", "/v1/jobs/score/run"}} {
		rec := e.do(r.method, r.path, "", "Authorization", "Bearer "+adminKey)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "--scheduler=false") {
			t.Errorf("%s %s: %d %s", r.method, r.path, rec.Code, rec.Body)
		}
	}
}

func TestJobsQueryRejectsBadParameters(t *testing.T) {
	e := newJobsEnv(t, newFakeScheduler())
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "jobs=score", "job=a&job=b"} {
		rec := e.do("GET", "/v1/jobs?"+q, "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, rec.Code)
		}
	}
}
