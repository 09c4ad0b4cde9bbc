package clickhouse_test

import (
	"context"
	"slices"
	"testing"

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
