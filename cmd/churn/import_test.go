package main

import (
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/telcoretain/churn/clickhouse/chtest"
)

func TestImportRejectsBadFlagsBeforeConnecting(t *testing.T) {
	// Port 1: were the command to connect first, it would exit 3, not 2.
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown table", []string{"--table", "subscribers", "--csv", "x.csv"},
			`unknown table "subscribers": the contract tables are customers, plan_changes, usage_daily, invoices, payments, support_tickets, churn_events`},
		{"no table", []string{"--csv", "x.csv"}, "--table: missing"},
		{"no file", []string{"--table", "customers"}, "--csv: missing"},
		{"file not there", []string{"--table", "customers", "--csv", filepath.Join(t.TempDir(), "none.csv")}, "cannot open the file"},
		{"directory", []string{"--table", "customers", "--csv", t.TempDir()}, "is a directory"},
		{"no errors to show", []string{"--table", "customers", "--csv", "x.csv", "--max-errors", "0"}, "--max-errors: 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"import", "--clickhouse-addr", "127.0.0.1:1"}, tt.args...)
			_, errOut, code := run(t, args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// gzipCopy writes a gzip'd copy of src under a name without .gz: the format
// is recognised by content.
func gzipCopy(t *testing.T, src string) string {
	t.Helper()
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "usage.csv")
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestImportLoadsValidFilesAndRejectsBadOnesWritingNothing(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	db := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	imp := func(args ...string) (string, string, int) {
		return run(t, append(append([]string{"import"}, db...), args...)...)
	}
	rows := func(table string) uint64 {
		var n uint64
		if err := c.Conn().QueryRow(context.Background(), "SELECT count() FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testdata := filepath.Join("..", "..", "dataset", "testdata")

	out, errOut, code := imp("--table", "customers", "--csv", filepath.Join(testdata, "customers.csv"))
	if code != 0 || !strings.Contains(out, "imported 5 rows into "+cfg.Database+".customers") {
		t.Fatalf("customers: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = imp("--table", "usage_daily", "--csv", gzipCopy(t, filepath.Join(testdata, "usage_daily.csv")), "--block-rows", "4")
	if code != 0 || !strings.Contains(out, "imported 6 rows") {
		t.Fatalf("gzip'd usage_daily: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	bad := filepath.Join(t.TempDir(), "usage-bad.csv")
	body := "customer_id,day,voice_minutes,data_mb,sms,calls,intl_minutes,roaming_minutes,dropped_calls\r\n" +
		"C0001,2024-03-01,1,1,1,1,0,0,0\r\n" +
		"C0002,2024-03-01,1,1,1,1,0,0,0\r\n" +
		"C0003,2024-03-01,1,1,1,1,0,1441,0\r\n" +
		"C0077,2024-03-01,1,1,1,1,0,0,0\r\n" +
		"C0001,2024-01-02,1,1,1,1,0,0,0\r\n"
	if err := os.WriteFile(bad, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = imp("--table", "usage_daily", "--csv", bad, "--max-errors", "2")
	for _, want := range []string{
		bad + ":4: roaming_minutes: 1441 is above the maximum 1440",
		bad + `:5: customer_id: unknown customer_id "C0077": not in table customers`,
		"... and 1 more error\n",
		"usage-bad.csv has 3 errors; nothing was written",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code != 2 {
		t.Errorf("bad file: exit %d, want 2", code)
	}
	if n := rows("usage_daily"); n != 6 {
		t.Errorf("usage_daily has %d rows after the rejected file, want the 6 imported before", n)
	}

	_, errOut, code = imp("--table", "customers", "--csv", filepath.Join(testdata, "customers.csv"))
	if code != 2 || !strings.Contains(errOut, "customer_id=C0001 is already in table customers") {
		t.Errorf("second customers import: exit %d, stderr:\n%s\nwant exit 2 and duplicate keys", code, errOut)
	}
	if n := rows("customers"); n != 5 {
		t.Errorf("customers has %d rows after the repeated import, want 5", n)
	}
}

func TestAnImportCountsAsRunningOnlyWhileItsProcessOnThisHostExists(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		owner string
		want  bool
	}{
		{host + ":" + strconv.Itoa(os.Getppid()), true},
		{processOwner(), false}, // this process: the import that asks has stopped its earlier run
		{"elsewhere.example:" + strconv.Itoa(os.Getppid()), false},
		{host + ":0", false},
		{"no pid", false},
	}
	for _, tt := range tests {
		if got := importRunning(tt.owner); got != tt.want {
			t.Errorf("importRunning(%q) = %v, want %v", tt.owner, got, tt.want)
		}
	}
}
