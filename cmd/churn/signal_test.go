package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// stopDeadline is how long a command may take to exit after SIGTERM.
const stopDeadline = 5 * time.Second

// cli runs the churn binary against one test database.
type cli struct {
	t   *testing.T
	bin string
	env []string
}

func newCLI(t *testing.T, cfg clickhouse.Config) *cli {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "churn")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build churn: %v\n%s", err, out)
	}
	return &cli{t: t, bin: bin, env: append(os.Environ(), "CHURN_CLICKHOUSE_ADDR="+cfg.Addr, "CHURN_CLICKHOUSE_DB="+cfg.Database)}
}

// run runs a command to the end and fails the test unless it succeeds.
func (c *cli) run(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("churn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// stopped is what became of a command sent SIGTERM.
type stopped struct {
	signalled bool          // false when it exited before the trigger
	took      time.Duration // from SIGTERM to exit
	code      int
	stderr    string
}

// terminate starts a command and sends it SIGTERM when its stderr shows
// marker (immediately when marker is empty) and then after delay. It waits
// for the exit.
func (c *cli) terminate(marker string, delay time.Duration, args ...string) stopped {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	pipe, err := cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		stderr bytes.Buffer
	)
	seen := make(chan struct{})
	if marker == "" {
		close(seen)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			mu.Lock()
			stderr.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if marker != "" && strings.Contains(sc.Text(), marker) {
				close(seen)
				marker = ""
			}
		}
	}()
	exited := make(chan struct{})
	var waitErr error
	go func() {
		<-read
		waitErr = cmd.Wait()
		close(exited)
	}()
	var res stopped
	select {
	case <-seen:
		select {
		case <-time.After(delay):
		case <-exited:
		}
	case <-exited:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		c.t.Fatalf("churn %s: no %q in two minutes", strings.Join(args, " "), marker)
	}
	select {
	case <-exited:
	default:
		res.signalled = true
		sent := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			c.t.Fatal(err)
		}
		select {
		case <-exited:
			res.took = time.Since(sent)
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
			res.took = time.Since(sent)
		}
	}
	res.code = cmd.ProcessState.ExitCode()
	_ = waitErr
	mu.Lock()
	res.stderr = stderr.String()
	mu.Unlock()
	return res
}

// models counts the registry's versions.
func models(t *testing.T, c *clickhouse.Client) int {
	t.Helper()
	ms, err := c.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func TestSIGTERMStopsTrainScoreAndImportWithinFiveSecondsLeavingNothingPartial(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains on seeded data")
	}
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	churn := newCLI(t, cfg)
	churn.run("seed", "--customers", "3000", "--months", "10", "--seed", "3")

	// Each stage of `churn train`: the snapshot queries, the first
	// candidate, the later ones. The run must stop in time and store no
	// model, or (if it finished first) store all of them.
	for _, st := range []struct {
		name, marker string
		delay        time.Duration
	}{
		{"while computing snapshots", "", 300 * time.Millisecond},
		{"when training starts", "snapshots computed", 0},
		{"after the first candidate", "candidate trained", 0},
	} {
		t.Run("train "+st.name, func(t *testing.T) {
			before := models(t, c)
			r := churn.terminate(st.marker, st.delay, "train", "--snapshots", "3")
			t.Logf("signalled %v, stopped in %s, exit %d", r.signalled, r.took, r.code)
			if !r.signalled {
				t.Fatalf("train finished before the signal; stderr:\n%s", r.stderr)
			}
			if r.took > stopDeadline {
				t.Errorf("train took %s to stop after SIGTERM, want <= %s; stderr:\n%s", r.took, stopDeadline, r.stderr)
			}
			if r.code != exitStopped {
				t.Errorf("train exited %d after SIGTERM %s, want %d; stderr:\n%s", r.code, st.name, exitStopped, r.stderr)
			}
			if after := models(t, c); after != before {
				t.Errorf("a stopped train left %d new models", after-before)
			}
		})
	}

	// A champion to score with, then scoring stopped at a few points: no
	// finished run may lack rows.
	churn.run("train", "--snapshots", "3")
	for _, delay := range []time.Duration{50 * time.Millisecond, 400 * time.Millisecond, 1500 * time.Millisecond} {
		t.Run(fmt.Sprintf("score after %s", delay), func(t *testing.T) {
			before, err := c.LatestFinishedRun(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r := churn.terminate("", delay, "score")
			t.Logf("signalled %v, stopped in %s, exit %d", r.signalled, r.took, r.code)
			if r.took > stopDeadline {
				t.Errorf("score took %s to stop after SIGTERM", r.took)
			}
			after, err := c.LatestFinishedRun(ctx)
			if err != nil {
				t.Fatal(err)
			}
			changed := after != nil && (before == nil || after.ID != before.ID)
			switch {
			case r.code != 0 && changed:
				t.Errorf("score failed (exit %d) but left the finished run %s", r.code, after.ID)
			case r.code == 0 && !changed:
				t.Errorf("score succeeded but no new finished run")
			case changed:
				var n uint64
				if err := c.Conn().QueryRow(ctx, "SELECT count() FROM scores WHERE run_id = ?", after.ID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if int64(n) != after.Rows || n == 0 {
					t.Errorf("finished run %s holds %d of its %d rows", after.ID, n, after.Rows)
				}
			}
		})
	}

	// An import of new usage rows stopped while it loads leaves the table as
	// it was.
	t.Run("import", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "usage.csv")
		var b strings.Builder
		b.WriteString("customer_id,day,voice_minutes,data_mb,sms,calls,intl_minutes,roaming_minutes,dropped_calls\n")
		ids := customerIDs(t, c, 3000)
		day := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
		for d := range 100 {
			for _, id := range ids {
				fmt.Fprintf(&b, "%s,%s,12.5,800,3,4,0,0,0\n", id, day.AddDate(0, 0, d).Format(time.DateOnly))
			}
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		count := func() uint64 {
			var n uint64
			if err := c.Conn().QueryRow(ctx, "SELECT count() FROM usage_daily").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		r := churn.terminate("", 700*time.Millisecond, "import", "--table", "usage_daily", "--csv", file, "--block-rows", "20000")
		t.Logf("signalled %v, stopped in %s, exit %d", r.signalled, r.took, r.code)
		if r.took > stopDeadline {
			t.Errorf("import took %s to stop after SIGTERM; stderr:\n%s", r.took, r.stderr)
		}
		if after := count(); r.code != 0 && after != before {
			t.Errorf("a stopped import changed usage_daily from %d to %d rows", before, after)
		}
	})
}

// customerIDs returns up to n stored customer ids.
func customerIDs(t *testing.T, c *clickhouse.Client, n int) []string {
	t.Helper()
	rows, err := c.Conn().Query(context.Background(), "SELECT customer_id FROM customers ORDER BY customer_id LIMIT ?", n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}
