package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/features"
)

// repo is the repository root, seen from this package's directory.
const repo = "../.."

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDocsFeatureCatalogueIsUpToDate(t *testing.T) {
	out, errOut, code := run(t, "features", "catalog")
	if code != 0 {
		t.Fatalf("churn features catalog: exit %d: %s", code, errOut)
	}
	if got := readRepoFile(t, catalogPath); got != out {
		t.Fatalf("%s is stale: the feature registry changed. Run `make docs` and commit %s.", catalogPath, catalogPath)
	}
	for _, f := range features.Registry() {
		if !strings.Contains(out, "| `"+f.Name+"` |") {
			t.Errorf("catalogue lacks feature %s", f.Name)
		}
	}
}

func TestDocsCatalogueTitlesEveryFamily(t *testing.T) {
	titled := map[string]bool{}
	for _, ft := range familyTitles {
		titled[ft.family] = true
	}
	for _, f := range features.Registry() {
		if !titled[f.Family] {
			t.Errorf("feature %s: family %q has no title in familyTitles, so the catalogue would leave it out", f.Name, f.Family)
		}
	}
}

func TestNotebooksAreCommittedWithoutOutputs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(repo, "notebooks", "*.ipynb"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("want the three notebooks, found %v (%v)", paths, err)
	}
	for _, p := range paths {
		var nb struct {
			Cells []struct {
				CellType       string            `json:"cell_type"`
				Outputs        []json.RawMessage `json:"outputs"`
				ExecutionCount *int              `json:"execution_count"`
			} `json:"cells"`
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &nb); err != nil {
			t.Fatalf("%s: not a notebook: %v", p, err)
		}
		for i, c := range nb.Cells {
			if len(c.Outputs) > 0 || c.ExecutionCount != nil {
				t.Errorf("%s: cell %d has outputs; strip them with `bash scripts/notebooks.sh --strip`", filepath.Base(p), i)
			}
		}
	}
}

// shellBlocks returns the lines of the ```sh blocks of a Markdown file.
func shellBlocks(text string) []string {
	var out []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in:
			out = append(out, line)
		}
	}
	return out
}

// churnArgs returns the arguments of a `bin/churn ...` command line, up to a
// shell operator or comment, with simple quotes removed.
func churnArgs(line string) ([]string, bool) {
	i := strings.Index(line, "bin/churn ")
	if i < 0 {
		return nil, false
	}
	var args []string
	for _, f := range strings.Fields(line[i+len("bin/churn "):]) {
		if f == "#" || f == "|" || f == ">" || f == "&&" || f == ";" || strings.HasPrefix(f, "2>") {
			break
		}
		args = append(args, strings.Trim(f, `"'`))
	}
	return args, true
}

func TestDocsCommandsParse(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	docs = append(docs, filepath.Join(repo, "README.md"), filepath.Join(repo, "notebooks", "README.md"))
	makefile := readRepoFile(t, "Makefile")
	checked := 0
	for _, path := range docs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range shellBlocks(string(b)) {
			if m := regexp.MustCompile(`^\s*(?:[A-Z_]+=\S+ )*make ([a-z]+)`).FindStringSubmatch(line); m != nil {
				if !regexp.MustCompile(`(?m)^` + m[1] + `:`).MatchString(makefile) {
					t.Errorf("%s: `make %s` is not a Makefile target", filepath.Base(path), m[1])
				}
				checked++
				continue
			}
			args, ok := churnArgs(line)
			if !ok {
				continue
			}
			root := newRootCmd(os.Stdout, os.Stderr)
			cmd, rest, err := root.Find(args)
			if err == nil && cmd == root && (len(rest) == 0 || !strings.HasPrefix(rest[0], "-")) {
				err = errors.New("no subcommand")
			}
			if err != nil {
				t.Errorf("%s: %q: no such command (%v)", filepath.Base(path), line, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil && !errors.Is(err, pflag.ErrHelp) {
				t.Errorf("%s: %q: %v", filepath.Base(path), line, err)
				continue
			}
			if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
				t.Errorf("%s: %q: %v", filepath.Base(path), line, err)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d commands in the docs; is the ```sh block detection broken?", checked)
	}
}

func TestDocsImportExampleLoadsTheSampleFiles(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	db := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	n := 0
	for _, line := range shellBlocks(readRepoFile(t, "docs/data-contract.md")) {
		args, ok := churnArgs(line)
		if !ok {
			continue
		}
		for i, a := range args {
			if strings.HasPrefix(a, "dataset/") {
				args[i] = filepath.Join(repo, a)
			}
		}
		if _, errOut, code := run(t, append(args, db...)...); code != 0 {
			t.Fatalf("%s: exit %d: %s", line, code, errOut)
		}
		if args[0] == "import" {
			n++
		}
	}
	if n != 7 {
		t.Fatalf("the example imports %d tables, want all 7 contract tables", n)
	}
	for table, want := range map[string]uint64{"customers": 5, "usage_daily": 6, "churn_events": 2} {
		var got uint64
		if err := c.Conn().QueryRow(context.Background(), "SELECT count() FROM "+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s has %d rows after the documented import, want %d", table, got, want)
		}
	}
}

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
	src := readRepoFile(t, "serve/metrics.go")
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
