package clickhouse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// TestAnImportCutShortByAClickHouseCrashIsTakenOutByTheNextRunWhichLoadsItOnce
// kills a private ClickHouse (never the shared one) at chosen moments of a
// staged import: after staging, between the partition moves, and after the
// last move. Each time the import fails as unavailable (exit 3), and once the
// server is back, recovering leaves the table exactly as it was before the
// import (rows stored earlier in the same partitions included, and the usage
// rollups equal to it) with no staging table, and running the same import
// again loads every row once.
func TestAnImportCutShortByAClickHouseCrashIsTakenOutByTheNextRunWhichLoadsItOnce(t *testing.T) {
	srv := chtest.StartServer(t)
	// The sample file has 5 rows in 202401 and 1 in 202402.
	moments := []struct {
		name    string
		visible uint64 // rows of the import in the table after the crash
		arm     func(opts *clickhouse.ImportOptions, crash func())
	}{
		{"after staging", 0, func(o *clickhouse.ImportOptions, crash func()) { o.AfterStaged = crash }},
		{"between partition moves", 5, func(o *clickhouse.ImportOptions, crash func()) {
			o.AfterPartition = func(p string) {
				if p == "202401" {
					crash()
				}
			}
		}},
		{"SYSTEM SHUTDOWN between partition moves", 5, func(o *clickhouse.ImportOptions, crash func()) {
			o.AfterPartition = func(p string) {
				if p == "202401" {
					crash()
				}
			}
		}},
		{"after the last partition move", 6, func(o *clickhouse.ImportOptions, crash func()) {
			o.AfterPartition = func(p string) {
				if p == "202402" {
					crash()
				}
			}
		}},
	}
	for _, m := range moments {
		t.Run(m.name, func(t *testing.T) {
			ctx := context.Background()
			c, cfg := srv.NewDB(t)
			impSample(t, c, "customers", clickhouse.ImportOptions{})
			impEarlierUsage(t, c)
			usage := impTable(t, "usage_daily")
			before, err := c.TableChecksum(ctx, usage)
			if err != nil {
				t.Fatal(err)
			}

			cols, err := impRead(t, c, "usage_daily", "")
			if err != nil {
				t.Fatal(err)
			}
			crashed := false
			opts := clickhouse.ImportOptions{BlockRows: 2}
			m.arm(&opts, func() {
				crashed = true
				if strings.HasPrefix(m.name, "SYSTEM SHUTDOWN") {
					// The reply may be lost as the server goes: the kill
					// that follows makes sure it has gone.
					_ = c.Conn().Exec(context.Background(), "SYSTEM SHUTDOWN")
				}
				srv.Stop()
			})
			err = c.Import(ctx, "usage_daily", cols, opts)
			if !crashed {
				t.Fatalf("the import never reached the moment of the crash (err %v)", err)
			}
			if churn.ErrorKind(err) != churn.KindUnavailable {
				t.Fatalf("import during the crash: %v (kind %s), want unavailable", err, churn.ErrorKind(err))
			}
			c.Close()

			srv.Start()
			c2, err := clickhouse.Open(ctx, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c2.Close()
			pending, err := c2.PendingImports(ctx)
			if err != nil || len(pending) != 1 || pending[0].Table != "usage_daily" || pending[0].Rows != 6 {
				t.Fatalf("pending imports after the restart: %+v, %v; want the one into usage_daily of 6 rows", pending, err)
			}
			rec, err := c2.RecoverImports(ctx, "usage_daily", clickhouse.ImportOptions{})
			if err != nil || len(rec) != 1 || rec[0].ID != pending[0].ID || rec[0].Removed != m.visible {
				t.Fatalf("recover: %+v, %v; want import %s recovered, %d rows taken out", rec, err, pending[0].ID, m.visible)
			}
			after, err := c2.TableChecksum(ctx, usage)
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Errorf("usage_daily is %+v after recovery (%d rows taken out), was %+v before the import", after, rec[0].Removed, before)
			}
			if n := stagingTables(t, c2); n != 0 {
				t.Errorf("%d staging tables left after recovery", n)
			}
			// The moved months' rollups, rebuilt by the recovery, hold
			// exactly the rows left in usage_daily.
			sameSnapshots(t, c2, "2024-01-20", "2024-03-01")

			// The same import again: validation passes, every row lands once.
			again, err := impRead(t, c2, "usage_daily", "")
			if err != nil {
				t.Fatalf("the file is refused after recovery: %v", err)
			}
			if err := c2.Import(ctx, "usage_daily", again, clickhouse.ImportOptions{BlockRows: 2}); err != nil {
				t.Fatal(err)
			}
			if n := impCount(t, c2, "SELECT count() FROM usage_daily"); n != before.Rows+6 {
				t.Errorf("usage_daily has %d rows after the re-run, want %d", n, before.Rows+6)
			}
			if n := impCount(t, c2, "SELECT count() FROM (SELECT customer_id, day FROM usage_daily GROUP BY customer_id, day HAVING count() > 1)"); n != 0 {
				t.Errorf("%d keys are stored twice after the re-run", n)
			}
			if p, err := c2.PendingImports(ctx); err != nil || len(p) != 0 {
				t.Errorf("pending imports after the re-run: %+v, %v; want none", p, err)
			}
			if sameSnapshots(t, c2, "2024-01-20", "2024-03-01") == 0 {
				t.Error("no usage in the snapshots after the re-run")
			}
		})
	}
}

// TestAFailedMoveWhileClickHouseAnswersIsUndoneAtOnceAndNeedsNoRecovery
// checks the journal of an import undone by Import itself: nothing is left
// for RecoverImports.
func TestAFailedMoveWhileClickHouseAnswersIsUndoneAtOnceAndNeedsNoRecovery(t *testing.T) {
	c, cols := impUsageReady(t)
	var err error
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = c.Import(ctx, "usage_daily", cols, clickhouse.ImportOptions{BlockRows: 2, AfterPartition: func(string) { cancel() }})
	if err == nil || strings.Contains(err.Error(), "run the same import again") {
		t.Fatalf("import cancelled between moves: %v; want an error that needs no re-run", err)
	}
	if p, err := c.PendingImports(context.Background()); err != nil || len(p) != 0 {
		t.Errorf("pending imports: %+v, %v; want none", p, err)
	}
	if n := impCount(t, c, "SELECT count() FROM import_journal WHERE step = 'undone'"); n != 1 {
		t.Errorf("%d undone steps in the journal, want 1", n)
	}
}

// TestRecoveryLeavesAnImportWhoseProcessStillRunsAlone runs a recovery, as a
// second `churn import` into the same table would, while a staged import is
// between its moves: the running import keeps its staging table and loads
// every row.
func TestRecoveryLeavesAnImportWhoseProcessStillRunsAlone(t *testing.T) {
	c, cols := impUsageReady(t)
	var recovered []clickhouse.RecoveredImport
	var rerr error
	err := c.Import(context.Background(), "usage_daily", cols, clickhouse.ImportOptions{BlockRows: 2, Owner: "host-a:41",
		AfterPartition: func(p string) {
			if p == "202401" {
				recovered, rerr = c.RecoverImports(context.Background(), "usage_daily", clickhouse.ImportOptions{
					Owner: "host-a:42", Running: func(owner string) bool { return owner == "host-a:41" }})
			}
		}})
	if err != nil || rerr != nil || len(recovered) != 0 {
		t.Fatalf("import %v; recovery during it: %+v, %v; want both to succeed and nothing recovered", err, recovered, rerr)
	}
	if n := impCount(t, c, "SELECT count() FROM usage_daily"); n != 6 {
		t.Errorf("usage_daily has %d rows, want 6", n)
	}
}
