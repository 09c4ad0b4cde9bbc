package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
)

// clusterOperations runs, on a cluster database that clusterWorkflow seeded,
// trained and scored, what an operator runs next: the scheduler's jobs, a
// retention cycle worked through the API, and the notebooks.
func clusterOperations(t *testing.T, cfg clickhouse.Config, c *clickhouse.Client) {
	t.Run("ScheduledScoreActionsDriftAndOutcomes", func(t *testing.T) { clusterScheduledJobs(t, cfg, c) })
	var api *servedQueue
	t.Run("ActionsPlanSimulateOutcomesAndReport", func(st *testing.T) { api = clusterRetentionCycle(st, t, cfg, c) })
	t.Run("NotebooksReadTheDistributedTables", func(t *testing.T) {
		if api == nil {
			t.Skip("no API: the retention cycle failed")
		}
		clusterNotebooks(t, cfg, api)
	})
}

func clusterFlags(cfg clickhouse.Config) []string {
	return []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database, "--cluster", cfg.Cluster}
}

// clusterScheduledJobs runs `churn jobs run-scheduler` with score and
// outcomes due every 2 s until each of score, actions, drift (chained
// after score) and outcomes has run on its schedule, then stops it as
// SIGTERM would: every scheduled run succeeded (or was skipped while the
// previous one ran), a scoring run of every customer was published, the
// actions job queued actions and the drift check was recorded.
func clusterScheduledJobs(t *testing.T, cfg clickhouse.Config, c *clickhouse.Client) {
	ctx := context.Background()
	first, err := c.LatestFinishedRun(ctx)
	if err != nil || first == nil {
		t.Fatalf("the workflow's scoring run: %v %v", first, err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	type result struct {
		out, errOut string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		out, errOut, code := runCtx(t, sctx, append([]string{"jobs", "run-scheduler", "--schedule", "score=@every 2s",
			"--schedule", "outcomes=@every 2s", "--schedule", "train=manual"}, clusterFlags(cfg)...)...)
		done <- result{out, errOut, code}
	}()
	want := []string{"score", "actions", "drift", "outcomes"}
	var runs []churn.JobRun
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if runs, err = c.JobRuns(ctx, "", 200); err != nil {
			t.Fatal(err)
		}
		ok := map[string]bool{}
		for _, r := range runs {
			if r.Trigger == "schedule" && r.Status == churn.JobSucceeded {
				ok[r.Job] = true
			}
		}
		if len(ok) == len(want) {
			break
		}
		if time.Now().After(deadline) {
			stop()
			r := <-done
			t.Fatalf("after 90 s the scheduler ran %v successfully, want %v; its log:\n%s", ok, want, r.errOut)
		}
	}
	stop()
	r := <-done
	if r.code != 0 {
		t.Errorf("run-scheduler stopped with exit %d:\n%s", r.code, r.errOut)
	}
	for _, r := range runs {
		// A run cut short by the stop is cancelled; none may fail.
		if r.Status == churn.JobFailed {
			t.Errorf("job %s run %s failed: %s", r.Job, r.ID, r.Error)
		}
	}
	latest, err := c.LatestFinishedRun(ctx)
	if err != nil || latest == nil || latest.ID == first.ID || latest.Rows != first.Rows {
		t.Errorf("latest finished scoring run %+v (%v), want a scheduled one of %d customers after %s", latest, err, first.Rows, first.ID)
	}
	for table, q := range map[string]string{
		"action_events": "SELECT count() FROM action_events WHERE event = 'queued'",
		"drift_checks":  "SELECT count() FROM drift_checks",
	} {
		var n uint64
		if err := c.Conn().QueryRow(ctx, q).Scan(&n); err != nil || n == 0 {
			t.Errorf("%s: %d rows (%v), want the scheduled jobs' rows", table, n, err)
		}
	}
}

// clusterRetentionCycle scores the customers as of three months before the
// data's last, plans that cycle, has synthetic agents work it through a
// `churn serve` of the cluster database, labels the cycle and prints the
// lift report. The synthetic effect is off (every kind's save rate 0 for
// every reason, no sleeping dogs): its deletes (saves) and inserts
// (sleeping dogs) of churn events would change the champion's holdout,
// which 02-model-report checks against the registry (scripts/notebooks.sh
// trains again after it; the delete itself on a cluster is
// TestClusterInsertsShardByCustomerAndDeletesReachEveryShard's). It returns
// the running server for the notebooks; parent's end stops it.
func clusterRetentionCycle(t, parent *testing.T, cfg clickhouse.Config, c *clickhouse.Client) *servedQueue {
	ctx := context.Background()
	var last time.Time
	if err := c.Conn().QueryRow(ctx, "SELECT toStartOfMonth(max(day)) FROM usage_daily").Scan(&last); err != nil {
		t.Fatal(err)
	}
	// Prepaid labels need the horizon and the days of silence after it.
	cycle := last.AddDate(0, -3, 0).Format("2006-01-02")
	db := clusterFlags(cfg)
	for _, step := range [][]string{{"score", "--as-of", cycle}, {"actions", "plan"}} {
		if out, errOut, code := run(t, append(step, db...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", step, code, out, errOut)
		}
	}

	dir := t.TempDir()
	api := newServedQueue(t, buildChurn(t, dir), dir, "serve", cfg)
	// The server's scheduler runs no job by itself: the dispatch is started
	// through the API below, so that the messages are delivered before
	// simulate answers them.
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	api.env = append(api.env, "CHURN_CLICKHOUSE_CLUSTER="+cfg.Cluster, "CHURN_SCHEDULER=true", "CHURN_DISPATCH_CSV_DIR="+spool,
		"CHURN_SCHEDULE=train=manual;score=manual;actions=manual;dispatch=manual;outcomes=manual;drift=manual")
	parent.Cleanup(api.kill)
	api.start()
	waitQueued(t, api, cycle)
	delivered := dispatchThroughTheAPI(t, api, c, spool)

	out, errOut, code := run(t, append([]string{"actions", "simulate", "--api", "http://" + api.addr, "--key", testAdminKey,
		"--agents", "2", "--save-rate", "sms=0,email=0,offer=0,specialist_call=0",
		"--sleeping-dogs", "sms=0,email=0,offer=0,specialist_call=0"}, db...)...)
	m := regexp.MustCompile(`worked (\d+) actions`).FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] == "0" {
		t.Fatalf("simulate: exit %d\n%s%s", code, out, errOut)
	}
	worked, _ := strconv.Atoi(m[1])
	if changed := regexp.MustCompile(`churn events removed [1-9]|sleeping dogs woken [1-9]`).FindString(out); changed != "" {
		t.Errorf("simulate with the effect off changed churn_events (%s):\n%s", changed, out)
	}
	// Simulate works every queued action, the scheduled cycle's too: each
	// ends done (accepted, declined) or failed (unreachable), once.
	var ended, actions uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count(), uniqExact(action_id) FROM action_events WHERE event IN ('done', 'failed')").Scan(&ended, &actions); err != nil ||
		int(ended) != worked || int(actions) != worked {
		t.Errorf("action_events: %d done or failed events of %d actions (%v), simulate worked %d", ended, actions, err, worked)
	}

	// The answers of delivered messages, as the campaign system reports
	// them, are events of their own.
	if m := regexp.MustCompile(`answered (\d+) of (\d+) delivered messages`).FindStringSubmatch(out); m == nil {
		t.Errorf("simulate did not say how many messages it answered:\n%s", out)
	} else if m[1] == "0" || m[2] != strconv.Itoa(delivered) {
		t.Errorf("simulate answered %s of %s delivered messages, want some of the %d the dispatcher delivered:\n%s", m[1], m[2], delivered, out)
	} else {
		var got uint64
		if err := c.Conn().QueryRow(ctx, "SELECT count() FROM action_events WHERE event = 'answered'").Scan(&got); err != nil || strconv.FormatUint(got, 10) != m[1] {
			t.Errorf("action_events: %d answered events (%v), simulate answered %s", got, err, m[1])
		}
	}

	out, errOut, code = run(t, append([]string{"actions", "outcomes"}, db...)...)
	if code != 0 || !strings.Contains(out, "of cycles ["+cycle+"]") || strings.Contains(out, "labelled 0 customers") {
		t.Errorf("outcomes: exit %d, want cycle %s labelled\n%s%s", code, cycle, out, errOut)
	}
	out, errOut, code = run(t, append([]string{"actions", "report"}, db...)...)
	if code != 0 || !regexp.MustCompile(`(?m)^\s+all\s+\d+`).MatchString(out) {
		t.Errorf("report: exit %d, want a row for all treated customers\n%s%s", code, out, errOut)
	}
	return api
}

// dispatchThroughTheAPI starts the server's dispatch job (POST
// /v1/jobs/dispatch/run), waits for its run to succeed and returns how many
// email and sms actions it delivered: as many as the CSV files in spool
// hold rows, and as many as action_events records.
func dispatchThroughTheAPI(t *testing.T, api *servedQueue, c *clickhouse.Client, spool string) int {
	t.Helper()
	ctx := context.Background()
	if code, body, err := api.do(http.MethodPost, "/v1/jobs/dispatch/run", nil); err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /v1/jobs/dispatch/run: %d %s %v", code, body, err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		runs, err := c.JobRuns(ctx, "dispatch", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].Status == churn.JobSucceeded {
			break
		}
		if len(runs) == 1 && runs[0].Status == churn.JobFailed {
			t.Fatalf("the dispatch run failed: %s", runs[0].Error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dispatch run did not succeed within 60 s: %+v", runs)
		}
	}
	files, err := filepath.Glob(filepath.Join(spool, "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the dispatcher wrote no CSV file into %s (%v)", spool, err)
	}
	rows := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		rows += len(recs) - 1 // the header
	}
	var logged uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM action_events WHERE event = 'done' AND outcome = 'delivered'").Scan(&logged); err != nil ||
		rows == 0 || int(logged) != rows {
		t.Fatalf("the dispatcher wrote %d messages into %v; action_events records %d delivered (%v)", rows, files, logged, err)
	}
	return rows
}

// waitQueued waits until the server has loaded the plan of cycle (it reads
// the action log at each poll).
func waitQueued(t *testing.T, api *servedQueue, cycle string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		code, body, err := api.do(http.MethodGet, "/v1/actions?status=queued&limit=500", nil)
		if err == nil && code == http.StatusOK && strings.Contains(string(body), `"cycle":"`+cycle+`"`) {
			return
		}
	}
	t.Fatalf("the server did not queue the actions of cycle %s within 30 s", cycle)
}

// clusterNotebooks executes the notebooks (scripts/notebooks.sh) on the
// cluster database, through the node of cfg and the running API: their
// queries read the Distributed tables, and the `churn features` they call
// runs per shard.
func clusterNotebooks(t *testing.T, cfg clickhouse.Config, api *servedQueue) {
	py := exec.Command("/usr/bin/python3", "-c", "import nbconvert, ipykernel, clickhouse_driver, xgboost, sklearn, matplotlib")
	if out, err := py.CombinedOutput(); err != nil && os.Getenv("CI") != "true" {
		// CI installs them (the script does, as `make notebooks` does).
		t.Skipf("the notebooks' Python packages are missing (run `make notebooks` once): %v\n%s", err, out)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(repo, "scripts", "notebooks.sh"))
	cmd.Env = append(os.Environ(), "CHURN_CLICKHOUSE_ADDR="+cfg.Addr, "CHURN_CLICKHOUSE_DB="+cfg.Database,
		"CHURN_CLICKHOUSE_CLUSTER="+cfg.Cluster, "CHURN_API_URL=http://"+api.addr, "CHURN_API_KEY="+testAdminKey,
		"NOTEBOOK_OUT="+out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("notebooks on the cluster: %v\n%s", err, tail(string(b), 60))
	}
	for _, nb := range []string{"01-explore", "02-model-report", "03-retention"} {
		if _, err := os.Stat(filepath.Join(out, nb+".html")); err != nil {
			t.Errorf("no report of %s: %v", nb, err)
		}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "notebooks:") {
			t.Log(line)
		}
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n") + fmt.Sprintf("\n(%d lines)", len(lines))
}
