package clickhouse

import (
	"strings"
	"testing"
)

// translateAll translates statements in order on one layout, as Migrate does.
func translateAll(t *testing.T, stmts ...string) []clusterStmt {
	t.Helper()
	l := newClusterLayout()
	var out []clusterStmt
	for _, s := range stmts {
		steps, err := l.translate(s, "db", "cl")
		if err != nil {
			t.Fatalf("translate %q: %v", s, err)
		}
		out = append(out, steps...)
	}
	return out
}

// translatedSQL is the SQL of translateAll's statements, one per line.
func translatedSQL(t *testing.T, stmts ...string) string {
	t.Helper()
	var sqls []string
	for _, s := range translateAll(t, stmts...) {
		sqls = append(sqls, s.sql)
	}
	return strings.Join(sqls, "\n")
}

func TestClusterTranslationOfEveryMigration(t *testing.T) {
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{schemaMigrationsDDL}
	for _, m := range all {
		stmts = append(stmts, m.Statements...)
	}
	joined := translatedSQL(t, stmts...)
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS db.usage_daily_local ON CLUSTER cl (",
		"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db/usage_daily_local', '{replica}')\nPARTITION BY toYYYYMM(day)",
		"CREATE TABLE IF NOT EXISTS db.usage_daily ON CLUSTER cl AS db.usage_daily_local ENGINE = Distributed(cl, db, usage_daily_local, cityHash64(customer_id))",
		"CREATE TABLE IF NOT EXISTS db.models ON CLUSTER cl (",
		"ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/db/models', '{replica}')",
		"ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/db/schema_migrations', '{replica}') ORDER BY version",
		"ALTER TABLE db.action_events_local ADD COLUMN run_id String",
		"ALTER TABLE db.action_events ADD COLUMN run_id String",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("translated migrations lack %q", want)
		}
	}
	for _, unwanted := range []string{"db.models_local", "db.score_runs_local", "Distributed(cl, db, job_runs"} {
		if strings.Contains(joined, unwanted) {
			t.Errorf("translated migrations contain %q: registry and run tables are replicated, not sharded", unwanted)
		}
	}
}

func TestClusterTranslationRunsAltersWhereTheTablesLive(t *testing.T) {
	steps := translateAll(t,
		"CREATE TABLE IF NOT EXISTS u (customer_id String, day Date) ENGINE = MergeTree ORDER BY customer_id",
		"CREATE TABLE IF NOT EXISTS r (id String) ENGINE = MergeTree ORDER BY id",
		"ALTER TABLE u ADD COLUMN import_id String",
		"ALTER TABLE u DELETE WHERE day < '2020-01-01'",
		"ALTER TABLE r ADD COLUMN note String",
	)
	want := []clusterStmt{
		{"ALTER TABLE db.u_local ADD COLUMN import_id String", onEachShard},
		{"ALTER TABLE db.u ADD COLUMN import_id String", onEveryNode},
		{"ALTER TABLE db.u_local DELETE WHERE day < '2020-01-01'", onEachShard},
		{"ALTER TABLE db.r ADD COLUMN note String", onOne},
	}
	got := steps[len(steps)-len(want):]
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestClusterTranslationPointsMaterializedViewsAtLocalTables(t *testing.T) {
	steps := translateAll(t,
		"CREATE TABLE IF NOT EXISTS usage_daily (customer_id String, day Date, v Float32) ENGINE = MergeTree ORDER BY customer_id",
		`CREATE TABLE IF NOT EXISTS usage_monthly (customer_id String, month Date, v Float64)
ENGINE = SummingMergeTree((v)) ORDER BY (customer_id, month)`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS usage_monthly_mv TO usage_monthly AS
SELECT customer_id, toStartOfMonth(day) AS month, sum(v) AS v FROM usage_daily GROUP BY customer_id, month`,
		"INSERT INTO usage_monthly SELECT customer_id, toStartOfMonth(day), sum(v) FROM usage_daily GROUP BY customer_id, toStartOfMonth(day)",
		"DROP TABLE IF EXISTS usage_monthly",
	)
	for _, want := range []string{
		"ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db/usage_monthly_local', '{replica}', (v)) ORDER BY (customer_id, month)",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS db.usage_monthly_mv ON CLUSTER cl TO db.usage_monthly_local AS\nSELECT customer_id, toStartOfMonth(day) AS month, sum(v) AS v FROM db.usage_daily_local GROUP BY customer_id, month",
		"INSERT INTO usage_monthly SELECT",
		"DROP TABLE IF EXISTS db.usage_monthly ON CLUSTER cl",
		"DROP TABLE IF EXISTS db.usage_monthly_local ON CLUSTER cl",
	} {
		found := false
		for _, s := range steps {
			found = found || strings.Contains(s.sql, want)
		}
		if !found {
			t.Errorf("no translated statement contains %q", want)
		}
	}
}

func TestClusterTranslationRefusesWhatItCannotPlace(t *testing.T) {
	for _, stmts := range [][]string{
		{"CREATE TABLE m (customer_id String) ENGINE = Memory"},
		{"CREATE TABLE u (customer_id String) ENGINE = MergeTree ORDER BY customer_id",
			"CREATE MATERIALIZED VIEW v ENGINE = SummingMergeTree ORDER BY customer_id AS SELECT customer_id FROM u"},
		{"CREATE TABLE u (customer_id String) ENGINE = MergeTree ORDER BY customer_id",
			"CREATE TABLE t (customer_id String) ENGINE = MergeTree ORDER BY customer_id",
			"CREATE MATERIALIZED VIEW v TO t POPULATE AS SELECT customer_id FROM u"},
		{"ALTER TABLE nowhere ADD COLUMN x String"},
		{"RENAME TABLE a TO b"},
	} {
		l := newClusterLayout()
		var err error
		for _, s := range stmts {
			if _, err = l.translate(s, "db", "cl"); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%q translated, want an error naming what has no cluster translation", stmts[len(stmts)-1])
		}
	}
}

// A table rebuilt under its name (migration 0019): the rename swaps the
// local tables under the Distributed table, and the drops clear both
// tables of a name, known or left over.
func TestClusterTranslationSwapsARebuiltTableUnderItsDistributedTable(t *testing.T) {
	joined := translatedSQL(t,
		"CREATE TABLE IF NOT EXISTS s (customer_id String, run_id String) ENGINE = MergeTree ORDER BY customer_id",
		"CREATE TABLE IF NOT EXISTS r (run_id String) ENGINE = MergeTree ORDER BY run_id",
		"DROP TABLE IF EXISTS s_old",
		"CREATE TABLE IF NOT EXISTS s_new (customer_id String, run_id String) ENGINE = MergeTree ORDER BY (run_id, customer_id)",
		"RENAME TABLE s TO s_old, s_new TO s",
		"RENAME TABLE r TO r2",
		"DROP TABLE IF EXISTS s_new",
		"ALTER TABLE s ADD COLUMN x String",
	)
	for _, want := range []string{
		"DROP TABLE IF EXISTS db.s_old ON CLUSTER cl\nDROP TABLE IF EXISTS db.s_old_local ON CLUSTER cl",
		"RENAME TABLE db.s_local TO db.s_old_local, db.s_new_local TO db.s_local ON CLUSTER cl",
		"RENAME TABLE db.r TO db.r2 ON CLUSTER cl",
		"DROP TABLE IF EXISTS db.s_new ON CLUSTER cl\nDROP TABLE IF EXISTS db.s_new_local ON CLUSTER cl",
		"ALTER TABLE db.s_local ADD COLUMN x String",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("translation lacks %q:\n%s", want, joined)
		}
	}
	l := newClusterLayout()
	if _, err := l.translate("RENAME TABLE nope TO other", "db", "cl"); err == nil {
		t.Error("renaming a table no statement created was translated")
	}
}
