package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/serve"
)

// config is the service's configuration. Only cmd/churn reads it; packages get
// the parts they need as arguments. Every field is set from one entry of
// settings, the single list of what can be configured.
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
	// PrepaidInactivity is the days without usage and top-up after which a
	// prepaid customer has churned (features, labels, outcomes).
	PrepaidInactivity int
	// SnapshotQueries is how many of a feature snapshot's side queries run
	// at once (clickhouse.Config.SnapshotQueries).
	SnapshotQueries int

	Serve      serve.Config // the tuning of `churn serve`; Keys and Insecure are set by the command
	Scheduler  bool         // serve runs the scheduled jobs
	QueueOwner bool         // serve may own the retention action queue
	OwnerTTL   time.Duration
	// SnapshotEvery is how often the queue owner snapshots the queue; 0: never.
	SnapshotEvery time.Duration
	Advertise     string // HTTP address other servers send agents to; empty: --http-addr
	ZooKeeper     string // host:port,... of the ensemble holding the queue lease; empty: heartbeats in ClickHouse
	ZKSession     time.Duration
	Jobs          jobsConfig
	MetricsAddr   string // of `churn jobs run-scheduler`; empty: no metrics endpoint
	PolicyPath    string
	// The operator's contract vocabulary file and folder of SQL feature
	// families; empty: the defaults, none.
	VocabularyPath string
	FeaturesDir    string
	Dispatch       dispatchConfig

	lookupEnv func(string) (string, bool)
	table     []*setting
}

// The groups of settings, by the commands that take them. A group is bound to
// a command's flags as a whole and named so in `churn config`.
const (
	groupGlobal = "all commands"
	groupServe  = "serve"
	groupJobs   = "serve, jobs"
	groupWorker = "jobs run-scheduler"
	groupPolicy = "serve, jobs, policy show, actions"
	// The queue's ownership and the dispatcher: whoever dispatches takes the queue.
	groupDispatch = "serve, jobs, actions dispatch"
)

// settings is the table of every setting. The defaults of serve and jobs come
// from those packages, so that each default is written once.
func (c *config) settings() []*setting {
	if c.table != nil {
		return c.table
	}
	sd, bo, wr := serve.DefaultConfig(), jobs.DefaultBackoff(), jobs.DefaultWindowRetry()
	c.Serve = sd // the server settings that are not configurable keep their defaults
	g := groupGlobal
	c.table = []*setting{
		{Flag: "clickhouse-addr", Env: "CHURN_CLICKHOUSE_ADDR", Default: "127.0.0.1:9000", Scope: g,
			Help: "ClickHouse native protocol address (host:port)", Kind: addrKind(&c.ClickHouseAddr, false)},
		{Flag: "clickhouse-db", Env: "CHURN_CLICKHOUSE_DB", Default: "churn", Scope: g,
			Help: "ClickHouse database", Kind: stringKind(&c.ClickHouseDB)},
		{Flag: "clickhouse-user", Env: "CHURN_CLICKHOUSE_USER", Default: "default", Scope: g,
			Help: "ClickHouse user", Kind: stringKind(&c.ClickHouseUser)},
		{Flag: "clickhouse-password", Env: "CHURN_CLICKHOUSE_PASSWORD", Secret: true, Scope: g,
			Help: "ClickHouse password", Kind: stringKind(&c.ClickHousePassword)},
		{Flag: "cluster", Env: "CHURN_CLICKHOUSE_CLUSTER", Scope: g,
			Help: "ClickHouse cluster (remote_servers name) of sharded, replicated tables; empty for one server", Kind: stringKind(&c.ClickHouseCluster)},
		{Flag: "http-addr", Env: "CHURN_HTTP_ADDR", Default: "127.0.0.1:8080", Scope: g,
			Help: "address the HTTP API listens on (host:port)", Kind: addrKind(&c.HTTPAddr, false)},
		{Flag: "api-keys", Env: "CHURN_API_KEYS", Secret: true, Scope: g,
			Help: "API keys of churn serve: role:key or role:name:key,... with roles viewer, agent, admin; a name (agent:dana:KEY) is who claims and completes actions", Kind: stringKind(&c.APIKeys)},
		{Flag: "api-keys-file", Env: "CHURN_API_KEYS_FILE", Scope: g,
			Help: "file of API keys, one role:key or role:name:key per line, # comments", Kind: stringKind(&c.APIKeysFile)},
		{Flag: "log-level", Env: "CHURN_LOG_LEVEL", Default: "info", Scope: g,
			Help: "log level: debug, info, warn, error", Kind: enumKind(&c.LogLevel, "debug", "info", "warn", "error")},
		{Flag: "log-format", Env: "CHURN_LOG_FORMAT", Default: "text", Scope: g,
			Help: "log format: text or json", Kind: enumKind(&c.LogFormat, "text", "json")},
		{Flag: "prepaid-inactivity-days", Env: "CHURN_PREPAID_INACTIVITY_DAYS", Default: strconv.Itoa(features.DefaultInactivity), Scope: g,
			Help: "days without usage and without a top-up after which a prepaid customer has churned (its churn date is its last activity)",
			Kind: intKind(&c.PrepaidInactivity, 1, 365)},
		{Flag: "snapshot-queries", Env: "CHURN_SNAPSHOT_QUERIES", Default: strconv.Itoa(features.DefaultSnapshotQueries), Scope: g,
			Help: "how many of a feature snapshot's seven side queries (customers, lifecycle, support, plan, billing, monthly and recent usage) run at once; each uses up to the server's max_threads cores",
			Kind: intKind(&c.SnapshotQueries, 1, 7)},
		{Flag: "vocabulary", Env: "CHURN_VOCABULARY", Scope: g, Unset: "the defaults of docs/vocabulary.yaml",
			Help: "contract vocabulary file (YAML): the operator's values of segment, payment_method, contract, ticket category and churn reason, each mapped to a category", Kind: stringKind(&c.VocabularyPath)},
		{Flag: "features-dir", Env: "CHURN_FEATURES_DIR", Scope: g, Unset: "none: the built-in features only",
			Help: "folder of SQL feature families (*.sql, one row per customer as of @as_of) computed with the built-in features", Kind: stringKind(&c.FeaturesDir)},

		{Flag: "poll-interval", Env: "CHURN_POLL_INTERVAL", Default: formatDuration(sd.PollInterval), Scope: groupServe,
			Help: "how often to look for a newer finished scoring run", Kind: durationKind(&c.Serve.PollInterval, time.Second)},
		{Flag: "cache-control", Env: "CHURN_CACHE_CONTROL", Default: sd.CacheControl, Scope: groupServe,
			Help: "Cache-Control of score responses; match it to the scoring schedule", Kind: stringKind(&c.Serve.CacheControl)},
		{Flag: "history-limit", Env: "CHURN_HISTORY_LIMIT", Default: strconv.Itoa(sd.HistoryLimit), Scope: groupServe,
			Help: "scores per customer returned by /v1/customers/{id}/history", Kind: intKind(&c.Serve.HistoryLimit, 1, 10000)},
		{Flag: "cors-origins", Env: "CHURN_CORS_ORIGINS", Scope: groupServe, Unset: "none: browser pages of the same origin only",
			Help: "origins (https://dash.example.com,...; * for any) whose browser pages may call the API with a key: a dashboard served elsewhere", Kind: originsKind(&c.Serve.CORSOrigins)},
		{Flag: "clickhouse-request-timeout", Env: "CHURN_CLICKHOUSE_REQUEST_TIMEOUT", Default: formatDuration(sd.StoreTimeout), Scope: groupServe,
			Help: "time a request gives ClickHouse (history, models, the action log) before it answers 503", Kind: durationKind(&c.Serve.StoreTimeout, 100*time.Millisecond)},
		{Flag: "shutdown-timeout", Env: "CHURN_SHUTDOWN_TIMEOUT", Default: formatDuration(sd.ShutdownTimeout), Scope: groupServe,
			Help: "time given to requests in flight on SIGINT/SIGTERM", Kind: durationKind(&c.Serve.ShutdownTimeout, 0)},
		// Flag only: a variable left behind in an env file would silently
		// turn authentication off on a production server.
		{Flag: "insecure-no-auth", Default: "false", Scope: groupServe,
			Help: "serve without API keys: every request is admin (local trials only)", Kind: boolKind(&c.Serve.Insecure)},
		{Flag: "scheduler", Env: "CHURN_SCHEDULER", Default: "true", Scope: groupServe,
			Help: "run the scheduled jobs in this process; false when a separate 'churn jobs run-scheduler' worker does", Kind: boolKind(&c.Scheduler)},
		{Flag: "queue-owner", Env: "CHURN_QUEUE_OWNER", Default: "true", Scope: groupServe,
			Help: "may own the retention action queue: of the servers on one database that may, the first live one owns it (heartbeats in queue_owners) and the others serve action reads only until it stops; false: never own", Kind: boolKind(&c.QueueOwner)},
		{Flag: "queue-owner-ttl", Env: "CHURN_QUEUE_OWNER_TTL", Default: formatDuration(3 * sd.PollInterval), Scope: groupDispatch,
			Help: "a queue owner whose heartbeat (one per --poll-interval) is older than this is dead and another server takes over; at least twice --poll-interval", Kind: durationKind(&c.OwnerTTL, 2*time.Second)},
		{Flag: "queue-snapshot-interval", Env: "CHURN_QUEUE_SNAPSHOT_INTERVAL", Default: "10m", Scope: groupServe,
			Help: "how often the queue owner stores a snapshot of the action queue (and once when it stops), so that a starting server reads the snapshot and only the later action events; 0: never", Kind: durationKind(&c.SnapshotEvery, 0)},
		{Flag: "zookeeper", Env: "CHURN_ZOOKEEPER", Scope: groupDispatch, Unset: "none: heartbeats in ClickHouse",
			Help: "ZooKeeper ensemble (host:port,...) holding the action queue's lease; the lowest lease node owns the queue", Kind: stringKind(&c.ZooKeeper)},
		{Flag: "zookeeper-session-timeout", Env: "CHURN_ZOOKEEPER_SESSION_TIMEOUT", Default: "10s", Scope: groupDispatch,
			Help: "ZooKeeper session timeout: a queue owner that dies loses the lease after this long", Kind: durationKind(&c.ZKSession, 2*time.Second)},
		{Flag: "advertise-addr", Env: "CHURN_ADVERTISE_ADDR", Scope: groupServe, Unset: "the --http-addr",
			Help: "host:port other servers name when they send action writes to this one as the queue owner", Kind: addrKind(&c.Advertise, true)},

		{Flag: "schedule", Env: "CHURN_SCHEDULE", Scope: groupJobs, Unset: describeSchedules(),
			Help: `when a job runs, as a cron expression ("0 5 * * *", "@every 6h"), "after JOB" or "manual"; repeatable, items separated by ; in the environment; jobs not named keep their default`,
			Kind: pairsKind(&c.Jobs.schedules, "NAME=SPEC", nil)},
		{Flag: "job-timeout", Env: "CHURN_JOB_TIMEOUTS", Scope: groupJobs, Unset: describeTimeouts(),
			Help: "cancel a run of the job after this long; repeatable, items separated by ; in the environment; jobs not named keep their default",
			Kind: pairsKind(&c.Jobs.timeouts, "NAME=DURATION", positiveDuration)},
		{Flag: "timezone", Env: "CHURN_TIMEZONE", Default: "UTC", Scope: groupJobs,
			Help: "time zone of the schedules, an IANA name such as Europe/Berlin", Kind: zoneKind(&c.Jobs.timezone)},
		{Flag: "drift-psi-threshold", Env: "CHURN_DRIFT_PSI_THRESHOLD", Default: formatFloat(jobs.DefaultPSIThreshold), Scope: groupJobs,
			Help: "score PSI above which the drift check starts a retraining run", Kind: floatKind(&c.Jobs.psi, 0, math.MaxFloat64)},
		{Flag: "drift-auc-floor", Env: "CHURN_DRIFT_AUC_FLOOR", Default: formatFloat(jobs.DefaultAUCFloor), Scope: groupJobs,
			Help: "AUC of the champion's labelled runs below which the drift check starts a retraining run", Kind: floatKind(&c.Jobs.aucFloor, 0, 1)},
		{Flag: "scores-keep-months", Env: "CHURN_SCORES_KEEP_MONTHS", Default: "0", Scope: groupJobs,
			Help: fmt.Sprintf("months of scores kept, the latest run's month included: the prune job (daily) drops older months; 0: keep all, no prune job; else at least %d, for the runs the drift check labels", jobs.MinKeepMonths),
			Kind: keepMonthsKind(&c.Jobs.keepMonths)},
		{Flag: "job-retries", Env: "CHURN_JOB_RETRIES", Default: strconv.Itoa(bo.Attempts), Scope: groupJobs,
			Help: "tries of a run while ClickHouse is unavailable", Kind: intKind(&c.Jobs.attempts, 1, 100)},
		{Flag: "job-retry-wait", Env: "CHURN_JOB_RETRY_WAIT", Default: formatDuration(bo.Initial), Scope: groupJobs,
			Help: "first wait between tries (doubling, with jitter)", Kind: durationKind(&c.Jobs.backoff, time.Millisecond)},
		{Flag: "job-window-retries", Env: "CHURN_JOB_WINDOW_RETRIES", Default: strconv.Itoa(wr.Attempts), Scope: groupJobs,
			Help: "more runs of a failed scheduled run before the job's next slot; 0: wait for the slot", Kind: intKind(&c.Jobs.windowRetries, 0, 20)},
		{Flag: "job-window-retry-wait", Env: "CHURN_JOB_WINDOW_RETRY_WAIT", Default: formatDuration(wr.Wait), Scope: groupJobs,
			Help: "wait before the first of those runs (doubling each time)", Kind: durationKind(&c.Jobs.windowWait, time.Second)},
		{Flag: "metrics-addr", Env: "CHURN_METRICS_ADDR", Scope: groupWorker,
			Help: "serve Prometheus metrics on this address (e.g. 127.0.0.1:9101); empty: none", Kind: addrKind(&c.MetricsAddr, true)},
		policySetting(&c.PolicyPath),
	}
	c.table = append(c.table, dispatchSettings(&c.Dispatch)...)
	return c.table
}

// policySetting is the retention policy file. Several commands bind it to
// their own variable (policyFlag), so it is defined by a function.
func policySetting(dst *string) *setting {
	return &setting{Flag: "policy", Env: "CHURN_POLICY", Scope: groupPolicy, Unset: "built-in policies/default.yaml",
		Help: "retention policy file (YAML)", Kind: stringKind(dst)}
}

func positiveDuration(v string) error {
	d, err := parseDuration(v)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%s is not a positive duration", d)
	}
	return err
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// describeSchedules lists the default schedules for help texts.
func describeSchedules() string {
	parts := make([]string, len(defaultSchedules))
	for i, d := range defaultSchedules {
		parts[i] = d.name + "=" + d.spec
	}
	return strings.Join(parts, "; ")
}

// describeTimeouts lists the default timeouts for help texts.
func describeTimeouts() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(defaultTimeouts)) {
		parts = append(parts, name+"="+formatDuration(defaultTimeouts[name]))
	}
	return strings.Join(parts, "; ") + "; others " + formatDuration(jobs.DefaultTimeout)
}

// bind adds the flags of the settings of the given groups to f.
func (c *config) bind(f *pflag.FlagSet, groups ...string) {
	for _, s := range c.settings() {
		if slices.Contains(groups, s.Scope) {
			s.bind(f)
		}
	}
}

// bindFlags adds the settings every command takes to the root command. It is
// the one place that reads the process environment; resolve looks variables
// up through c.lookupEnv.
func (c *config) bindFlags(root *cobra.Command) {
	c.lookupEnv = os.LookupEnv
	c.bind(root.PersistentFlags(), groupGlobal)
}

// resolve sets the settings of the command being run from its flags, the
// environment and the defaults.
func (c *config) resolve(cmd *cobra.Command) error {
	return resolveFlags(cmd.Flags(), c.lookupEnv)
}

// resolveAll resolves every setting of the table, the flags of cmd taking
// precedence where cmd has them, and reports every bad value at once.
func (c *config) resolveAll(cmd *cobra.Command) ([]resolved, error) {
	var (
		out  []resolved
		errs []error
	)
	for _, s := range c.settings() {
		f := cmd.Flags().Lookup(s.Flag)
		if f != nil && settingOf(f) != s {
			f = nil // a flag of the same name that is not this setting
		}
		r, err := s.resolve(f, c.lookupEnv)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		return out, usageError{errors.Join(errs...)}
	}
	return out, nil
}

// printSettings writes one line per setting: value (secrets masked), where it
// came from and the commands that take it.
func printSettings(w io.Writer, rs []resolved) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tFLAG\tVALUE\tSOURCE\tCOMMANDS")
	for _, r := range rs {
		v := r.Text
		switch {
		case r.Secret:
			v = mask(v)
		case v == "" && r.Unset != "":
			v = "(" + r.Unset + ")"
		}
		if v == "" {
			v = "(empty)"
		}
		src := r.Source
		if r.Source != fromDefault {
			src += " " + r.name()
		}
		if r.Invalid {
			src += " (invalid)"
		}
		env := r.Env
		if env == "" {
			env = "(flag only)"
		}
		fmt.Fprintf(tw, "%s\t--%s\t%s\t%s\t%s\n", env, r.Flag, v, src, r.Scope)
	}
	tw.Flush()
}

func newConfigCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (secrets masked)",
		Long: `Print every setting with its value and where it came from: a flag, an
environment variable or the default (a flag wins over the environment, which
wins over the default; an empty variable counts as unset). Secrets are masked.
Exits with status 2, naming each one, when a value is invalid.`,
		Args: cobra.NoArgs,
		// Not the root's hook: that would stop at the first bad value before
		// this command could list them all.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			rs, err := a.cfg.resolveAll(cmd)
			printSettings(a.stdout, rs)
			return err
		},
	}
}
