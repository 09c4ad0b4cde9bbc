package jobs

import (
	"time"

	"github.com/telcoretain/churn"
)

// TriggerRetry marks a run that tries a failed scheduled run again before
// the job's next slot.
const TriggerRetry = "retry"

// WindowRetry says how a scheduled run that failed is tried again within its
// window, that is before the job's next scheduled slot: after Wait, then
// twice as long before each later try, at most Attempts more runs, and never
// at or after the next slot (which runs anyway). Without it a daily job
// that fails at 05:00 because ClickHouse was restarting would wait a whole
// day. Retries within a run (Backoff) ride out seconds of outage; these ride
// out hours.
type WindowRetry struct {
	Attempts int           // more runs after the failed one; 0: none
	Wait     time.Duration // before the first retry
}

// DefaultWindowRetry tries a failed scheduled run up to 3 more times, 15,
// 30 and 60 minutes apart.
func DefaultWindowRetry() WindowRetry {
	return WindowRetry{Attempts: 3, Wait: 15 * time.Minute}
}

// planRetry decides, once a run of e has ended, whether and when it is
// tried again. Only runs of clocked jobs started by the clock (or by a
// retry) are retried: a run started by hand is its caller's to repeat, and a
// cancelled one stops with the process. The caller holds s.mu.
func (s *Scheduler) planRetry(e *entry, run churn.JobRun) {
	if e.sched == nil || (run.Trigger != TriggerSchedule && run.Trigger != TriggerRetry) {
		return
	}
	switch run.Status {
	case churn.JobSucceeded:
		e.retries, e.retryAt = 0, time.Time{}
		return
	case churn.JobFailed:
	default:
		return
	}
	log := s.log.With("job", e.spec.Name, "run", run.ID)
	if e.retries >= s.retry.Attempts {
		if s.retry.Attempts > 0 {
			log.Error("job failed; no tries left before its next slot", "tries", e.retries+1, "next", e.next.Format(time.RFC3339))
		}
		return
	}
	wait := s.retry.Wait << e.retries
	at := run.Finished.Add(wait).In(s.loc)
	if !e.next.IsZero() && !at.Before(e.next) {
		log.Warn("job failed; its next slot comes before a retry would", "next", e.next.Format(time.RFC3339))
		return
	}
	e.retries++
	e.retryAt = at
	log.Warn("job failed; retrying within its window", "at", at.Format(time.RFC3339),
		"retry", e.retries, "of", s.retry.Attempts)
}
