package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset"
)

// TestRunningAnImportAgainAfterAClickHouseCrashLoadsItOnce cuts an import
// short by killing a private ClickHouse (never the shared one) between two
// partition moves, then runs `churn import` as an operator would: exit 3
// while the server is down, `churn status` listing the staging table once it
// is back, and the same command again taking the moved rows out and loading
// the file exactly once.
func TestRunningAnImportAgainAfterAClickHouseCrashLoadsItOnce(t *testing.T) {
	srv := chtest.StartServer(t)
	c, cfg := srv.NewDB(t)
	ctx := context.Background()
	testdata := filepath.Join("..", "..", "dataset", "testdata")
	db := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	usage := filepath.Join(testdata, "usage_daily.csv")
	if _, errOut, code := run(t, append([]string{"import", "--table", "customers", "--csv", filepath.Join(testdata, "customers.csv")}, db...)...); code != 0 {
		t.Fatalf("import customers: exit %d\n%s", code, errOut)
	}

	f, err := os.Open(usage)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tb, _ := dataset.TableByName("usage_daily")
	cols, err := dataset.ReadCSV(ctx, f, tb, dataset.ReadOptions{Name: usage, Lookup: c})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Import(ctx, "usage_daily", cols, clickhouse.ImportOptions{BlockRows: 2,
		AfterPartition: func(string) { srv.Stop() }})
	if err == nil || !strings.Contains(err.Error(), "run the same import again") {
		t.Fatalf("import cut short: %v; want advice to run it again", err)
	}

	args := append([]string{"import", "--table", "usage_daily", "--csv", usage, "--block-rows", "2"}, db...)
	if _, errOut, code := run(t, args...); code != 3 {
		t.Errorf("import while ClickHouse is down: exit %d, want 3\n%s", code, errOut)
	}
	srv.Start()
	out, errOut, code := run(t, append([]string{"status"}, db...)...)
	if code != 0 || !strings.Contains(out, "unfinished imports: 1 staging table left") || !strings.Contains(out, "some rows may be in the table") {
		t.Errorf("status after the crash: exit %d\n%s%s\nwant the staging table listed", code, out, errOut)
	}
	out, errOut, code = run(t, args...)
	if code != 0 || !strings.Contains(out, "recovered import") || !strings.Contains(out, "took out 5 rows") || !strings.Contains(out, "imported 6 rows") {
		t.Fatalf("the same import again: exit %d\n%s%s", code, out, errOut)
	}
	c2, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	var rows, keys uint64
	if err := c2.Conn().QueryRow(ctx, "SELECT count(), uniqExact(customer_id, day) FROM usage_daily").Scan(&rows, &keys); err != nil {
		t.Fatal(err)
	}
	if rows != 6 || keys != 6 {
		t.Errorf("usage_daily has %d rows of %d keys, want 6 of 6", rows, keys)
	}
	if out, _, _ := run(t, append([]string{"status"}, db...)...); strings.Contains(out, "unfinished imports") {
		t.Errorf("status after the re-run still lists unfinished imports:\n%s", out)
	}
}
