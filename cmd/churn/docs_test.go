package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model/liblinear"
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
			noEnv := func(string) (string, bool) { return "", false }
			if err := resolveFlags(cmd.Flags(), noEnv); err != nil {
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
	if n != len(dataset.Tables) {
		t.Fatalf("the example imports %d tables, want all %d contract tables", n, len(dataset.Tables))
	}
	for table, want := range map[string]uint64{"customers": 5, "usage_daily": 6, "churn_events": 3, "reactivations": 1, "topups": 2, "contract_terms": 3} {
		var got uint64
		if err := c.Conn().QueryRow(context.Background(), "SELECT count() FROM "+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s has %d rows after the documented import, want %d", table, got, want)
		}
	}
}

// settingRow is the line of docs/operations.md's configuration table for s.
func settingRow(s *setting) string {
	env, def := "(flag only)", "(empty)"
	if s.Env != "" {
		env = "`" + s.Env + "`"
	}
	switch {
	case s.Default != "":
		def = "`" + s.Default + "`"
	case s.Unset != "":
		def = s.Unset
	}
	help := s.Help
	if s.Secret {
		help += " (secret: masked in output)"
	}
	return fmt.Sprintf("| %s | `--%s` | %s | %s | %s |", env, s.Flag, def, s.Scope, help)
}

// TestDocsListEverySetting checks that the configuration table of
// docs/operations.md has one row per setting, as the settings table defines
// it, and no variable the binary does not read.
func TestDocsListEverySetting(t *testing.T) {
	doc := readRepoFile(t, "docs/operations.md")
	known := map[string]bool{}
	for _, s := range (&config{}).settings() {
		known[s.Env] = true
		if row := settingRow(s); !strings.Contains(doc, row+"\n") {
			t.Errorf("docs/operations.md lacks the row of --%s (or it is out of date); want\n%s", s.Flag, row)
		}
	}
	notOurSettings := map[string]bool{
		"CHURN_API_URL": true, "CHURN_API_KEY": true, // read by the notebooks, not by churn
		liblinear.ChildEnv: true, // marks the liblinear child process; set by churn itself
	}
	for _, path := range []string{"README.md", "docs/operations.md", "docs/scaling.md", "docs/api.md"} {
		for _, m := range regexp.MustCompile("`(CHURN_[A-Z_]+)[`=]").FindAllStringSubmatch(readRepoFile(t, path), -1) {
			if !known[m[1]] && !notOurSettings[m[1]] && !strings.HasPrefix(m[1], "CHURN_TEST_") {
				t.Errorf("%s names %s, which no setting reads", path, m[1])
			}
		}
	}
}
