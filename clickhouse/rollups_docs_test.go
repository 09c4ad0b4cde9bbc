package clickhouse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The operator views example (docs/examples/operator-views.sql) replaces
// the usage rollups by plain views over a usage_daily that is itself a view:
// no INSERT fires their materialized views. Those views must compute what
// the materialized views do, so their SELECTs are the migrations' (the one
// definition usageRollups reads), character for character.
func TestOperatorViewsExampleDefinesTheRollupsAsTheMigrationsDo(t *testing.T) {
	rollups, err := usageRollups()
	if err != nil || len(rollups) == 0 {
		t.Fatalf("rollups of the migrations: %d (%v)", len(rollups), err)
	}
	b, err := os.ReadFile(filepath.Join("..", "docs", "examples", "operator-views.sql"))
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]string{}
	for _, stmt := range splitSQL(string(b)) {
		m := createViewRE.FindStringSubmatch(stmt)
		if m == nil || m[1] != "" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(m[4]), "AS"); ok {
			views[m[3]] = strings.TrimSpace(q)
		}
	}
	for _, r := range rollups {
		got, ok := views[r.table]
		switch {
		case !ok:
			t.Errorf("operator-views.sql does not define %s as a view (migration: materialized view %s)", r.table, r.view)
		case got != r.query:
			t.Errorf("operator-views.sql defines %s as\n%s\nthe migration's view %s as\n%s", r.table, got, r.view, r.query)
		}
	}
}
