package jobs_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
	"github.com/telcoretain/churn/jobs"
)

// tickAt moves the clock to at, ticks and waits for what started.
func tickAt(clk *clock, s *jobs.Scheduler, at time.Time) []string {
	clk.Set(at)
	started := s.Tick(at)
	s.Wait()
	return started
}

func TestAFailedDailyRunIsRetriedWithinItsWindowWithGrowingWaits(t *testing.T) {
	day := time.Date(2025, 6, 2, 0, 0, 0, 0, berlin)
	clk := clocktest.New(day)
	h := &memHistory{}
	fails := 2 // the first run and the first retry fail
	job := &counting{fn: func(context.Context) error {
		if fails > 0 {
			fails--
			return churn.Errorf(churn.KindInternal, "score", "out of memory")
		}
		return nil
	}}
	s, err := jobs.New(jobs.Options{Location: berlin, Now: clk.Now, History: h, Backoff: &jobs.Backoff{Attempts: 1},
		Retry: &jobs.WindowRetry{Attempts: 3, Wait: 15 * time.Minute}},
		jobs.Spec{Name: "score", Job: job, Schedule: "0 5 * * *"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	steps := []struct {
		at   time.Time
		want []string
	}{
		{at(5, 0), []string{"score"}},  // fails
		{at(5, 14), nil},               // too early for the retry
		{at(5, 15), []string{"score"}}, // retry 1 fails: the next waits 30 minutes
		{at(5, 44), nil},               //
		{at(5, 45), []string{"score"}}, // retry 2 succeeds
		{at(7, 0), nil},                // nothing more today
		{at(29, 0), []string{"score"}}, // the next day's slot
	}
	for _, st := range steps {
		if got := tickAt(clk, s, st.at); !slices.Equal(got, st.want) {
			t.Fatalf("at %s started %v, want %v", st.at.Format("Jan 2 15:04"), got, st.want)
		}
	}
	var statuses, triggers []string
	for _, r := range h.final("score") {
		statuses, triggers = append(statuses, string(r.Status)), append(triggers, r.Trigger)
	}
	if want := []string{"failed", "failed", "succeeded", "succeeded"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if want := []string{"schedule", "retry", "retry", "schedule"}; !slices.Equal(triggers, want) {
		t.Errorf("triggers %v, want %v", triggers, want)
	}
}

func TestWindowRetriesAreBoundedAndNeverPassTheNextSlot(t *testing.T) {
	start := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		schedule string
		retry    jobs.WindowRetry
		wantRuns int32 // within the first slot's window
	}{
		{"attempts bound the retries", "0 5 * * *", jobs.WindowRetry{Attempts: 2, Wait: 10 * time.Minute}, 3},
		{"no retry at or past the next slot", "0 * * * *", jobs.WindowRetry{Attempts: 5, Wait: 20 * time.Minute}, 2}, // 05:00, 05:20; the next would be at 06:00, the slot
		{"switched off", "0 5 * * *", jobs.WindowRetry{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktest.New(start)
			job := &counting{fn: func(context.Context) error { return churn.Errorf(churn.KindInternal, "score", "broken") }}
			s, err := jobs.New(jobs.Options{Now: clk.Now, Backoff: &jobs.Backoff{Attempts: 1}, Retry: &tt.retry},
				jobs.Spec{Name: "score", Job: job, Schedule: tt.schedule})
			if err != nil {
				t.Fatal(err)
			}
			// Tick every minute from 05:00 to just before 06:00.
			for m := 0; m < 60; m++ {
				tickAt(clk, s, start.Add(5*time.Hour+time.Duration(m)*time.Minute))
			}
			if got := job.n.Load(); got != tt.wantRuns {
				t.Fatalf("%d runs before 06:00, want %d", got, tt.wantRuns)
			}
		})
	}
}

func TestARunStartedByHandIsNotRetried(t *testing.T) {
	clk := clocktest.New(time.Date(2025, 6, 2, 5, 0, 0, 0, time.UTC))
	job := &counting{fn: func(context.Context) error { return churn.Errorf(churn.KindInternal, "score", "broken") }}
	s, err := jobs.New(jobs.Options{Now: clk.Now, Backoff: &jobs.Backoff{Attempts: 1}},
		jobs.Spec{Name: "score", Job: job, Schedule: "0 5 * * *"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunNow(context.Background(), "score", jobs.TriggerManual); err == nil {
		t.Fatal("the run should fail")
	}
	began := clk.Now()
	for m := range 120 {
		tickAt(clk, s, began.Add(time.Duration(m)*time.Minute))
	}
	if got := job.n.Load(); got != 1 {
		t.Fatalf("%d runs, want the manual one only", got)
	}
}
