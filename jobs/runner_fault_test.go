package jobs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/serve"
)

// stopDuringWrite stops the private ClickHouse just before the scores are
// written, once armed: the outage hits a scoring run half way, after its
// features were read and its run was marked started.
type stopDuringWrite struct {
	*clickhouse.Client
	armed atomic.Bool
	stop  func()
}

func (s *stopDuringWrite) WriteScores(ctx context.Context, scores []churn.Score) error {
	if s.armed.CompareAndSwap(true, false) {
		s.stop()
	}
	return s.Client.WriteScores(ctx, scores)
}

// apiJobs adapts the scheduler to serve.JobScheduler, as cmd/churn does.
type apiJobs struct{ *jobs.Scheduler }

func (s apiJobs) Jobs() []serve.JobInfo {
	var out []serve.JobInfo
	for _, j := range s.Scheduler.Jobs() {
		out = append(out, serve.JobInfo(j))
	}
	return out
}

type servedRun struct {
	Run struct {
		ID string `json:"id"`
	} `json:"run"`
}

type jobsPage struct {
	Jobs []struct {
		Name    string `json:"name"`
		LastRun *struct {
			ID     string          `json:"id"`
			Status churn.JobStatus `json:"status"`
		} `json:"last_run"`
	} `json:"jobs"`
	HistoryComplete bool `json:"history_complete"`
}

func apiGet[T any](t *testing.T, h http.Handler, path string) (T, int) {
	t.Helper()
	var v T
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return v, rec.Code
}

// TestAScoringRunThatLosesClickHouseFailsAndTheAPIKeepsServingThePreviousRun
// stops a private ClickHouse (never the shared one) in the middle of a
// scoring run.
func TestAScoringRunThatLosesClickHouseFailsAndTheAPIKeepsServingThePreviousRun(t *testing.T) {
	ch := chtest.StartServer(t)
	c, _ := ch.NewDB(t)
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = 1500, 12, 5
	if _, err := synth.Load(ctx, cfg, c, synth.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	store := &stopDuringWrite{Client: c, stop: ch.Stop}
	var waits []time.Duration
	sched, err := jobs.New(jobs.Options{History: c, Backoff: noSleep(&waits)},
		jobs.Spec{Name: "train", Job: jobs.TrainJob{Train: &jobs.Train{Data: c, Models: c, Registry: c, Runs: c, Snapshots: 3, Candidates: quick()[:1]}}},
		jobs.Spec{Name: "score", Job: jobs.ScoreJob{Scoring: &jobs.Scoring{Data: c, Models: c, Runs: c, Scores: store}}, Schedule: "0 5 * * *"})
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"train", "score"} {
		if _, err := sched.RunNow(ctx, job, jobs.TriggerManual); err != nil {
			t.Fatal(err)
		}
	}
	api := c
	srv, err := serve.New(serve.Config{Insecure: true}, serve.Deps{Scores: api, Models: api, Pinger: api, Jobs: apiJobs{sched}})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if !srv.Loader().Poll(ctx) {
		t.Fatalf("the first run was not loaded: %v", srv.Loader().Err())
	}
	first, _ := apiGet[servedRun](t, h, "/v1/summary")

	// The outage: the run fails (after its retries) and is recorded as
	// failed in memory while job_runs cannot be written.
	store.armed.Store(true)
	runs, err := sched.RunNow(ctx, "score", jobs.TriggerSchedule)
	if churn.ErrorKind(err) != churn.KindUnavailable || runs[0].Status != churn.JobFailed || len(waits) != 3 {
		t.Fatalf("run during the outage: %+v, %v after %d retries; want a failed run, unavailable, 3 retries", runs[0], err, len(waits))
	}
	failedID := runs[0].ID
	srv.Loader().Poll(ctx)
	if s, code := apiGet[servedRun](t, h, "/v1/summary"); code != http.StatusOK || s.Run.ID != first.Run.ID {
		t.Fatalf("summary during the outage: %d %+v, want the first run %s", code, s, first.Run.ID)
	}
	page, code := apiGet[jobsPage](t, h, "/v1/jobs")
	if code != http.StatusOK || page.HistoryComplete || page.Jobs[1].LastRun == nil || page.Jobs[1].LastRun.Status != churn.JobFailed {
		t.Fatalf("jobs during the outage: %d %+v, want score's last run failed from memory", code, page)
	}

	// ClickHouse is back: the next run succeeds and is served, and the
	// failed run reaches job_runs.
	ch.Start()
	runs, err = sched.RunNow(ctx, "score", jobs.TriggerSchedule)
	if err != nil || runs[0].Status != churn.JobSucceeded || runs[0].Rows == 0 {
		t.Fatalf("run after the outage: %+v, %v", runs[0], err)
	}
	if !srv.Loader().Poll(ctx) {
		t.Fatalf("the new run was not loaded: %v", srv.Loader().Err())
	}
	if s, _ := apiGet[servedRun](t, h, "/v1/summary"); s.Run.ID == first.Run.ID {
		t.Fatalf("still serving %s after a successful run", s.Run.ID)
	}
	stored, err := c.JobRuns(ctx, "score", 10)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]churn.JobStatus{}
	for _, r := range stored {
		status[r.ID] = r.Status
	}
	if len(stored) != 3 || status[failedID] != churn.JobFailed || status[runs[0].ID] != churn.JobSucceeded {
		t.Fatalf("job_runs after the outage: %+v", stored)
	}
}
