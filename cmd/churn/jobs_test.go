package main

import (
	"strings"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/jobs"
)

func TestJobsListShowsEveryJobWithItsNextRunInTheConfiguredZone(t *testing.T) {
	_, cfg := chtest.NewDB(t)
	out, errOut, code := run(t, "jobs", "list", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database,
		"--timezone", "Europe/Berlin", "--schedule", "score=30 4 * * *", "--schedule", "train=manual")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"schedules in Europe/Berlin", "score     30 4 * * *", "train     manual", "actions   after score",
		"outcomes  0 6 * * *", "drift     after score", "no runs yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, " 04:30 CET") && !strings.Contains(out, " 04:30 CEST") {
		t.Errorf("score's next run is not at 04:30 Berlin time:\n%s", out)
	}
	if strings.Contains(out, "prune") {
		t.Errorf("the prune job is listed without --scores-keep-months:\n%s", out)
	}
	out, errOut, code = run(t, "jobs", "list", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database, "--scores-keep-months", "13")
	if code != 0 || !strings.Contains(out, "prune     0 4 * * *") {
		t.Errorf("jobs list with --scores-keep-months 13: exit %d %s\n%s", code, errOut, out)
	}
}

func TestJobsRejectBadSchedulesNamingTheFlag(t *testing.T) {
	_, cfg := chtest.NewDB(t)
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"list", "--schedule", "score=61 * * * *"}, 2, "score: schedule \"61 * * * *\""},
		{[]string{"list", "--schedule", "scores=@daily"}, 2, "no job named \"scores\""},
		{[]string{"list", "--schedule", "score"}, 2, `--schedule: "score" is not NAME=VALUE`},
		{[]string{"list", "--timezone", "Mars/Olympus"}, 2, "timezone: \"Mars/Olympus\""},
		{[]string{"list", "--job-timeout", "train=-1h"}, 2, "not a positive duration"},
		{[]string{"run", "nosuch"}, 4, "no job named \"nosuch\""},
		{[]string{"run", "prune"}, 4, "the prune job runs only with --scores-keep-months N"},
		{[]string{"run", "dispatch"}, 4, "the dispatch job runs only with --dispatch-webhook-url"},
		{[]string{"list", "--schedule", "prune=@daily"}, 2, "no job named \"prune\""},
	}
	for _, tt := range tests {
		args := append([]string{"jobs"}, tt.args...)
		_, errOut, code := run(t, append(args, "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database)...)
		if code != tt.wantCode || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d %q, want %d with %q", tt.args, code, errOut, tt.wantCode, tt.want)
		}
	}
}

func TestTheAPISaysWhatAJobTheServerLeftOutNeeds(t *testing.T) {
	a := &app{} // no dispatch target configured
	set := &jobSet{}
	if err := a.addDispatchJob(set, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	s, err := jobs.New(jobs.Options{LeftOut: set.off})
	if err != nil {
		t.Fatal(err)
	}
	api := schedulerAPI{s}
	if _, err := api.Start("dispatch", jobs.TriggerManual); churn.ErrorKind(err) != churn.KindNotFound ||
		!strings.Contains(err.Error(), "--dispatch-webhook-url") {
		t.Errorf("starting the dispatch job: %v, want not found saying what it needs", err)
	}
	if _, err := api.Start("nosuch", jobs.TriggerManual); churn.ErrorKind(err) != churn.KindNotFound ||
		!strings.Contains(err.Error(), `no job named "nosuch"`) {
		t.Errorf("starting an unknown job: %v", err)
	}
}
