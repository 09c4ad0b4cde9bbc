package clickhouse_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset"
)

func TestMigrateTwiceIsANoOp(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	all, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := all[len(all)-1].Version; before != want {
		t.Fatalf("schema version after first migrate = %d, want %d", before, want)
	}
	tablesBefore := tableList(t, c)
	res, err := clickhouse.Migrate(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 {
		t.Fatalf("second migrate applied %d migrations, want 0", len(res.Applied))
	}
	var n uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != len(all) {
		t.Fatalf("schema_migrations has %d rows after two migrates, want %d", n, len(all))
	}
	if got := tableList(t, c); len(got) != len(tablesBefore) {
		t.Fatalf("tables changed: %v -> %v", tablesBefore, got)
	}
}

// A migrate that died between the two columns of 0020 added the first
// one: the rerun finds it there (18.16 has no ADD COLUMN IF NOT EXISTS)
// and adds the second.
func TestAMigrateThatDiedBetweenTwoAddedColumnsCompletesOnTheRerun(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	mustExec(t, c, "ALTER TABLE scores DROP COLUMN uplift_model")
	rerunMigration20(t, c, cfg)
}

// A column of the same name and another type is not taken as added.
func TestAColumnOfAnotherTypeIsNotTakenAsAdded(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	mustExec(t, c, "ALTER TABLE scores DROP COLUMN uplift_model")
	mustExec(t, c, "ALTER TABLE scores ADD COLUMN uplift_model String")
	mustExec(t, c, "TRUNCATE TABLE schema_migrations")
	mustExec(t, c, "INSERT INTO schema_migrations (version, name, applied_at) SELECT number + 1, 'before 0020', now() FROM system.numbers LIMIT 19")
	_, err := clickhouse.Migrate(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "column uplift_model of scores is there already with type String, where the migration adds UInt32") {
		t.Fatalf("migrate over uplift_model String: %v", err)
	}
}

// On a cluster a column is added to the local tables of each shard, then
// to the Distributed table on every node: a migrate that died after the
// first shard finds the column there on that shard and adds it elsewhere.
func TestClusterMigrateThatDiedBetweenShardsCompletesOnTheRerun(t *testing.T) {
	c, cfg := chtest.NewClusterDB(t)
	chtest.EachNode(t, c, cfg, func(n clickhouse.ClusterNode, nc *clickhouse.Client) {
		if n.Shard == 2 && n.Replica == 1 { // replicated to the shard's other replica
			mustExec(t, nc, "ALTER TABLE scores_local DROP COLUMN uplift_model")
		}
		mustExec(t, nc, "ALTER TABLE scores DROP COLUMN uplift_model")
	})
	rerunMigration20(t, c, cfg)
	chtest.EachNode(t, c, cfg, func(n clickhouse.ClusterNode, nc *clickhouse.Client) {
		var k uint64
		if err := nc.Conn().QueryRow(context.Background(), "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table IN ('scores', 'scores_local') AND name = 'uplift_model'").Scan(&k); err != nil || k != 2 {
			t.Errorf("node %s: uplift_model in %d of scores and scores_local (%v)", n.Addr, k, err)
		}
	})
}

// Only a statement that adds one column is forgiven a column already there:
// with two, the second would never be added.
func TestOnlyAStatementAddingOneColumnIsForgivenOnARerun(t *testing.T) {
	for stmt, want := range map[string]bool{
		"ALTER TABLE scores\n    ADD COLUMN uplift Float32 DEFAULT 0":    true,
		"alter table action_events add column attempts UInt16 DEFAULT 0": true,
		"ALTER TABLE scores ADD COLUMN a Float32, ADD COLUMN b UInt32":   false,
		"ALTER TABLE invoices ADD COLUMN amount Decimal(9, 2)":           false,
		"ALTER TABLE scores DROP COLUMN uplift":                          false,
		"ALTER TABLE scores MODIFY COLUMN uplift Float64":                false,
		"CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a":         false,
		"ALTER TABLE models ADD COLUMN kind String DEFAULT 'churn'":      true,
	} {
		if got := clickhouse.AddsOneColumn(stmt); got != want {
			t.Errorf("%q: forgiven %v, want %v", stmt, got, want)
		}
	}
}

// rerunMigration20 records the migrations before 0020 only, migrates and
// checks that 0020 alone was applied and that scores has its two columns.
func rerunMigration20(t *testing.T, c *clickhouse.Client, cfg clickhouse.Config) {
	t.Helper()
	ctx := context.Background()
	mustExec(t, c, "TRUNCATE TABLE schema_migrations")
	mustExec(t, c, "INSERT INTO schema_migrations (version, name, applied_at) SELECT number + 1, 'before 0020', now() FROM system.numbers LIMIT 19")
	res, err := clickhouse.Migrate(ctx, cfg, nil)
	if err != nil || len(res.Applied) != 1 || res.Applied[0].Version != 20 {
		t.Fatalf("migrate applied %v (%v), want 0020", res.Applied, err)
	}
	var n uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'scores' AND name IN ('uplift', 'uplift_model')").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d of the two uplift columns in scores (%v)", n, err)
	}
}

func mustExec(t *testing.T, c *clickhouse.Client, q string) {
	t.Helper()
	if err := c.Conn().Exec(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestMigrateCreatesEveryContractTableWithItsColumns(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	for _, tbl := range dataset.Tables {
		// system.columns of 18.16 has no position column: compare as sets.
		rows, err := c.Conn().Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", c.Database(), tbl.Name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			got = append(got, name+" "+typ)
		}
		rows.Close()
		if len(got) != len(tbl.Columns) {
			t.Fatalf("%s: columns %v, contract has %d", tbl.Name, got, len(tbl.Columns))
		}
		for _, col := range tbl.Columns {
			want := col.Name + " " + string(col.Type)
			if col.Nullable {
				want = col.Name + " Nullable(" + string(col.Type) + ")"
			}
			if !slices.Contains(got, want) {
				t.Errorf("%s: no column %q in %v", tbl.Name, want, got)
			}
		}
	}
	for _, out := range []string{"models", "model_events", "score_runs", "scores", "action_events", "job_runs"} {
		var n uint64
		if err := c.Conn().QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", c.Database(), out).Scan(&n); err != nil || n != 1 {
			t.Errorf("output table %s missing (err %v)", out, err)
		}
	}
}

func TestMigrateRejectsABadDatabaseName(t *testing.T) {
	_, err := clickhouse.Migrate(context.Background(), clickhouse.Config{Addr: chtest.Addr(), Database: "churn; DROP"}, nil)
	if err == nil {
		t.Fatal("migrate accepted database name with a semicolon")
	}
}

func tableList(t *testing.T, c *clickhouse.Client) []string {
	t.Helper()
	rows, err := c.Conn().Query(context.Background(), "SELECT name FROM system.tables WHERE database = ? ORDER BY name", c.Database())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// Migration 0019 stores scores in run order; the scores a database holds
// from before it are copied, and the customer history reads them.
func TestScoresWrittenBeforeTheRunOrderSurviveItsMigration(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	for _, q := range []string{
		"DROP TABLE scores",
		`CREATE TABLE scores (run_id String, as_of Date, customer_id String, model_version UInt32, probability Float32,
    band String, tier String, lifetime_value Float32, expected_loss Float32, reasons String)
ENGINE = MergeTree PARTITION BY toYYYYMM(as_of) ORDER BY (customer_id, as_of, run_id)`,
		"TRUNCATE TABLE schema_migrations",
		"INSERT INTO schema_migrations (version, name, applied_at) SELECT number + 1, 'before 0019', now() FROM system.numbers LIMIT 18",
	} {
		if err := c.Conn().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	may, june := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		id string
		at time.Time
	}{{"run-may", may}, {"run-june", june}} {
		// the columns of the table as it was: this version's WriteScores
		// writes columns later migrations add
		q := `INSERT INTO scores (run_id, as_of, customer_id, model_version, probability, band, tier, lifetime_value, expected_loss, reasons)
SELECT ?, toDate(?), concat('C', substring(toString(100000 + number), 2)), 1, number / 3000, 'low', 'C', 0, 0,
    concat('[{"feature":"tenure_days","value":', toString(number), ',"contribution":0.1,"text":"new customer"}]')
FROM system.numbers LIMIT 3000`
		if err := c.Conn().Exec(ctx, q, r.id, r.at.Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
		if err := c.RecordScoreRun(ctx, r.id, r.at, 1, churn.ScoreRunFinished, 3000, ""); err != nil {
			t.Fatal(err)
		}
	}
	res, err := clickhouse.Migrate(ctx, cfg, nil)
	if err != nil || len(res.Applied) != 2 || res.Applied[0].Version != 19 || res.Applied[1].Version != 20 {
		t.Fatalf("migrate applied %v (%v), want 0019 and 0020", res.Applied, err)
	}
	var ddl string
	if err := c.Conn().QueryRow(ctx, "SHOW CREATE TABLE scores").Scan(&ddl); err != nil || !strings.Contains(ddl, "ORDER BY (run_id, customer_id)") {
		t.Fatalf("scores after 0019: %s (%v)", ddl, err)
	}
	if tables := tableList(t, c); slices.Contains(tables, "scores_v1") || slices.Contains(tables, "scores_v2") {
		t.Errorf("0019 left its work tables: %v", tables)
	}
	n := 0
	if err := c.ScanRunScores(ctx, "run-june", func(s churn.Score) error {
		n++
		if len(s.Reasons) != 1 || s.Reasons[0].Text != "new customer" {
			return fmt.Errorf("score %+v lost its reasons", s)
		}
		if s.UpliftModel != 0 || s.Uplift != 0 {
			return fmt.Errorf("score %+v written before 0020 has an uplift", s)
		}
		return nil
	}); err != nil || n != 3000 {
		t.Fatalf("run-june after 0019: %d scores (%v), want 3000", n, err)
	}
	hist, err := c.CustomerHistory(ctx, "C00042", 10)
	if err != nil || len(hist) != 2 || hist[0].RunID != "run-may" || hist[1].RunID != "run-june" || hist[1].Probability != float64(float32(42.0/3000)) {
		t.Fatalf("history of C00042 after 0019: %+v (%v), want May's and June's scores", hist, err)
	}
	if hist, err := c.CustomerHistory(ctx, "C00042", 1); err != nil || len(hist) != 1 || hist[0].RunID != "run-june" {
		t.Fatalf("the latest score of C00042: %+v (%v)", hist, err)
	}
	// A customer the latest runs no longer score (one who left) keeps the
	// history of the runs that did.
	july := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	if err := c.WriteScores(ctx, []churn.Score{{RunID: "run-july", AsOf: july, CustomerID: "C00001", ModelVersion: 1, Band: churn.RiskLow, Tier: churn.TierC}}); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordScoreRun(ctx, "run-july", july, 1, churn.ScoreRunFinished, 1, ""); err != nil {
		t.Fatal(err)
	}
	if hist, err := c.CustomerHistory(ctx, "C00042", 1); err != nil || len(hist) != 1 || hist[0].RunID != "run-june" {
		t.Fatalf("the latest score of C00042, absent from run-july: %+v (%v), want June's", hist, err)
	}
	if hist, err := c.CustomerHistory(ctx, "C00001", 5); err != nil || len(hist) != 3 || hist[2].RunID != "run-july" {
		t.Fatalf("the history of C00001: %+v (%v), want May, June and July", hist, err)
	}
	if hist, err := c.CustomerHistory(ctx, "nobody", 5); err != nil || len(hist) != 0 {
		t.Fatalf("the history of an unknown customer: %+v (%v)", hist, err)
	}
}
