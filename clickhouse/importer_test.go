package clickhouse_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset"
)

var _ dataset.KeyLookup = (*clickhouse.Client)(nil)

// impRead validates one of dataset/testdata's files against the database.
func impRead(t *testing.T, c *clickhouse.Client, table, body string) (*dataset.Columns, error) {
	t.Helper()
	tb, ok := dataset.TableByName(table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	if body == "" {
		b, err := os.ReadFile(filepath.Join("..", "dataset", "testdata", table+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	return dataset.ReadCSV(context.Background(), strings.NewReader(body), tb,
		dataset.ReadOptions{Name: table + ".csv", Lookup: c})
}

func impSample(t *testing.T, c *clickhouse.Client, table string, opts clickhouse.ImportOptions) {
	t.Helper()
	cols, err := impRead(t, c, table, "")
	if err != nil {
		t.Fatalf("validate %s: %v", table, err)
	}
	if err := c.Import(context.Background(), table, cols, opts); err != nil {
		t.Fatalf("import %s: %v", table, err)
	}
}

func impCount(t *testing.T, c *clickhouse.Client, q string) uint64 {
	t.Helper()
	var n uint64
	if err := c.Conn().QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestImportLoadsEverySampleFileInContractOrder(t *testing.T) {
	c, _ := chtest.NewDB(t)
	want := map[string]uint64{"customers": 5, "plan_changes": 6, "usage_daily": 6, "invoices": 5,
		"payments": 4, "support_tickets": 4, "churn_events": 3, "reactivations": 1, "topups": 2, "contract_terms": 3}
	for _, tb := range dataset.Tables {
		impSample(t, c, tb.Name, clickhouse.ImportOptions{})
		if got := impCount(t, c, "SELECT count() FROM "+tb.Name); got != want[tb.Name] {
			t.Errorf("%s has %d rows, want %d", tb.Name, got, want[tb.Name])
		}
	}
	// Values survive the trip: dates, UTC date-times, NULLs, floats and counts.
	checks := map[string]uint64{
		"SELECT count() FROM usage_daily WHERE day = toDate('2024-01-31') AND customer_id = 'C0004' AND sms = 12": 1,
		"SELECT count() FROM usage_daily WHERE voice_minutes = 120.75 AND data_mb = 2048":                         1,
		"SELECT count() FROM support_tickets WHERE resolved_at IS NULL":                                           1,
		"SELECT count() FROM support_tickets WHERE satisfaction IS NULL":                                          2,
		"SELECT count() FROM support_tickets WHERE toString(opened_at, 'UTC') = '2024-01-05 13:00:00'":            1,
		"SELECT count() FROM customers WHERE region = 'east, coastal'":                                            1,
		"SELECT count() FROM invoices WHERE amount = -5.75":                                                       1,
	}
	for q, want := range checks {
		if got := impCount(t, c, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}

func TestImportOfAFileWithOneBadRowWritesNothing(t *testing.T) {
	c, _ := chtest.NewDB(t)
	impSample(t, c, "customers", clickhouse.ImportOptions{})
	body := "customer_id,day,voice_minutes,data_mb,sms,calls,intl_minutes,roaming_minutes,dropped_calls\n" +
		"C0001,2024-01-01,1,1,1,1,0,0,0\n" +
		"C0002,2024-01-01,1,1,1,1,0,0,0\n" +
		"C0003,2024-01-01,1,1,1,1,0,0,-1\n"
	_, err := impRead(t, c, "usage_daily", body)
	if churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("err = %v, want invalid", err)
	}
	if want := "usage_daily.csv:4: dropped_calls: -1 is below the minimum 0"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
	if n := impCount(t, c, "SELECT count() FROM usage_daily"); n != 0 {
		t.Errorf("usage_daily has %d rows after a rejected file, want 0", n)
	}
}

func TestImportingTheSameCustomersTwiceFailsOnDuplicateKeys(t *testing.T) {
	c, _ := chtest.NewDB(t)
	impSample(t, c, "customers", clickhouse.ImportOptions{})
	before, err := c.TableChecksum(context.Background(), impTable(t, "customers"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = impRead(t, c, "customers", "")
	var p *dataset.Problems
	if !errors.As(err, &p) || p.Total != 5 {
		t.Fatalf("second import: err = %v, want 5 duplicate-key problems", err)
	}
	if want := "customers.csv:2: customer_id: customer_id=C0001 is already in table customers"; !strings.HasPrefix(p.Lines()[0], want) {
		t.Errorf("first problem = %q, want prefix %q", p.Lines()[0], want)
	}
	after, err := c.TableChecksum(context.Background(), impTable(t, "customers"))
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("customers changed: %+v, was %+v", after, before)
	}
}

func TestImportRefusesUsageOfUnknownCustomersAndStoredDays(t *testing.T) {
	c, _ := chtest.NewDB(t)
	impSample(t, c, "customers", clickhouse.ImportOptions{})
	impSample(t, c, "usage_daily", clickhouse.ImportOptions{})
	body := "customer_id,day,voice_minutes,data_mb,sms,calls,intl_minutes,roaming_minutes,dropped_calls\n" +
		"C0001,2024-01-02,1,1,1,1,0,0,0\n" + // stored already
		"C0001,2024-01-03,1,1,1,1,0,0,0\n" + // new
		"C0042,2024-01-03,1,1,1,1,0,0,0\n" // no such customer
	_, err := impRead(t, c, "usage_daily", body)
	var p *dataset.Problems
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want problems", err)
	}
	want := []string{
		"usage_daily.csv:2: customer_id,day: customer_id=C0001 day=2024-01-02 is already in table usage_daily; import only adds new rows",
		`usage_daily.csv:4: customer_id: unknown customer_id "C0042": not in table customers`,
	}
	if got := strings.Join(p.Lines(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestScanKeysWritesDateTimesInUTCAndHonoursTheRange(t *testing.T) {
	c, _ := chtest.NewDB(t)
	for _, name := range []string{"customers", "support_tickets", "usage_daily"} {
		impSample(t, c, name, clickhouse.ImportOptions{})
	}
	tickets := impTable(t, "support_tickets")
	opened, _ := tickets.Column("opened_at")
	resolved, _ := tickets.Column("resolved_at")
	var got []string
	err := c.ScanKeys(context.Background(), dataset.KeyScan{Table: "support_tickets", Columns: []dataset.Column{opened, resolved}},
		func(v []string) error { got = append(got, v[0]+"|"+v[1]); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "2024-01-05 13:00:00|") || !slices.Contains(got, "2024-01-07 08:00:00|2024-01-09 10:30:00") {
		t.Errorf("scanned %q, want UTC text and empty NULLs", got)
	}
	usage := impTable(t, "usage_daily")
	dayCol, _ := usage.Column("day")
	id, _ := usage.Column("customer_id")
	var n int
	err = c.ScanKeys(context.Background(), dataset.KeyScan{Table: "usage_daily", Columns: []dataset.Column{id, dayCol},
		Range: &dataset.KeyRange{Column: dayCol, From: "2024-01-02", To: "2024-01-31"}},
		func(v []string) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // C0001 on the 2nd and C0004 on the 31st
		t.Errorf("scan of 2024-01-02..31 returned %d rows, want 2", n)
	}
}

// impUsageReady makes a database with the sample customers and returns the
// sample usage file, validated against it.
func impUsageReady(t *testing.T) (*clickhouse.Client, *dataset.Columns) {
	t.Helper()
	c, _ := chtest.NewDB(t)
	impSample(t, c, "customers", clickhouse.ImportOptions{})
	cols, err := impRead(t, c, "usage_daily", "")
	if err != nil {
		t.Fatal(err)
	}
	return c, cols
}

// impEarlierUsage stores two usage rows, in the partitions of the sample
// file, before a test imports it.
func impEarlierUsage(t *testing.T, c *clickhouse.Client) {
	t.Helper()
	earlier, err := impRead(t, c, "usage_daily",
		"customer_id,day,voice_minutes,data_mb,sms,calls,intl_minutes,roaming_minutes,dropped_calls\n"+
			"C0002,2024-01-15,5,5,5,5,0,0,0\nC0003,2024-02-10,6,6,6,6,0,0,0\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Import(context.Background(), "usage_daily", earlier, clickhouse.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

func impTable(t *testing.T, name string) dataset.Table {
	t.Helper()
	tb, ok := dataset.TableByName(name)
	if !ok {
		t.Fatalf("no table %s", name)
	}
	return tb
}

func stagingTables(t *testing.T, c *clickhouse.Client) uint64 {
	t.Helper()
	return impCount(t, c, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%\\_import\\_%'")
}

func TestImportInBlocksGoesThroughStagingAndWritesEverything(t *testing.T) {
	c, _ := chtest.NewDB(t)
	impSample(t, c, "customers", clickhouse.ImportOptions{})
	var blocks, rows int
	var parts []string
	impSample(t, c, "usage_daily", clickhouse.ImportOptions{BlockRows: 2,
		AfterBlock:     func(n int) { blocks++; rows += n },
		AfterPartition: func(p string) { parts = append(parts, p) }})
	if blocks != 3 || rows != 6 {
		t.Errorf("wrote %d blocks of %d rows in all, want 3 blocks, 6 rows", blocks, rows)
	}
	if strings.Join(parts, ",") != "202401,202402" {
		t.Errorf("moved partitions %q, want 202401,202402", parts)
	}
	if n := impCount(t, c, "SELECT count() FROM usage_daily"); n != 6 {
		t.Errorf("usage_daily has %d rows, want 6", n)
	}
	if n := stagingTables(t, c); n != 0 {
		t.Errorf("%d staging tables left behind", n)
	}
}

// TestFailedImportInBlocksLeavesTheTableAsItWas interrupts a staged import at
// each stage: the table keeps exactly the rows it had, including rows stored
// earlier in the partitions the import touched, and no staging table remains.
func TestFailedImportInBlocksLeavesTheTableAsItWas(t *testing.T) {
	for _, stage := range []string{"between blocks", "between partition moves"} {
		t.Run(stage, func(t *testing.T) {
			c, _ := chtest.NewDB(t)
			impSample(t, c, "customers", clickhouse.ImportOptions{})
			impEarlierUsage(t, c)
			before, err := c.TableChecksum(context.Background(), impTable(t, "usage_daily"))
			if err != nil {
				t.Fatal(err)
			}

			cols, err := impRead(t, c, "usage_daily", "")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := clickhouse.ImportOptions{BlockRows: 2}
			if stage == "between blocks" {
				opts.AfterBlock = func(int) { cancel() }
			} else {
				opts.AfterPartition = func(string) { cancel() }
			}
			err = c.Import(ctx, "usage_daily", cols, opts)
			if err == nil {
				t.Fatal("interrupted import returned no error")
			}
			after, cerr := c.TableChecksum(context.Background(), impTable(t, "usage_daily"))
			if cerr != nil {
				t.Fatal(cerr)
			}
			if after != before {
				t.Errorf("usage_daily is %+v after the failed import (%v), was %+v", after, err, before)
			}
			if n := stagingTables(t, c); n != 0 {
				t.Errorf("%d staging tables left behind", n)
			}
		})
	}
}

func TestImportIntoADatabaseOlderThanTheJournalSaysToMigrate(t *testing.T) {
	c, _ := chtest.NewDB(t)
	cols, err := impRead(t, c, "customers", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Conn().Exec(context.Background(), "DROP TABLE data_origin"); err != nil {
		t.Fatal(err)
	}
	err = c.Import(context.Background(), "customers", cols, clickhouse.ImportOptions{})
	if churn.ErrorKind(err) != churn.KindNotFound || !strings.Contains(err.Error(), "run `churn migrate`") {
		t.Errorf("import without data_origin: %v; want not found, run churn migrate", err)
	}
}
