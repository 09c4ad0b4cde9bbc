package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/telcoretain/churn"
)

// Config says where ClickHouse is and how to log in.
type Config struct {
	Addr        string // host:port of the native protocol, e.g. 127.0.0.1:9000
	Database    string
	User        string
	Password    string
	DialTimeout time.Duration
	// Now stamps the rows the client writes itself (score_runs.at,
	// model_events, migrations, a model's missing created_at); nil:
	// time.Now. Tests pass a clock so that the order of stamped rows does
	// not depend on the wall clock's seconds.
	Now func() time.Time
	// PrepaidInactivity is the days without usage and top-up after which a
	// prepaid customer has churned, for the reads of who churned when
	// (ChurnedBetween, RunOutcomes); 0: churn.DefaultPrepaidInactivity.
	PrepaidInactivity int
	// Cluster, when set, names the ClickHouse cluster (remote_servers) whose
	// Distributed tables the service uses; see cluster_ddl.go.
	Cluster string
	// Owner names this process (host:pid) in the rows that say who runs a
	// scoring or training run, so that a later process can tell a run left
	// 'started' by a process that died from one still going.
	Owner string
	// SnapshotQueries is how many of a feature snapshot's side queries run
	// at once (features.RawSnapshot); 0: features.DefaultSnapshotQueries.
	SnapshotQueries int
}

// StartHint is the command that starts a local ClickHouse, quoted in errors.
const StartHint = "make clickhouse"

// Client is a connection pool to one ClickHouse database.
type Client struct {
	conn driver.Conn
	cfg  Config
	log  *slog.Logger
}

// Open connects to ClickHouse and checks that the database exists. An
// unreachable server is a KindUnavailable error naming the address and the
// command that starts a local server.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Client, error) {
	return open(ctx, cfg, cfg.Database, log)
}

func open(ctx context.Context, cfg Config, database string, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Cluster != "" && !identRE.MatchString(cfg.Cluster) {
		return nil, churn.Invalid("connect to ClickHouse", "cluster", "%q is not a valid cluster name (letters, digits and _)", cfg.Cluster)
	}
	conn, err := ch.Open(&ch.Options{
		Addr: []string{cfg.Addr},
		Auth: ch.Auth{Database: database, Username: cfg.User, Password: cfg.Password},
		// 18.16 knows none of the newer settings; send only these.
		Settings:    clusterSettings(cfg.Cluster),
		DialTimeout: cfg.DialTimeout,
		// The driver's default of 5 minutes cuts off statements that are
		// long by nature: a migration's backfill of a month of rollups, a
		// snapshot of a million customers on a busy machine. Callers bound
		// their work with ctx, which cancels the query on the server.
		ReadTimeout:     time.Hour,
		MaxOpenConns:    8,
		MaxIdleConns:    4,
		ConnMaxLifetime: time.Hour,
	})
	if err != nil {
		return nil, connectError(cfg, err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.Close()
		return nil, connectError(cfg, err)
	}
	c := &Client{conn: conn, cfg: cfg, log: log}
	if cfg.Cluster != "" {
		layout, err := migrationsLayout(database, cfg.Cluster)
		if err != nil {
			conn.Close()
			return nil, err
		}
		c.conn = qualifyingConn{Conn: conn, layout: layout, db: database}
	}
	return c, nil
}

// clusterSettings are the query settings of cluster mode: an INSERT into a
// Distributed table returns only once every shard has the rows, and
// ReplicatedMergeTree does not drop a block identical to one inserted
// before (rows deleted, say by an import's undo, and the same file loaded
// again; no write of ours relies on a blind retry). (The servers' profile
// sets distributed_product_mode = 'global', see docs/scaling.md: the driver
// sends only numeric settings to 18.16.)
func clusterSettings(cluster string) ch.Settings {
	if cluster == "" {
		return nil
	}
	return ch.Settings{"insert_distributed_sync": 1, "insert_deduplicate": 0}
}

// now is the client's clock.
func (c *Client) now() time.Time { return c.cfg.Now() }

func connectError(cfg Config, err error) error {
	var ex *ch.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case 81: // UNKNOWN_DATABASE
			return &churn.Error{Op: "connect to ClickHouse", Kind: churn.KindNotFound,
				Msg: fmt.Sprintf("database %q does not exist on %s; create it with `churn migrate`", cfg.Database, cfg.Addr)}
		case 516, 192, 193: // AUTHENTICATION_FAILED, UNKNOWN_USER, WRONG_PASSWORD
			return &churn.Error{Op: "connect to ClickHouse", Kind: churn.KindUnauthorized,
				Msg: fmt.Sprintf("ClickHouse at %s refused user %q: %s", cfg.Addr, cfg.User, ex.Message)}
		}
		return &churn.Error{Op: "connect to ClickHouse", Kind: churn.KindInternal, Err: err}
	}
	return &churn.Error{Op: "connect to ClickHouse", Kind: churn.KindUnavailable,
		Msg: fmt.Sprintf("ClickHouse is not reachable at %s (start a local server with `%s`)", cfg.Addr, StartHint), Err: err}
}

// Close releases the connections.
func (c *Client) Close() error { return c.conn.Close() }

// Database is the name of the database the client works in.
func (c *Client) Database() string { return c.cfg.Database }

// Addr is the server address.
func (c *Client) Addr() string { return c.cfg.Addr }

// Conn exposes the underlying driver connection to code inside this package's
// tests and to benchmarks; other packages use the typed methods.
func (c *Client) Conn() driver.Conn { return c.conn }

// Ping checks the server answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.conn.Ping(ctx); err != nil {
		return wrap("ping ClickHouse", c.cfg, err)
	}
	return nil
}

// Version returns the server's version string.
func (c *Client) Version(ctx context.Context) (string, error) {
	var v string
	if err := c.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", wrap("read server version", c.cfg, err)
	}
	return v, nil
}

// unknownTable is ClickHouse's exception code for a table that does not exist.
const unknownTable = 60

// ClickHouse's exception codes for a column that does not exist: in an
// INSERT's column list, and in a query.
const (
	noSuchColumn      = 16
	unknownIdentifier = 47
)

// wrap turns a driver error into a churn error with the right kind: network
// failures are KindUnavailable (retry later), server exceptions KindInternal.
func wrap(op string, cfg Config, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &churn.Error{Op: op, Kind: churn.KindUnavailable, Err: err}
	}
	var ex *ch.Exception
	if errors.As(err, &ex) {
		kind := churn.KindInternal
		switch ex.Code {
		// SOCKET_TIMEOUT, NETWORK_ERROR, TOO_MANY_SIMULTANEOUS_QUERIES, and
		// QUERY_WAS_CANCELLED, which a server shutting down answers to the
		// queries it was running: retry later, like a refused connection.
		case 209, 210, 202, 394:
			kind = churn.KindUnavailable
		}
		switch ex.Code {
		case unknownTable, noSuchColumn, unknownIdentifier:
			// Most likely a binary newer than the schema, e.g. before migration 0010's rollups.
			return &churn.Error{Op: op, Kind: kind,
				Msg: fmt.Sprintf("a table or column this version uses is missing: if database %s is older than this version, run `churn migrate`", cfg.Database), Err: err}
		}
		return &churn.Error{Op: op, Kind: kind, Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) || isConnErr(err) {
		return &churn.Error{Op: op, Kind: churn.KindUnavailable,
			Msg: fmt.Sprintf("ClickHouse at %s", cfg.Addr), Err: err}
	}
	return &churn.Error{Op: op, Kind: churn.KindInternal, Err: err}
}

func isConnErr(err error) bool {
	s := err.Error()
	for _, p := range []string{"connection refused", "broken pipe", "connection reset", "EOF", "acquire conn timeout"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// scanner is a row being read.
type scanner interface{ Scan(dest ...any) error }

// each runs a query and calls fn for each row.
func (c *Client) each(ctx context.Context, op, q string, fn func(scanner) error, args ...any) error {
	rows, err := c.conn.Query(ctx, q, args...)
	if err != nil {
		return wrap(op, c.cfg, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return wrap(op, c.cfg, err)
		}
	}
	return wrap(op, c.cfg, rows.Err())
}
