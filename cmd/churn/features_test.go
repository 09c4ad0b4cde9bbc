package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/features"
)

// importSamples loads the sample files of dataset/testdata (usage up to
// 2024-02-01, so the data ends on 2024-02-02) and returns the flags that
// point at the database.
func importSamples(t *testing.T) []string {
	t.Helper()
	_, cfg := chtest.NewDB(t)
	db := []string{"--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database}
	for _, table := range []string{"customers", "plan_changes", "usage_daily", "invoices", "payments", "support_tickets", "churn_events"} {
		file := filepath.Join("..", "..", "dataset", "testdata", table+".csv")
		if _, errOut, code := run(t, append(append([]string{"import"}, db...), "--table", table, "--csv", file)...); code != 0 {
			t.Fatalf("import %s: exit %d: %s", table, code, errOut)
		}
	}
	return db
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestFeaturesExportsASnapshotAsOfTheDataEnd(t *testing.T) {
	db := importSamples(t)
	out := filepath.Join(t.TempDir(), "snap.csv")
	stdout, errOut, code := run(t, append([]string{"features", "--out", out}, db...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"wrote 5 customers", "as of 2024-02-02", "labels: unknown until the data reaches 2024-05-02 (30-day horizon and 60 days of prepaid inactivity"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	recs := readCSV(t, out)
	header := recs[0]
	if want := append(append([]string{"customer_id"}, features.Names(features.Registry())...), "label"); !slices.Equal(header, want) {
		t.Fatalf("header = %v", header)
	}
	if len(recs) != 6 {
		t.Fatalf("%d data rows, want 5", len(recs)-1)
	}
	region, label := slices.Index(header, "region"), len(header)-1
	for _, r := range recs[1:] {
		if r[label] != "" {
			t.Errorf("%s label %q, want empty: the horizon has not passed", r[0], r[label])
		}
		if r[0] == "C0003" && r[region] != "east, coastal" {
			t.Errorf("C0003 region %q, want the category name", r[region])
		}
	}
}

func TestFeaturesLabelsAPastSnapshot(t *testing.T) {
	db := importSamples(t)
	out := filepath.Join(t.TempDir(), "jan.csv")
	// C0003 churns on 2024-02-15: outside [2024-01-02, 2024-01-09).
	stdout, errOut, code := run(t, append([]string{"features", "--as-of", "2024-01-02", "--horizon", "7d", "--out", out}, db...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "labels: 0 churned before 2024-01-09") {
		t.Errorf("stdout:\n%s", stdout)
	}
	for _, r := range readCSV(t, out)[1:] {
		if r[len(r)-1] != "0" {
			t.Errorf("%s label %q, want 0", r[0], r[len(r)-1])
		}
	}
}

func TestFeaturesRejectsBadFlagsWritingNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.csv")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"features", "--out", out, "--horizon", "30x"}, "horizon"},
		{[]string{"features", "--out", out, "--as-of", "2024-02-30"}, "--as-of"},
		{[]string{"features"}, "--out"},
	}
	for _, tt := range tests {
		_, errOut, code := run(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tt.args, code, errOut, tt.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was written", out)
	}
}

func TestCustomersShowPrintsFeaturesWithDescriptionsAndUnits(t *testing.T) {
	db := importSamples(t)
	stdout, errOut, code := run(t, append([]string{"customers", "show", "C0001"}, db...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"customer C0001 as of 2024-02-02 (signed up 2023-01-15)",
		"tenure_days", "383", "Days since the customer signed up",
		"contract", "one_year",
		"last_satisfaction", "4", "score 1-5",
		"days_since_last_complaint", "missing", "no complaint in the two years",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestCustomersShowExplainsMissingCustomers(t *testing.T) {
	db := importSamples(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"customers", "show", "C9999"}, `no customer "C9999"`},
		{[]string{"customers", "show", "C0005", "--as-of", "2023-07-30"}, "signed up on 2023-07-30"},
		{[]string{"customers", "show", "C0003", "--as-of", "2024-03-01"}, "churned on 2024-02-15"},
	}
	for _, tt := range tests {
		_, errOut, code := run(t, append(tt.args, db...)...)
		if code != 4 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 4 with %q", tt.args, code, errOut, tt.want)
		}
	}
}
