package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestSettingKindsParseAndReject checks each kind of setting against good
// text (and the value stored) and bad text (and the message).
func TestSettingKindsParseAndReject(t *testing.T) {
	var (
		d     time.Duration
		x     float64
		n     int
		b     bool
		addr  string
		opt   string
		e     string
		zone  string
		pairs []string
		orig  []string
	)
	cases := []struct {
		kind    string
		k       kind
		text    string
		want    any    // the stored value when the text is good
		wantErr string // the message when it is bad
		got     func() any
	}{
		{"duration", durationKind(&d, time.Second), "90s", 90 * time.Second, "", func() any { return d }},
		{"duration", durationKind(&d, time.Second), " 2h ", 2 * time.Hour, "", func() any { return d }},
		{"duration", durationKind(&d, time.Second), "10", nil, `"10" is not a duration such as 30s, 15m or 2h`, nil},
		{"duration", durationKind(&d, time.Second), "500ms", nil, "500ms is shorter than 1s", nil},
		{"duration", durationKind(&d, 0), "-1s", nil, "-1s is shorter than 0s", nil},
		{"float", floatKind(&x, 0, 1), "0.65", 0.65, "", func() any { return x }},
		{"float", floatKind(&x, 0, math.MaxFloat64), "1e3", 1000.0, "", func() any { return x }},
		{"float", floatKind(&x, 0, math.MaxFloat64), "-0.1", nil, "-0.1 is below the minimum 0", nil},
		{"float", floatKind(&x, 0, 1), "abc", nil, `"abc" is not a number`, nil},
		{"float", floatKind(&x, 0, 1), "NaN", nil, `"NaN" is not a number`, nil},
		{"float", floatKind(&x, 0, 1), "1.5", nil, "1.5 is above the maximum 1", nil},
		{"int", intKind(&n, 1, 100), "4", 4, "", func() any { return n }},
		{"int", intKind(&n, 1, 100), "101", nil, "101 is above the maximum 100", nil},
		{"int", intKind(&n, 1, 100), "4.5", nil, `"4.5" is not a whole number`, nil},
		{"int", intKind(&n, 1, 100), "0", nil, "0 is below the minimum 1", nil},
		{"bool", boolKind(&b), "yes", true, "", func() any { return b }},
		{"bool", boolKind(&b), "1", true, "", func() any { return b }},
		{"bool", boolKind(&b), "TRUE", true, "", func() any { return b }},
		{"bool", boolKind(&b), "0", false, "", func() any { return b }},
		{"bool", boolKind(&b), "no", false, "", func() any { return b }},
		{"bool", boolKind(&b), "false", false, "", func() any { return b }},
		{"bool", boolKind(&b), "maybe", nil, `"maybe" is not a boolean (true/false, 1/0, yes/no)`, nil},
		{"bool", boolKind(&b), "", nil, `"" is not a boolean (true/false, 1/0, yes/no)`, nil},
		{"addr", addrKind(&addr, false), "127.0.0.1:8080", "127.0.0.1:8080", "", func() any { return addr }},
		{"addr", addrKind(&addr, false), ":9000", ":9000", "", func() any { return addr }},
		{"addr", addrKind(&addr, false), "[::1]:9000", "[::1]:9000", "", func() any { return addr }},
		{"addr", addrKind(&addr, false), "x", nil, `"x" is not host:port, e.g. 127.0.0.1:8080`, nil},
		{"addr", addrKind(&addr, false), "", nil, `"" is not host:port`, nil},
		{"addr", addrKind(&addr, false), "h:http", nil, `"h:http" is not host:port: port "http" is not a number 0..65535`, nil},
		{"addr", addrKind(&addr, false), "h:70000", nil, `port "70000" is not a number 0..65535`, nil},
		{"optional addr", addrKind(&opt, true), "", "", "", func() any { return opt }},
		{"enum", enumKind(&e, "debug", "info"), "INFO", "info", "", func() any { return e }},
		{"enum", enumKind(&e, "debug", "info"), "loud", nil, `"loud" is not one of debug, info`, nil},
		{"zone", zoneKind(&zone), "Europe/Berlin", "Europe/Berlin", "", func() any { return zone }},
		{"zone", zoneKind(&zone), "Mars/Olympus", nil, `"Mars/Olympus" is not a time zone`, nil},
		{"pairs", pairsKind(&pairs, "NAME=DURATION", positiveDuration), "train = 6h; score=1h;", []string{"train=6h", "score=1h"}, "",
			func() any { return pairs }},
		{"pairs", pairsKind(&pairs, "NAME=DURATION", positiveDuration), "train", nil, `"train" is not NAME=VALUE`, nil},
		{"pairs", pairsKind(&pairs, "NAME=DURATION", positiveDuration), "train=0s", nil, "train: 0s is not a positive duration", nil},
		{"pairs", pairsKind(&pairs, "NAME=DURATION", positiveDuration), "train=soon", nil, `train: "soon" is not a duration`, nil},
		{"origins", originsKind(&orig), "https://dash.example.com/, http://127.0.0.1:3000", []string{"https://dash.example.com", "http://127.0.0.1:3000"}, "",
			func() any { return orig }},
		{"origins", originsKind(&orig), "*", []string{"*"}, "", func() any { return orig }},
		{"origins", originsKind(&orig), "dash.example.com", nil, `"dash.example.com" is not an origin`, nil},
		{"origins", originsKind(&orig), "https://dash.example.com/app", nil, `"https://dash.example.com/app" is not an origin`, nil},
		{"origins", originsKind(&orig), "ftp://dash.example.com", nil, `is not an origin`, nil},
	}
	for _, c := range cases {
		err := c.k.Set(c.text)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s %q: error %v, want %q", c.kind, c.text, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", c.kind, c.text, err)
			continue
		}
		if got := c.got(); !equalAny(got, c.want) {
			t.Errorf("%s %q: stored %v, want %v", c.kind, c.text, got, c.want)
		}
	}
}

func equalAny(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && strings.Join(as, "\n") == strings.Join(bs, "\n")
	}
	return a == b
}

// env is a fake environment for resolve.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestSettingPrecedenceIsFlagThenEnvThenDefault resolves one setting from
// each source, and checks that errors name the source that was used.
func TestSettingPrecedenceIsFlagThenEnvThenDefault(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		env       func(string) (string, bool)
		want      int
		source    string
		wantError string
	}{
		{"default", nil, env(), 36, fromDefault, ""},
		{"empty env counts as unset", nil, env("CHURN_N", ""), 36, fromDefault, ""},
		{"env over default", nil, env("CHURN_N", "12"), 12, fromEnv, ""},
		{"flag over env", []string{"--n", "7"}, env("CHURN_N", "12"), 7, fromFlag, ""},
		{"a good flag hides a bad env", []string{"--n=7"}, env("CHURN_N", "many"), 7, fromFlag, ""},
		{"bad env named", nil, env("CHURN_N", "many"), 0, fromEnv, `CHURN_N: "many" is not a whole number`},
		{"bad flag named", []string{"--n", "0"}, env(), 0, fromFlag, "--n: 0 is below the minimum 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n int
			s := &setting{Flag: "n", Env: "CHURN_N", Default: "36", Kind: intKind(&n, 1, 100)}
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			s.bind(fs)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			r, err := s.resolve(fs.Lookup("n"), c.env)
			if r.Source != c.source {
				t.Errorf("source %q, want %q", r.Source, c.source)
			}
			if c.wantError != "" {
				if err == nil || err.Error() != c.wantError {
					t.Fatalf("error %v, want %q", err, c.wantError)
				}
				return
			}
			if err != nil || n != c.want {
				t.Fatalf("value %d (%v), want %d", n, err, c.want)
			}
		})
	}
}

func TestFlagOnlySettingIgnoresTheEnvironment(t *testing.T) {
	var c config
	c.lookupEnv = env("", "true", "CHURN_INSECURE_NO_AUTH", "true")
	for _, s := range c.settings() {
		if s.Flag != "insecure-no-auth" {
			continue
		}
		r, err := s.resolve(nil, c.lookupEnv)
		if err != nil || r.Source != fromDefault || c.Serve.Insecure {
			t.Fatalf("insecure-no-auth from %s (%v): %v, want the default false", r.Source, err, c.Serve.Insecure)
		}
		return
	}
	t.Fatal("no insecure-no-auth setting")
}

func TestRepeatedListFlagAddsItemsAfterReplacingTheDefault(t *testing.T) {
	var items []string
	s := &setting{Flag: "schedule", Default: "train=manual", Kind: pairsKind(&items, "NAME=SPEC", nil)}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	s.bind(fs)
	if err := fs.Parse([]string{"--schedule", "score=@daily", "--schedule", "drift=manual;actions=manual"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.resolve(fs.Lookup("schedule"), env()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(items, ","); got != "score=@daily,drift=manual,actions=manual" {
		t.Fatalf("items %s", got)
	}
}

// TestEveryDefaultIsValid resolves the whole table with an empty
// environment: a default that fails its own validation is a bug.
func TestEveryDefaultIsValid(t *testing.T) {
	c := config{lookupEnv: env()}
	seenFlag, seenEnv := map[string]bool{}, map[string]bool{}
	for _, s := range c.settings() {
		if _, err := s.resolve(nil, c.lookupEnv); err != nil {
			t.Errorf("--%s: %v", s.Flag, err)
		}
		if seenFlag[s.Flag] || (s.Env != "" && seenEnv[s.Env]) {
			t.Errorf("--%s / %s is defined twice", s.Flag, s.Env)
		}
		seenFlag[s.Flag], seenEnv[s.Env] = true, true
		if s.Help == "" || s.Scope == "" {
			t.Errorf("--%s lacks help or scope", s.Flag)
		}
	}
}

// TestBadEnvironmentVariableFailsTheCommandNamingIt runs commands with one
// bad variable each: every one must exit 2 before doing any work (no
// ClickHouse needed) and name the variable and the problem.
func TestBadEnvironmentVariableFailsTheCommandNamingIt(t *testing.T) {
	cases := []struct {
		env, value string
		args       []string
		want       string
	}{
		{"CHURN_QUEUE_OWNER", "maybe", []string{"serve"}, `CHURN_QUEUE_OWNER: "maybe" is not a boolean (true/false, 1/0, yes/no)`},
		{"CHURN_SCHEDULER", "nope", []string{"serve", "--insecure-no-auth"}, `CHURN_SCHEDULER: "nope" is not a boolean`},
		{"CHURN_HTTP_ADDR", "x", []string{"serve"}, `CHURN_HTTP_ADDR: "x" is not host:port`},
		{"CHURN_POLL_INTERVAL", "5", []string{"serve"}, `CHURN_POLL_INTERVAL: "5" is not a duration`},
		{"CHURN_HISTORY_LIMIT", "lots", []string{"serve"}, `CHURN_HISTORY_LIMIT: "lots" is not a whole number`},
		{"CHURN_DRIFT_PSI_THRESHOLD", "abc", []string{"jobs", "list"}, `CHURN_DRIFT_PSI_THRESHOLD: "abc" is not a number`},
		{"CHURN_DRIFT_AUC_FLOOR", "1.2", []string{"jobs", "run", "drift"}, `CHURN_DRIFT_AUC_FLOOR: 1.2 is above the maximum 1`},
		{"CHURN_JOB_TIMEOUTS", "train=forever", []string{"jobs", "list"}, `CHURN_JOB_TIMEOUTS: train: "forever" is not a duration`},
		{"CHURN_SCORES_KEEP_MONTHS", "-1", []string{"jobs", "run", "prune"}, `CHURN_SCORES_KEEP_MONTHS: -1 is below the minimum 0`},
		{"CHURN_SCORES_KEEP_MONTHS", "2", []string{"jobs", "list"}, `CHURN_SCORES_KEEP_MONTHS: 2 months would drop the runs the drift check labels`},
		{"CHURN_TIMEZONE", "Mars/Olympus", []string{"jobs", "list"}, `CHURN_TIMEZONE: "Mars/Olympus" is not a time zone`},
		{"CHURN_METRICS_ADDR", "9101", []string{"jobs", "run-scheduler"}, `CHURN_METRICS_ADDR: "9101" is not host:port`},
		{"CHURN_LOG_LEVEL", "loud", []string{"status"}, `CHURN_LOG_LEVEL: "loud" is not one of debug, info, warn, error`},
		{"CHURN_CLICKHOUSE_ADDR", "nocolon", []string{"status"}, `CHURN_CLICKHOUSE_ADDR: "nocolon" is not host:port`},
	}
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			_, errOut, code := run(t, c.args...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Fatalf("%v with %s=%s: exit %d, stderr %q; want exit 2 and %q", c.args, c.env, c.value, code, errOut, c.want)
			}
		})
	}
}

func TestBadFlagFailsTheCommandNamingIt(t *testing.T) {
	_, errOut, code := run(t, "serve", "--queue-owner=maybe")
	if want := `--queue-owner: "maybe" is not a boolean (true/false, 1/0, yes/no)`; code != 2 || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, errOut, want)
	}
}

func TestABadVariableOfAnotherCommandDoesNotStopThisOne(t *testing.T) {
	t.Setenv("CHURN_QUEUE_OWNER", "maybe") // serve only
	out, errOut, code := run(t, "policy", "show")
	if code != 0 {
		t.Fatalf("policy show: exit %d: %s", code, errOut)
	}
	if want := "cycles archived once labelled and 90 days behind the data"; !strings.Contains(out, want) {
		t.Errorf("policy show lacks %q:\n%s", want, out)
	}
}

func TestConfigListsEverySettingOfTheTable(t *testing.T) {
	out, errOut, code := run(t, "config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range (&config{}).settings() {
		if !strings.Contains(out, "--"+s.Flag+" ") || (s.Env != "" && !strings.Contains(out, s.Env+" ")) {
			t.Errorf("config lacks --%s (%s):\n%s", s.Flag, s.Env, out)
		}
	}
}

// wantAll reports each of wants that text (named what) lacks.
func wantAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// TestConfigShowsSourcesMasksSecretsAndMarksBadValues: `churn config` names
// where each value came from, never prints a secret, and with bad values
// still prints the rest, marks them and exits 2 naming each one.
func TestConfigShowsSourcesMasksSecretsAndMarksBadValues(t *testing.T) {
	cases := []struct {
		name      string
		env, args []string
		code      int
		out, err  []string
	}{
		{"sources", []string{"CHURN_CLICKHOUSE_PASSWORD", "s3cret", "CHURN_CLICKHOUSE_DB", "fromenv"}, []string{"--http-addr", "127.0.0.1:9999"}, 0,
			[]string{"********", "fromenv", "env CHURN_CLICKHOUSE_DB", "127.0.0.1:9999", "flag --http-addr", "127.0.0.1:9000"}, nil},
		{"bad values", []string{"CHURN_QUEUE_OWNER", "maybe", "CHURN_API_KEYS", "admin:s3cret"}, []string{"--log-format", "xml"}, 2,
			[]string{"env CHURN_QUEUE_OWNER (invalid)", "flag --log-format (invalid)", "CHURN_CLICKHOUSE_DB"},
			[]string{`CHURN_QUEUE_OWNER: "maybe"`, `--log-format: "xml" is not one of text, json`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := 0; i+1 < len(c.env); i += 2 {
				t.Setenv(c.env[i], c.env[i+1])
			}
			out, errOut, code := run(t, append([]string{"config"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, c.code, errOut)
			}
			if strings.Contains(out, "s3cret") {
				t.Fatalf("config printed a secret:\n%s", out)
			}
			wantAll(t, "config output", out, c.out...)
			wantAll(t, "stderr", errOut, c.err...)
		})
	}
}

func TestPolicyComesFromTheEnvironmentWhenNoFlagIsGiven(t *testing.T) {
	t.Setenv("CHURN_POLICY", "/no/such/policy.yaml")
	_, errOut, code := run(t, "policy", "show")
	if code == 0 || !strings.Contains(errOut, "/no/such/policy.yaml") {
		t.Fatalf("exit %d, stderr %q: want the file of CHURN_POLICY to be read", code, errOut)
	}
}
