package clickhouse

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema change. Files are never edited once
// released: later changes add a new file with the next number.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, path := range entries {
		base := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_description.sql", path)
		}
		body, err := migrationFiles.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, Statements: splitSQL(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations have version %d", out[i].Version)
		}
	}
	return out, nil
}

// splitSQL cuts a file into statements at semicolons that end a line, dropping
// comment lines.
func splitSQL(s string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		stmts = append(stmts, strings.TrimSpace(cur.String()))
	}
	return stmts
}

// MigrateResult says what Migrate did.
type MigrateResult struct {
	Applied []Migration // applied by this call
	Current int         // schema version after the call
}

// Migrate creates the database when it is missing and applies every migration
// not yet recorded in schema_migrations. It is idempotent: a second call
// applies nothing. Statements use IF NOT EXISTS so that a migration that died
// half way is safe to run again.
func Migrate(ctx context.Context, cfg Config, log *slog.Logger) (MigrateResult, error) {
	var res MigrateResult
	if !identRE.MatchString(cfg.Database) {
		return res, churn.Invalid("migrate", "database", "%q is not a valid database name (letters, digits and _)", cfg.Database)
	}
	boot, err := open(ctx, cfg, "default", log)
	if err != nil {
		return res, err
	}
	err = boot.conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+cfg.Database+onCluster(cfg))
	boot.Close()
	if err != nil {
		return res, wrap("create database "+cfg.Database, cfg, err)
	}
	c, err := Open(ctx, cfg, log)
	if err != nil {
		return res, err
	}
	defer c.Close()
	return c.migrate(ctx)
}

// schemaMigrationsDDL creates the table of applied migrations.
const schemaMigrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    UInt32,
    name       String,
    applied_at DateTime
) ENGINE = MergeTree ORDER BY version`

// onCluster is the ON CLUSTER clause of DDL in cluster mode.
func onCluster(cfg Config) string {
	if cfg.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + cfg.Cluster
}

// schemaStep applies one statement of a migration: as written on a single
// node, translated for the cluster in cluster mode (cluster_ddl.go). With
// apply false it only records the statement's tables in the layout.
//
// A statement that adds one column finds it there on a rerun after a
// migrate that died later in the same migration, or (on a cluster) between
// the nodes it alters; 18.16 has no ADD COLUMN IF NOT EXISTS, so the
// column already there counts as added when it has the statement's type.
func (c *Client) schemaStep(ctx context.Context, layout *clusterLayout, stmt string, apply bool) error {
	if c.cfg.Cluster == "" {
		if !apply {
			return nil
		}
		return c.addedBefore(ctx, stmt, c.conn.Exec(ctx, stmt))
	}
	steps, err := layout.translate(stmt, c.cfg.Database, c.cfg.Cluster)
	if err != nil || !apply {
		return err
	}
	for _, s := range steps {
		if err := c.execClusterStmt(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// addColumnRE matches an ALTER TABLE that adds a single column: the
// table, the column and its type.
var addColumnRE = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\S+)\s+ADD\s+COLUMN\s+(\S+)\s+([^,\s]+)[^,]*$`)

// addedBefore forgives err, the error of statement stmt on the node of c,
// when stmt adds one column and that column is there with the same type.
func (c *Client) addedBefore(ctx context.Context, stmt string, err error) error {
	m := addColumnRE.FindStringSubmatch(stmt)
	if err == nil || m == nil || !columnExists(err) {
		return err
	}
	db, table, ok := strings.Cut(m[1], ".")
	if !ok {
		db, table = c.cfg.Database, m[1]
	}
	var typ string
	if qerr := c.conn.QueryRow(ctx, "SELECT type FROM system.columns WHERE database = ? AND table = ? AND name = ?", db, table, m[2]).Scan(&typ); qerr != nil {
		return errors.Join(err, qerr)
	}
	if typ != m[3] {
		return fmt.Errorf("column %s of %s is there already with type %s, where the migration adds %s: %w", m[2], m[1], typ, m[3], err)
	}
	c.log.Info("column already there, added by an earlier migrate", "table", m[1], "column", m[2])
	return nil
}

// columnExists tells an error of adding a column that is already there:
// ILLEGAL_COLUMN in 18.16, DUPLICATE_COLUMN in later releases.
func columnExists(err error) bool {
	var ex *ch.Exception
	return errors.As(err, &ex) && (ex.Code == 44 || ex.Code == 15) && strings.Contains(ex.Message, "already exists")
}

func (c *Client) migrate(ctx context.Context) (MigrateResult, error) {
	var res MigrateResult
	layout := newClusterLayout()
	if err := c.schemaStep(ctx, layout, schemaMigrationsDDL, true); err != nil {
		return res, wrap("create schema_migrations", c.cfg, err)
	}
	if c.cfg.Cluster != "" {
		// schema_migrations is replicated asynchronously; a migrate on
		// another node just before must be seen here, or its migrations
		// would run twice.
		if err := c.conn.Exec(ctx, "SYSTEM SYNC REPLICA schema_migrations"); err != nil {
			return res, wrap("sync schema_migrations", c.cfg, err)
		}
	}
	applied, err := c.appliedVersions(ctx)
	if err != nil {
		return res, err
	}
	all, err := Migrations()
	if err != nil {
		return res, err
	}
	for _, m := range all {
		for _, stmt := range m.Statements {
			if err := c.schemaStep(ctx, layout, stmt, !applied[m.Version]); err != nil {
				return res, wrap(fmt.Sprintf("migration %04d_%s", m.Version, m.Name), c.cfg, err)
			}
		}
		if applied[m.Version] {
			res.Current = m.Version
			continue
		}
		if step := c.goStep(m.Version); step != nil {
			if err := step(ctx); err != nil {
				return res, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
		}
		if err := c.insertRow(ctx, "schema_migrations", []string{"version", "name", "applied_at"},
			uint32(m.Version), m.Name, c.now().UTC()); err != nil {
			return res, wrap("record migration", c.cfg, err)
		}
		c.log.Info("migration applied", "version", m.Version, "name", m.Name)
		res.Applied = append(res.Applied, m)
		res.Current = m.Version
	}
	return res, nil
}

// goStep returns the work a migration does in Go after its SQL, nil for
// none. Like the files, a step is never changed once released: a later
// change of a rollup's definition comes with a new migration that runs it
// again.
func (c *Client) goStep(version int) func(context.Context) error {
	switch version {
	case 10:
		return c.backfillUsageRollups
	case 19:
		return c.storeScoresInRunOrder
	}
	return nil
}

// scoresDDL is the scores table in run order (migration 0019), under the
// name %s.
const scoresDDL = `CREATE TABLE IF NOT EXISTS %s (
    run_id         String,
    as_of          Date,
    customer_id    String,
    model_version  UInt32,
    probability    Float32,
    band           String,
    tier           String,
    lifetime_value Float32,
    expected_loss  Float32,
    reasons        String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(as_of)
ORDER BY (run_id, customer_id)
SETTINGS index_granularity = 1024`

// storeScoresInRunOrder is migration 0019: scores copied into a table
// ordered by run and customer, which takes the name. A table already in
// run order (a migrate that died after the rename) is kept; what the
// rebuild leaves behind is dropped either way.
func (c *Client) storeScoresInRunOrder(ctx context.Context) error {
	// the columns as of this migration, not scoreColumns: a column a later
	// migration adds is not in the table this one copies
	const cols = "run_id, as_of, customer_id, model_version, probability, band, tier, lifetime_value, expected_loss, reasons"
	var ddl string
	if err := c.conn.QueryRow(ctx, "SHOW CREATE TABLE "+c.storageTable("scores")).Scan(&ddl); err != nil {
		return wrap("read the scores table", c.cfg, err)
	}
	stmts := []string{"DROP TABLE IF EXISTS scores_v1", "DROP TABLE IF EXISTS scores_v2"}
	if !strings.Contains(ddl, "ORDER BY (run_id, customer_id)") {
		stmts = append(stmts, fmt.Sprintf(scoresDDL, "scores_v2"),
			"INSERT INTO scores_v2 ("+cols+") SELECT "+cols+" FROM scores",
			"RENAME TABLE scores TO scores_v1, scores_v2 TO scores",
			"DROP TABLE IF EXISTS scores_v1", "DROP TABLE IF EXISTS scores_v2")
	}
	layout := newClusterLayout()
	layout.sharded["scores"] = true
	layout.pathTag = strconv.FormatInt(c.now().UnixNano(), 36)
	for _, s := range stmts {
		if err := c.schemaStep(ctx, layout, s, true); err != nil {
			return wrap("store scores in run order", c.cfg, err)
		}
	}
	// the copy reaches one replica of each shard; the other must hold it
	// before readers may land on it
	return c.awaitAgreed(ctx, "replicate the copied scores", "scores", "scores")
}

func (c *Client) appliedVersions(ctx context.Context) (map[int]bool, error) {
	out := map[int]bool{}
	err := c.each(ctx, "read schema_migrations", "SELECT DISTINCT version FROM schema_migrations", func(s scanner) error {
		var v uint32
		if err := s.Scan(&v); err != nil {
			return err
		}
		out[int(v)] = true
		return nil
	})
	return out, err
}

// SchemaVersion returns the highest applied migration, 0 when none.
func (c *Client) SchemaVersion(ctx context.Context) (int, error) {
	applied, err := c.appliedVersions(ctx)
	if err != nil {
		return 0, err
	}
	v := 0
	for k := range applied {
		v = max(v, k)
	}
	return v, nil
}

// DropDatabase drops the client's database and everything in it. Tests use it
// to clean up; no command calls it.
func (c *Client) DropDatabase(ctx context.Context) error {
	if !identRE.MatchString(c.cfg.Database) {
		return churn.Invalid("drop database", "database", "%q is not a valid database name", c.cfg.Database)
	}
	return wrap("drop database "+c.cfg.Database, c.cfg, c.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+c.cfg.Database+onCluster(c.cfg)))
}
