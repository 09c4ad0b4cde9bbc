package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/telcoretain/churn/jobs"
)

// setting is one configuration value: a flag whose default comes from an
// environment variable, so that the same names work in a shell, a systemd unit
// and CI.
type setting struct {
	flag, env, def, help string
	secret               bool
	value                *string
}

// config is the service's configuration. Only cmd/churn reads it; packages get
// the parts they need as arguments.
type config struct {
	ClickHouseAddr     string
	ClickHouseDB       string
	ClickHouseUser     string
	ClickHousePassword string
	ClickHouseCluster  string
	HTTPAddr           string
	APIKeys            string
	APIKeysFile        string
	LogLevel           string
	LogFormat          string

	settings []setting
	flags    *pflag.FlagSet
}

func (c *config) bindFlags(root *cobra.Command) {
	c.settings = []setting{
		{"clickhouse-addr", "CHURN_CLICKHOUSE_ADDR", "127.0.0.1:9000", "ClickHouse native protocol address (host:port)", false, &c.ClickHouseAddr},
		{"clickhouse-db", "CHURN_CLICKHOUSE_DB", "churn", "ClickHouse database", false, &c.ClickHouseDB},
		{"clickhouse-user", "CHURN_CLICKHOUSE_USER", "default", "ClickHouse user", false, &c.ClickHouseUser},
		{"clickhouse-password", "CHURN_CLICKHOUSE_PASSWORD", "", "ClickHouse password", true, &c.ClickHousePassword},
		{"cluster", "CHURN_CLICKHOUSE_CLUSTER", "", "ClickHouse cluster (remote_servers name) of sharded, replicated tables; empty for one server", false, &c.ClickHouseCluster},
		{"http-addr", "CHURN_HTTP_ADDR", "127.0.0.1:8080", "address the HTTP API listens on", false, &c.HTTPAddr},
		{"api-keys", "CHURN_API_KEYS", "", "API keys of churn serve: role:key,... with roles viewer, agent, admin", true, &c.APIKeys},
		{"api-keys-file", "CHURN_API_KEYS_FILE", "", "file of API keys, one role:key per line, # comments", false, &c.APIKeysFile},
		{"log-level", "CHURN_LOG_LEVEL", "info", "log level: debug, info, warn, error", false, &c.LogLevel},
		{"log-format", "CHURN_LOG_FORMAT", "text", "log format: text or json", false, &c.LogFormat},
	}
	c.flags = root.PersistentFlags()
	for _, s := range c.settings {
		def := s.def
		if v, ok := os.LookupEnv(s.env); ok {
			def = v
		}
		help := fmt.Sprintf("%s (env %s)", s.help, s.env)
		c.flags.StringVar(s.value, s.flag, def, help)
		if s.secret {
			// Never print a secret taken from the environment in --help.
			c.flags.Lookup(s.flag).DefValue = mask(def)
		}
	}
}

// source says where a setting's value came from.
func (c *config) source(s setting) string {
	if f := c.flags.Lookup(s.flag); f != nil && f.Changed {
		return "flag --" + s.flag
	}
	if _, ok := os.LookupEnv(s.env); ok {
		return "env " + s.env
	}
	return "default"
}

func (c *config) validate() error {
	if !strings.Contains(c.ClickHouseAddr, ":") {
		return usageError{fmt.Errorf("--clickhouse-addr %q: want host:port, e.g. 127.0.0.1:9000", c.ClickHouseAddr)}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return usageError{fmt.Errorf("--log-format %q: want text or json", c.LogFormat)}
	}
	return nil
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "********"
}

func (c *config) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE")
	for _, s := range c.settings {
		v := *s.value
		if s.secret {
			v = mask(v)
		}
		if v == "" {
			v = "(empty)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.env, v, c.source(s))
	}
	tw.Flush()
}

// commandEnv lists settings that belong to one command (serve, jobs,
// actions) and are read from the environment there; `churn config` shows
// them too so that one command tells the whole configuration.
var commandEnv = []struct{ env, def, help string }{
	{"CHURN_SCHEDULER", "true", "serve runs the scheduled jobs in its process"},
	{"CHURN_QUEUE_OWNER", "true", "serve owns the retention action queue (one server per database)"},
	{"CHURN_SCHEDULE", "built-in schedules (see `churn jobs list`)", "job schedules NAME=SPEC;..."},
	{"CHURN_TIMEZONE", "UTC", "time zone of the schedules"},
	{"CHURN_JOB_TIMEOUTS", "train=4h, others 2h", "per-job timeouts NAME=DURATION;..."},
	{"CHURN_DRIFT_PSI_THRESHOLD", strconv.FormatFloat(jobs.DefaultPSIThreshold, 'g', -1, 64), "score PSI that triggers retraining"},
	{"CHURN_DRIFT_AUC_FLOOR", strconv.FormatFloat(jobs.DefaultAUCFloor, 'g', -1, 64), "labelled AUC below which drift triggers retraining"},
	{"CHURN_POLICY", "policies/default.yaml (built in)", "retention policy file"},
}

func printCommandEnv(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCOMMAND SETTING\tVALUE\tSOURCE")
	for _, e := range commandEnv {
		v, src := e.def, "default"
		if ev, ok := os.LookupEnv(e.env); ok {
			v, src = ev, "env "+e.env
		}
		fmt.Fprintf(tw, "%s\t%s\t%s (%s)\n", e.env, v, src, e.help)
	}
	tw.Flush()
}

func newConfigCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (secrets masked)",
		Long: `Print every setting with its value and where it came from: a flag, an
environment variable or the default. Secrets are masked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.cfg.print(a.stdout)
			printCommandEnv(a.stdout)
			return nil
		},
	}
}
