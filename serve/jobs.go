package serve

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/telcoretain/churn"
)

// JobLister lists the jobs and their schedules.
type JobLister interface {
	// Jobs lists every job with its schedule and next run.
	Jobs() []JobInfo
	// Location is the time zone of the schedules.
	Location() *time.Location
}

// JobHistory reads past runs.
type JobHistory interface {
	// Runs returns the latest runs, newest first; of one job unless job is
	// empty. With an error it may still return the runs it knows of.
	Runs(ctx context.Context, job string, limit int) ([]churn.JobRun, error)
}

// JobStarter starts a run by hand.
type JobStarter interface {
	// Start begins a run in the background; KindConflict while the job is
	// running, KindNotFound for an unknown name.
	Start(name, trigger string) (churn.JobRun, error)
}

// JobScheduler is the job scheduler as the API sees it: package jobs's
// Scheduler behind an adapter in cmd/churn.
type JobScheduler interface {
	JobLister
	JobHistory
	JobStarter
}

// JobInfo is a job as the scheduler reports it.
type JobInfo struct {
	Name     string
	Schedule string    // cron expression, "after JOB" or "manual"
	Next     time.Time // zero when the job is not on a clock
	Timeout  time.Duration
	Running  *churn.JobRun
	Last     *churn.JobRun
}

const (
	defaultJobRuns = 20
	maxJobRuns     = 500
)

// errNoScheduler answers the job routes of a server that runs no scheduler
// (a read replica, or one started with --scheduler=false).
var errNoScheduler = churn.Errorf(churn.KindNotFound, "jobs", "this server does not run the job scheduler (started with --scheduler=false); ask the one that does, or use `churn jobs`")

func (s *Server) jobRoutes(read, admin *gin.RouterGroup) {
	read.GET("/jobs", s.listJobs)
	admin.POST("/jobs/:name/run", s.runJob)
}

func (s *Server) listJobs(c *gin.Context) {
	if s.deps.Jobs == nil {
		s.fail(c, errNoScheduler)
		return
	}
	job, limit, err := parseJobsQuery(c.Request.URL.Query())
	if err != nil {
		s.fail(c, err)
		return
	}
	runs, err := s.deps.Jobs.Runs(c.Request.Context(), job, limit)
	if err != nil && runs == nil {
		s.fail(c, err)
		return
	}
	out := jobsJSON{TimeZone: s.deps.Jobs.Location().String(), HistoryComplete: err == nil, Jobs: []jobJSON{}, Runs: make([]jobRunJSON, len(runs))}
	for _, j := range s.deps.Jobs.Jobs() {
		if job == "" || j.Name == job {
			out.Jobs = append(out.Jobs, newJobJSON(j))
		}
	}
	for i, r := range runs {
		out.Runs[i] = newJobRunJSON(r)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

func (s *Server) runJob(c *gin.Context) {
	if s.deps.Jobs == nil {
		s.fail(c, errNoScheduler)
		return
	}
	run, err := s.deps.Jobs.Start(c.Param("name"), "manual")
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("job started by hand", "job", run.Job, "run", run.ID, "actor", c.GetString(ctxActor),
		"request_id", c.GetString(ctxRequestID))
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/v1/jobs?job="+url.QueryEscape(run.Job))
	c.JSON(http.StatusAccepted, jobStartedJSON{Run: newJobRunJSON(run)})
}

func parseJobsQuery(q url.Values) (job string, limit int, err error) {
	limit = defaultJobRuns
	if v := q.Get("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > maxJobRuns {
			return "", 0, invalid("limit", "%q: want a number of runs from 1 to %d", v, maxJobRuns)
		}
	}
	return q.Get("job"), limit, nil
}

type jobsJSON struct {
	TimeZone        string       `json:"time_zone"`
	Jobs            []jobJSON    `json:"jobs"`
	Runs            []jobRunJSON `json:"runs"`
	HistoryComplete bool         `json:"history_complete"`
}

type jobJSON struct {
	Name           string      `json:"name"`
	Schedule       string      `json:"schedule"`
	NextRun        *string     `json:"next_run"`
	TimeoutSeconds int64       `json:"timeout_seconds"`
	Running        *jobRunJSON `json:"running"`
	LastRun        *jobRunJSON `json:"last_run"`
}

type jobRunJSON struct {
	ID         string          `json:"id"`
	Job        string          `json:"job"`
	Trigger    string          `json:"trigger"`
	Status     churn.JobStatus `json:"status"`
	StartedAt  string          `json:"started_at"`
	FinishedAt *string         `json:"finished_at"`
	Rows       int64           `json:"rows"`
	Error      string          `json:"error,omitempty"`
}

type jobStartedJSON struct {
	Run jobRunJSON `json:"run"`
}

func newJobJSON(j JobInfo) jobJSON {
	out := jobJSON{Name: j.Name, Schedule: j.Schedule, TimeoutSeconds: int64(j.Timeout / time.Second)}
	if !j.Next.IsZero() {
		s := j.Next.Format(time.RFC3339)
		out.NextRun = &s
	}
	if j.Running != nil {
		r := newJobRunJSON(*j.Running)
		out.Running = &r
	}
	if j.Last != nil {
		r := newJobRunJSON(*j.Last)
		out.LastRun = &r
	}
	return out
}

func newJobRunJSON(r churn.JobRun) jobRunJSON {
	out := jobRunJSON{ID: r.ID, Job: r.Job, Trigger: r.Trigger, Status: r.Status,
		StartedAt: r.Started.UTC().Format(time.RFC3339), Rows: r.Rows, Error: r.Error}
	if !r.Finished.IsZero() {
		f := r.Finished.UTC().Format(time.RFC3339)
		out.FinishedAt = &f
	}
	return out
}
