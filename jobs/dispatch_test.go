package jobs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/retention/retentiontest"
)

// flakySender fails the first n attempts with a 503, then delivers; e1 is
// sent first (same priority and value: by id).
type flakySender struct{ n int }

func (s *flakySender) Send(context.Context, churn.Action, int) error {
	if s.n > 0 {
		s.n--
		return &retention.SendError{Status: 503, Retryable: true, Err: errors.New("busy")}
	}
	return nil
}

func TestDispatchJobCountsDeliveriesAndItsMetricsPassPromtool(t *testing.T) {
	log := &retentiontest.Log{}
	q := retention.NewQueue(log, retention.QueueOptions{})
	ctx := context.Background()
	as := []churn.Action{{ID: "s1", Kind: churn.ActionSMS, Channel: "sms", Cycle: "2025-06-01"},
		{ID: "e1", Kind: churn.ActionEmail, Channel: "email", Cycle: "2025-06-01"}}
	if _, err := q.Enqueue(ctx, "plan", as, nil); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	d, err := retention.NewDispatcher(q, &flakySender{n: 1}, nil, retention.DispatchOptions{Observer: NewDispatchMetrics(reg),
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := (DispatchJob{Dispatcher: d}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	text := buf.String()
	for _, want := range []string{`churn_dispatch_attempts_total{channel="email",result="error"} 1`,
		`churn_dispatch_actions_total{channel="sms",result="delivered"} 1`, `churn_dispatch_attempt_duration_seconds_count{channel="email"} 2`} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed")
		}
		t.Skip("promtool is not installed")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
