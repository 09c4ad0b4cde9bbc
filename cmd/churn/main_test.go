package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/model/liblinear"
)

// TestMain lets the test binary serve as the liblinear child that training
// starts (the helper-process pattern).
func TestMain(m *testing.M) { os.Exit(liblinear.RunChildOr(m.Run)) }

// run executes the CLI in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCtx(t, context.Background(), args...)
}

// runCtx is run until ctx is cancelled, as SIGTERM would stop the command.
func runCtx(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(dir + "/out")
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(dir + "/err")
	if err != nil {
		t.Fatal(err)
	}
	code := execute(ctx, args, out, errf)
	out.Close()
	errf.Close()
	o, _ := os.ReadFile(dir + "/out")
	e, _ := os.ReadFile(dir + "/err")
	return string(o), string(e), code
}

func TestHelpHidesAPasswordFromTheEnvironment(t *testing.T) {
	t.Setenv("CHURN_CLICKHOUSE_PASSWORD", "s3cret")
	out, _, _ := run(t, "status", "--help")
	if strings.Contains(out, "s3cret") {
		t.Fatalf("--help printed the password:\n%s", out)
	}
}

func TestStatusWithoutClickHouseExitsWithAHint(t *testing.T) {
	// Port 1 on loopback: nothing listens there.
	_, errOut, code := run(t, "status", "--clickhouse-addr", "127.0.0.1:1")
	if code != 3 {
		t.Fatalf("exit code %d, want 3 (unavailable); stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"127.0.0.1:1", "make clickhouse"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"status", "--no-such-flag"},
		{"status", "--clickhouse-addr", "nocolon"},
		{"status", "--log-level", "loud"},
		{"actions", "list", "--status", "bogus"},
		{"actions", "list", "--tier", "Z"},
		{"actions", "list", "--kind", "call"},
		{"actions", "list", "--cycle", "2025-13-01"},
		{"actions", "list", "--limit", "-5"},
	} {
		_, errOut, code := run(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr: %s", args, code, errOut)
		}
	}
}

// TestTheBinaryExitsWithTheCodeOfItsError runs the built executable, whose
// main also handles signals: until session 27 its exit code was 130
// (stopped) for every error, since ending the signal handling cancels the
// context it then read.
func TestTheBinaryExitsWithTheCodeOfItsError(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildChurn(t, t.TempDir())
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, 0},
		{[]string{"status", "--no-such-flag"}, 2},
		{[]string{"status", "--clickhouse-addr", "127.0.0.1:1"}, 3},
	} {
		cmd := exec.Command(bin, c.args...)
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != c.want {
			t.Errorf("churn %v: exit %d (%v), want %d:\n%s", c.args, code, err, c.want, out)
		}
	}
}

func TestMigrateThenStatusOnAFreshDatabase(t *testing.T) {
	chtest.Require(t)
	cfg := chtest.Config()
	args := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	out, errOut, code := run(t, append([]string{"migrate"}, args...)...)
	if code != 0 {
		t.Fatalf("migrate exit %d: %s", code, errOut)
	}
	t.Cleanup(func() {
		c, err := openForCleanup(cfg.Addr, cfg.Database)
		if err == nil {
			_ = c.DropDatabase(context.Background())
			c.Close()
		}
	})
	if !strings.Contains(out, "applied 0001_contract_tables") {
		t.Fatalf("migrate output:\n%s", out)
	}
	out, _, code = run(t, append([]string{"migrate"}, args...)...)
	if code != 0 || !strings.Contains(out, "(0 migrations applied now)") {
		t.Fatalf("second migrate (exit %d):\n%s", code, out)
	}
	out, errOut, code = run(t, append([]string{"status"}, args...)...)
	if code != 0 {
		t.Fatalf("status exit %d: %s", code, errOut)
	}
	for _, want := range []string{"usage_daily", "churn_events", "no champion yet", "schema version"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "churn migrate") {
		t.Errorf("status of a migrated database asks for a migrate:\n%s", out)
	}
}

func TestStatusSaysWhenTheSchemaIsBehindAndNamesBothChampions(t *testing.T) {
	var b strings.Builder
	printStatus(&b, "127.0.0.1:9000", clickhouse.Status{Server: "18.16.1", Database: "churn", SchemaVersion: 19, SchemaLatest: 20,
		Models: 3, Champion: 2, UpliftChampion: 3})
	for _, want := range []string{"schema version 19 (this version of churn needs 20: run `churn migrate`)",
		"models: 3 in the registry, champion version 2, uplift champion version 3"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}

func openForCleanup(addr, db string) (*clickhouse.Client, error) {
	return clickhouse.Open(context.Background(), clickhouse.Config{Addr: addr, Database: db}, nil)
}

// An output that cannot be written is refused before any work (a
// snapshot at a million customers takes minutes), naming the flag.
func TestAnOutputThatCannotBeWrittenIsRefusedFirst(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"features", "--out", filepath.Join(dir, "missing", "x.csv"), "--clickhouse-addr", "127.0.0.1:1"},
		{"features", "--out", dir, "--clickhouse-addr", "127.0.0.1:1"},
		{"predict", "--model", filepath.Join(dir, "m.json"), "--csv", filepath.Join(dir, "in.csv"), "--out", filepath.Join(dir, "missing", "p.csv")},
		{"train", "--csv", filepath.Join(dir, "in.csv"), "--label", "y", "--out", filepath.Join(dir, "missing", "m.json")},
	} {
		_, errOut, code := run(t, args...)
		if code != 2 || !strings.Contains(errOut, "--out") {
			t.Errorf("%v: exit %d, want 2 naming --out (before ClickHouse or the input): %s", args, code, errOut)
		}
	}
}
