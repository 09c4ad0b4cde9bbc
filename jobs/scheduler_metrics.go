package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// schedMetrics are the scheduler's Prometheus metrics. A nil *schedMetrics
// (no registerer) records nothing.
type schedMetrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
}

func newSchedMetrics(reg prometheus.Registerer, s *Scheduler) *schedMetrics {
	if reg == nil {
		return nil
	}
	m := &schedMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_job_runs_total",
			Help: "Job runs by job and final status (succeeded, failed, skipped, cancelled).",
		}, []string{"job", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "churn_job_duration_seconds",
			Help:    "Duration of job runs that were not skipped, by job.",
			Buckets: []float64{1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400},
		}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "churn_job_last_success_timestamp_seconds",
			Help: "Unix time at which each job last succeeded in this process.",
		}, []string{"job"}),
	}
	for _, name := range s.Names() {
		for _, st := range []churn.JobStatus{churn.JobSucceeded, churn.JobFailed, churn.JobSkipped, churn.JobCancelled} {
			m.runs.WithLabelValues(name, string(st))
		}
	}
	reg.MustRegister(m.runs, m.duration, m.lastSuccess, &jobsCollector{s: s})
	return m
}

func (m *schedMetrics) finished(run churn.JobRun, took time.Duration) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(run.Job, string(run.Status)).Inc()
	if run.Status == churn.JobSkipped {
		return
	}
	m.duration.WithLabelValues(run.Job).Observe(took.Seconds())
	if run.Status == churn.JobSucceeded {
		m.lastSuccess.WithLabelValues(run.Job).Set(float64(run.Finished.UnixNano()) / 1e9)
	}
}

// jobsCollector reports the scheduler's state at scrape time.
type jobsCollector struct{ s *Scheduler }

var (
	descJobRunning = prometheus.NewDesc("churn_job_running",
		"1 while a run of the job is in progress, else 0.", []string{"job"}, nil)
	descJobNext = prometheus.NewDesc("churn_job_next_run_timestamp_seconds",
		"Unix time of the job's next scheduled run (absent for jobs not on a clock).", []string{"job"}, nil)
)

// Describe implements prometheus.Collector.
func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descJobRunning
	ch <- descJobNext
}

// Collect implements prometheus.Collector.
func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.s.Jobs() {
		running := 0.0
		if st.Running != nil {
			running = 1
		}
		ch <- prometheus.MustNewConstMetric(descJobRunning, prometheus.GaugeValue, running, st.Name)
		if !st.Next.IsZero() {
			ch <- prometheus.MustNewConstMetric(descJobNext, prometheus.GaugeValue, float64(st.Next.Unix()), st.Name)
		}
	}
}
