package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse/chtest"
)

// Tests of the operations files in docs/: alert rules, units, dashboard,
// data contract, backup commands and the scaling page's Distributed table.

// requireTool skips without the program, except in CI where it must exist.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (scripts/deps.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func runTool(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestDocsPrometheusConfigAndAlertRulesPassPromtool(t *testing.T) {
	promtool := requireTool(t, "promtool")
	dir := filepath.Join(repo, "docs", "prometheus")
	runTool(t, dir, promtool, "check", "config", "prometheus.yml")
	runTool(t, dir, promtool, "check", "rules", "churn-alerts.yml")
	runTool(t, dir, promtool, "test", "rules", "churn-alerts.test.yml")
}

func TestDocsSystemdUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	units, _ := filepath.Glob(filepath.Join(repo, "docs", "deploy", "churn*"))
	if len(units) != 3 {
		t.Fatalf("want 3 units in docs/deploy, found %v", units)
	}
	var names []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		// The binary is not installed here; any executable stands in for it.
		b = []byte(strings.ReplaceAll(string(b), "/usr/local/bin/churn", "/bin/true"))
		name := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	out, _ := exec.Command(sa, append([]string{"verify", "--man=no"}, names...)...).CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// Only problems in our units count, not the host's other units.
		if strings.HasPrefix(line, "churn") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// servedMetrics are the churn_* metric names the service registers, read from
// its source: the dashboard and alerts must only use these.
func servedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	// The dispatch job's metrics are served by churn serve's scheduler too.
	src := readRepoFile(t, "serve/metrics.go") + readRepoFile(t, "jobs/dispatch.go")
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(churn_[a-z_]+)"`).FindAllStringSubmatch(src, -1) {
		out[m[1]] = true
	}
	if len(out) < 8 {
		t.Fatalf("found only %d metric names in serve/metrics.go", len(out))
	}
	return out
}

func checkMetricNames(t *testing.T, file, text string, served map[string]bool) {
	t.Helper()
	used := regexp.MustCompile(`churn_[a-z_]+`).FindAllString(text, -1)
	for _, name := range used {
		base := name
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if served[strings.TrimSuffix(name, suffix)] {
				base = strings.TrimSuffix(name, suffix)
			}
		}
		if !served[base] && !strings.HasPrefix(name, "churn_cluster") {
			t.Errorf("%s uses %s, which churn serve does not export", file, name)
		}
	}
}

func TestDocsDashboardAndAlertsUseServedMetricsAndValidSQL(t *testing.T) {
	served := servedMetrics(t)
	checkMetricNames(t, "churn-alerts.yml", readRepoFile(t, "docs/prometheus/churn-alerts.yml"), served)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr   string `json:"expr"`
				RawSQL string `json:"rawSql"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, "docs/grafana/churn-dashboard.json")), &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	c, cfg := chtest.NewDB(t)
	var exprs, sqls int
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if tg.Expr != "" {
				exprs++
				checkMetricNames(t, "dashboard panel "+p.Title, tg.Expr, served)
			}
			if tg.RawSQL != "" {
				sqls++
				q := strings.ReplaceAll(tg.RawSQL, "${database}", cfg.Database)
				rows, err := c.Conn().Query(context.Background(), q)
				if err != nil {
					t.Errorf("dashboard panel %q: SQL fails on ClickHouse: %v", p.Title, err)
					continue
				}
				rows.Close()
			}
		}
	}
	if exprs < 6 || sqls < 1 {
		t.Fatalf("dashboard has %d Prometheus and %d ClickHouse queries; want panels from both", exprs, sqls)
	}
}

func TestDocsDataContractNamesEveryColumn(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	doc := readRepoFile(t, "docs/data-contract.md")
	rows, err := c.Conn().Query(context.Background(),
		"SELECT table, name, type FROM system.columns WHERE database = ? ORDER BY table", cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	sections := map[string]string{}
	for _, s := range strings.Split(doc, "\n### ")[1:] {
		name, body, _ := strings.Cut(s, "\n")
		sections[strings.TrimSpace(name)] = body
	}
	n := 0
	for rows.Next() {
		var table, col, typ string
		if err := rows.Scan(&table, &col, &typ); err != nil {
			t.Fatal(err)
		}
		n++
		body, ok := sections[table]
		if !ok {
			t.Errorf("docs/data-contract.md has no section \"### %s\"", table)
			sections[table] = "" // report a missing table once
			continue
		}
		if !strings.Contains(body, "| `"+col+"` | "+typ+" |") {
			t.Errorf("docs/data-contract.md, %s: no row \"| `%s` | %s |\"", table, col, typ)
		}
	}
	if n < 50 {
		t.Fatalf("read only %d columns of the migrated schema", n)
	}
}

// docBlockAfter returns the body of the first ```sh block after marker.
func docBlockAfter(t *testing.T, doc, marker string) string {
	t.Helper()
	_, after, ok := strings.Cut(doc, marker)
	if !ok {
		t.Fatalf("docs lack %q", marker)
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatalf("no ```sh block after %q", marker)
	}
	body, _, _ := strings.Cut(block, "```")
	return body
}

func TestDocsBackupAndRestoreRoundTrip(t *testing.T) {
	requireTool(t, "clickhouse-client")
	if chtest.Addr() != "127.0.0.1:9000" && chtest.Addr() != "localhost:9000" {
		t.Skip("the documented commands use clickhouse-client's default server")
	}
	src, srcCfg := chtest.NewDB(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	day := now.Truncate(24 * time.Hour)
	if err := src.InsertColumns(ctx, "score_runs", []string{"run_id", "as_of", "model_version", "status", "at", "rows", "error"},
		[]any{[]string{"r1", "r1"}, []time.Time{day, day}, []uint32{1, 1}, []string{"started", "finished"},
			[]time.Time{now, now}, []uint64{0, 2}, []string{"", ""}}); err != nil {
		t.Fatal(err)
	}
	if err := src.InsertColumns(ctx, "scores", []string{"run_id", "as_of", "customer_id", "model_version", "probability", "band", "tier", "lifetime_value", "expected_loss", "reasons"},
		[]any{[]string{"r1", "r1"}, []time.Time{day, day}, []string{"C1", "C2"}, []uint32{1, 1}, []float32{0.5, 0.1},
			[]string{"high", "low"}, []string{"A", "C"}, []float32{100, 10}, []float32{50, 1}, []string{"[]", "[]"}}); err != nil {
		t.Fatal(err)
	}
	ops := readRepoFile(t, "docs/operations.md")
	dir := t.TempDir()
	shell := func(block, db string) {
		t.Helper()
		script := regexp.MustCompile(`DB=churn; DIR=[^;\n]*;?`).ReplaceAllString(block, "DB="+db+"; DIR="+dir+";")
		if script == block {
			t.Fatalf("block does not start with DB=churn; DIR=...:\n%s", block)
		}
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s\n%s", err, script, out)
		}
	}
	shell(docBlockAfter(t, ops, "`TestDocsBackupAndRestoreRoundTrip` runs:"), srcCfg.Database)
	dst, dstCfg := chtest.NewDB(t)
	shell(docBlockAfter(t, ops, "Restore into a database"), dstCfg.Database)
	for _, table := range []string{"score_runs", "scores"} {
		var a, b uint64
		q := "SELECT count() FROM " + table
		if err := src.Conn().QueryRow(ctx, q).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := dst.Conn().QueryRow(ctx, q).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a == 0 || a != b {
			t.Errorf("%s: %d rows backed up, %d restored", table, a, b)
		}
	}
}

func TestDocsDistributedTableOverTheScoresTable(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	var clusters uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = 'test_shard_localhost'").Scan(&clusters); err != nil {
		t.Fatal(err)
	}
	if clusters == 0 {
		t.Skip("the server has no test_shard_localhost cluster")
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	if err := c.InsertColumns(ctx, "scores", []string{"run_id", "as_of", "customer_id", "model_version", "probability", "band", "tier", "lifetime_value", "expected_loss", "reasons"},
		[]any{[]string{"r1", "r1"}, []time.Time{day, day}, []string{"C1", "C2"}, []uint32{1, 1}, []float32{0.5, 0.1},
			[]string{"high", "low"}, []string{"A", "C"}, []float32{100, 10}, []float32{50, 1}, []string{"[]", "[]"}}); err != nil {
		t.Fatal(err)
	}
	// The statement of docs/scaling.md, on the local test cluster.
	ddl := "CREATE TABLE " + cfg.Database + ".scores_all AS " + cfg.Database + ".scores " +
		"ENGINE = Distributed(test_shard_localhost, " + cfg.Database + ", scores, cityHash64(customer_id))"
	if !strings.Contains(readRepoFile(t, "docs/scaling.md"), "ENGINE = Distributed(churn_cluster, churn, usage_daily_local, cityHash64(customer_id))") {
		t.Fatal("docs/scaling.md no longer shows the Distributed engine this test exercises")
	}
	if err := c.Conn().Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM scores_all WHERE band = 'high'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("read %d high-band scores through the Distributed table, want 1", n)
	}
}
