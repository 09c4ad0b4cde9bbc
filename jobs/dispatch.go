package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn/retention"
)

// DispatchJob delivers the automated actions (email, sms) waiting in the
// queue to the operator's campaign system, counting the actions delivered.
// It runs after the actions job, and only where the queue's owner is.
type DispatchJob struct{ Dispatcher *retention.Dispatcher }

// Run dispatches once.
func (j DispatchJob) Run(ctx context.Context) error {
	rep, err := j.Dispatcher.Run(ctx)
	AddRows(ctx, int64(rep.Delivered))
	return err
}

// DispatchMetrics export deliveries of automated actions
// (retention.DispatchObserver). A nil *DispatchMetrics records nothing.
type DispatchMetrics struct {
	attempts *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	results  *prometheus.CounterVec
}

// NewDispatchMetrics registers the dispatch metrics on reg.
func NewDispatchMetrics(reg prometheus.Registerer) *DispatchMetrics {
	m := &DispatchMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_dispatch_attempts_total",
			Help: "Delivery attempts of automated actions (a webhook call, or a CSV file written), by channel and whether the attempt succeeded (result=\"ok\" or \"error\").",
		}, []string{"channel", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "churn_dispatch_attempt_duration_seconds",
			Help:    "Time one delivery attempt of an automated action took, by channel.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 8),
		}, []string{"channel"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_dispatch_actions_total",
			Help: "Automated actions by what their delivery came to in a dispatch run: result=\"delivered\", \"failed\" (retried by the next run) or \"dead_lettered\" (given up).",
		}, []string{"channel", "result"}),
	}
	reg.MustRegister(m.attempts, m.seconds, m.results)
	return m
}

// Attempt counts one attempt.
func (m *DispatchMetrics) Attempt(channel string, took time.Duration, err error) {
	if m == nil {
		return
	}
	res := "ok"
	if err != nil {
		res = "error"
	}
	m.attempts.WithLabelValues(channel, res).Inc()
	m.seconds.WithLabelValues(channel).Observe(took.Seconds())
}

// Result counts one action's result.
func (m *DispatchMetrics) Result(channel string, r retention.DeliveryResult, _ int) {
	if m == nil {
		return
	}
	m.results.WithLabelValues(channel, string(r)).Inc()
}
