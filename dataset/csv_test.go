package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

// fakeStore is an in-memory KeyLookup: table -> rows of column -> canonical value.
type fakeStore struct {
	rows  map[string][]map[string]string
	scans []KeyScan
}

func (f *fakeStore) ScanKeys(_ context.Context, s KeyScan, fn func([]string) error) error {
	f.scans = append(f.scans, s)
	vals := make([]string, len(s.Columns))
	for _, row := range f.rows[s.Table] {
		if r := s.Range; r != nil && (row[r.Column.Name] < r.From || row[r.Column.Name] > r.To) {
			continue // canonical dates compare as text
		}
		for i, c := range s.Columns {
			vals[i] = row[c.Name]
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return nil
}

// knownCustomers is a store holding the customers and invoices the sample files refer to.
func knownCustomers() *fakeStore {
	f := &fakeStore{rows: map[string][]map[string]string{}}
	for _, id := range []string{"C0001", "C0002", "C0003", "C0004", "C0005"} {
		f.rows["customers"] = append(f.rows["customers"], map[string]string{"customer_id": id})
	}
	for _, id := range []string{"INV-2024-0001", "INV-2024-0002", "INV-2024-0003"} {
		f.rows["invoices"] = append(f.rows["invoices"], map[string]string{"invoice_id": id})
	}
	return f
}

func mustTable(t testing.TB, name string) Table {
	t.Helper()
	tb, ok := TableByName(name)
	if !ok {
		t.Fatalf("no contract table %q", name)
	}
	return tb
}

func read(t testing.TB, table, body string, store KeyLookup, limit int) (*Columns, error) {
	t.Helper()
	return ReadCSV(context.Background(), strings.NewReader(body), mustTable(t, table),
		ReadOptions{Name: "f.csv", MaxErrors: limit, Lookup: store})
}

// problemLines returns the FILE:LINE lines of an invalid-file error.
func problemLines(t testing.TB, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("file accepted, want problems")
	}
	if k := churn.ErrorKind(err); k != churn.KindInvalid {
		t.Fatalf("error kind = %v, want invalid: %v", k, err)
	}
	var p *Problems
	if !errors.As(err, &p) {
		t.Fatalf("error does not wrap *Problems: %v", err)
	}
	return p.Lines()
}

func TestSampleFilesAreValid(t *testing.T) {
	for _, tb := range Tables {
		t.Run(tb.Name, func(t *testing.T) {
			path := filepath.Join("testdata", tb.Name+".csv")
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			store := knownCustomers()
			delete(store.rows, tb.Name) // the file's own keys are new
			c, err := ReadCSV(context.Background(), bytes.NewReader(body), tb, ReadOptions{Name: path, Lookup: store})
			if err != nil {
				t.Fatalf("sample file rejected: %v", err)
			}
			if want := bytes.Count(body, []byte("\n")) - 1; c.Len() != want {
				t.Fatalf("rows = %d, want %d", c.Len(), want)
			}
		})
	}
}

func TestReadCSVKeepsTypedValues(t *testing.T) {
	body, err := os.ReadFile("testdata/support_tickets.csv")
	if err != nil {
		t.Fatal(err)
	}
	c, err := read(t, "support_tickets", string(body), knownCustomers(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 3339 with an offset is converted to UTC; empty and NA are NULL where nullable.
	if got := c.Value(1, "opened_at"); got != "2024-01-05 13:00:00" {
		t.Errorf("opened_at of T-0002 = %q, want 2024-01-05 13:00:00 (UTC)", got)
	}
	block := c.Block(0, c.Len())
	resolved, ok := block[4].([]*time.Time)
	if !ok {
		t.Fatalf("resolved_at block is %T, want []*time.Time", block[4])
	}
	if resolved[1] != nil || resolved[2] == nil || !resolved[2].Equal(time.Date(2024, 1, 9, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("resolved_at = %v %v, want nil and 2024-01-09 10:30:00 UTC", resolved[1], resolved[2])
	}
	sat, ok := block[5].([]*uint8)
	if !ok {
		t.Fatalf("satisfaction block is %T, want []*uint8", block[5])
	}
	if sat[0] == nil || *sat[0] != 4 || sat[1] != nil || sat[2] != nil {
		t.Errorf("satisfaction = %v, want 4, NULL, NULL", sat[:3])
	}
	if _, ok := block[2].([]time.Time); !ok {
		t.Errorf("opened_at block is %T, want []time.Time", block[2])
	}
}

func TestBlockUsesDriverTypesForEveryColumnType(t *testing.T) {
	body, err := os.ReadFile("testdata/usage_daily.csv")
	if err != nil {
		t.Fatal(err)
	}
	c, err := read(t, "usage_daily", string(body), knownCustomers(), 0)
	if err != nil {
		t.Fatal(err)
	}
	block := c.Block(1, 3)
	for i, want := range []string{"[]string", "[]time.Time", "[]float32", "[]float32", "[]uint32", "[]uint32", "[]float32", "[]float32", "[]uint32"} {
		if got := typeName(block[i]); got != want {
			t.Errorf("column %s: block type %s, want %s", c.Names()[i], got, want)
		}
	}
	days := block[1].([]time.Time)
	if len(days) != 2 || !days[0].Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) || days[0].Location() != time.UTC {
		t.Errorf("days = %v, want [2024-01-02 UTC, ...]", days)
	}
	if got := block[2].([]float32)[1]; got != 120.75 {
		t.Errorf("voice_minutes of row 2 = %v, want 120.75", got)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case []string:
		return "[]string"
	case []time.Time:
		return "[]time.Time"
	case []float32:
		return "[]float32"
	case []uint32:
		return "[]uint32"
	}
	return "other"
}

const customersHeader = "customer_id,signup_date,region,segment,payment_method\n"
const usageHeader = "customer_id,day,voice_minutes,data_mb,sms,calls,intl_minutes,roaming_minutes,dropped_calls\n"

func TestReadCSVReportsEachProblemWithFileLineAndColumn(t *testing.T) {
	tests := []struct {
		name, table, body string
		want              []string
	}{
		{"missing column", "customers", "customer_id,signup_date,region,payment_method\nC1,2024-01-01,n,cash\n",
			[]string{"f.csv:1: segment: missing from the header"}},
		{"unknown column", "churn_events", "customer_id,churned_at,reason,kind,colour\n",
			[]string{"f.csv:1: colour: unknown column; churn_events has customer_id, churned_at, reason, kind"}},
		{"column named in another case", "churn_events", "Customer_ID,churned_at,reason,kind\n",
			[]string{`f.csv:1: customer_id: missing from the header (found "Customer_ID": names are case-sensitive)`,
				"f.csv:1: Customer_ID: unknown column; churn_events has customer_id, churned_at, reason, kind"}},
		{"repeated column", "churn_events", "customer_id,churned_at,reason,kind,reason\n",
			[]string{"f.csv:1: reason: named twice in the header (fields 3 and 5)"}},
		{"empty file", "churn_events", "",
			[]string{"f.csv:1: the file is empty; the first line must name the columns: customer_id,churned_at,reason,kind"}},
		{"ragged row", "customers", customersHeader + "C0001,2024-01-01,n,consumer\n",
			[]string{"f.csv:2: expected 5 fields, got 4"}},
		{"bad date", "customers", customersHeader + "C0001,2024-13-01,n,consumer,cash\n",
			[]string{`f.csv:2: signup_date: "2024-13-01" is not a date: no such day`}},
		{"not a date at all", "customers", customersHeader + "C0001,01/02/2024,n,consumer,cash\n",
			[]string{`f.csv:2: signup_date: "01/02/2024" is not a date (want YYYY-MM-DD)`}},
		{"date with a time", "customers", customersHeader + "C0001,2024-01-02 10:00:00,n,consumer,cash\n",
			[]string{`f.csv:2: signup_date: "2024-01-02 10:00:00" has a time of day, but the column holds dates (YYYY-MM-DD)`}},
		{"date before 1970", "customers", customersHeader + "C0001,1969-12-31,n,consumer,cash\n",
			[]string{"f.csv:2: signup_date: 1969-12-31 is before 1970-01-01, the earliest date ClickHouse stores"}},
		{"bad enum", "customers", customersHeader + "C0001,2024-01-01,n,household,cash\n",
			[]string{`f.csv:2: segment: "household" is not one of consumer, business`}},
		{"empty key", "customers", customersHeader + ",2024-01-01,n,consumer,cash\n",
			[]string{"f.csv:2: customer_id: empty, but every row needs customer_id"}},
		{"duplicate key in the file", "customers", customersHeader + "C0006,2024-01-01,n,consumer,cash\nC0007,2024-01-01,n,consumer,cash\nC0006,2024-02-01,s,business,cash\n",
			[]string{"f.csv:4: customer_id: duplicate key customer_id=C0006, first on line 2"}},
		{"bad number", "usage_daily", usageHeader + "C0001,2024-01-01,ten,1,1,1,0,0,0\n",
			[]string{`f.csv:2: voice_minutes: "ten" is not a number`}},
		{"value out of range", "usage_daily", usageHeader + "C0001,2024-01-01,1441,1,1,1,0,0,0\n",
			[]string{"f.csv:2: voice_minutes: 1441 is above the maximum 1440"}},
		{"negative count", "usage_daily", usageHeader + "C0001,2024-01-01,1,1,-2,1,0,0,0\n",
			[]string{"f.csv:2: sms: -2 is below the minimum 0"}},
		{"fractional count", "usage_daily", usageHeader + "C0001,2024-01-01,1,1,2.5,1,0,0,0\n",
			[]string{"f.csv:2: sms: 2.5 is not a whole number"}},
		{"not finite", "usage_daily", usageHeader + "C0001,2024-01-01,NaN,1,2,1,0,0,0\n",
			[]string{`f.csv:2: voice_minutes: "NaN" is not a finite number`}},
		{"NA where not nullable", "usage_daily", usageHeader + "C0001,2024-01-01,1,NA,2,1,0,0,0\n",
			[]string{`f.csv:2: data_mb: missing value "NA", but data_mb cannot be empty (a number)`}},
		{"empty where not nullable", "usage_daily", usageHeader + "C0001,,1,1,2,1,0,0,0\n",
			[]string{"f.csv:2: day: empty, but every row needs day (a date, YYYY-MM-DD)"}},
		{"composite key repeated", "usage_daily", usageHeader + "C0001,2024-01-01,1,1,2,1,0,0,0\nC0001,2024-01-02,1,1,2,1,0,0,0\nC0001,2024-01-01,3,1,2,1,0,0,0\n",
			[]string{"f.csv:4: customer_id,day: duplicate key customer_id=C0001 day=2024-01-01, first on line 2"}},
		{"unknown reference", "usage_daily", usageHeader + "C0001,2024-01-01,1,1,2,1,0,0,0\nC9999,2024-01-01,1,1,2,1,0,0,0\n",
			[]string{`f.csv:3: customer_id: unknown customer_id "C9999": not in table customers`}},
		{"unknown invoice", "payments", "invoice_id,customer_id,paid_at,amount\nINV-X,C0001,2024-01-01,5\n",
			[]string{`f.csv:2: invoice_id: unknown invoice_id "INV-X": not in table invoices`}},
		{"key already stored", "customers", customersHeader + "C0006,2024-01-01,n,consumer,cash\nC0002,2024-01-01,n,consumer,cash\n",
			[]string{"f.csv:3: customer_id: customer_id=C0002 is already in table customers; import only adds new rows"}},
		{"due date before issue", "invoices", "invoice_id,customer_id,issued_at,due_date,amount\nI1,C0001,2024-02-01,2024-01-15,5\n",
			[]string{"f.csv:2: due_date: 2024-01-15 is before issued_at 2024-02-01"}},
		{"resolved before opened", "support_tickets", "ticket_id,customer_id,opened_at,category,resolved_at,satisfaction\nT1,C0001,2024-01-02 10:00:00,billing,2024-01-02 09:59:59,3\n",
			[]string{"f.csv:2: resolved_at: 2024-01-02 09:59:59 is before opened_at 2024-01-02 10:00:00"}},
		{"satisfaction out of range", "support_tickets", "ticket_id,customer_id,opened_at,category,resolved_at,satisfaction\nT1,C0001,2024-01-02 10:00:00,billing,,6\n",
			[]string{"f.csv:2: satisfaction: 6 is above the maximum 5"}},
		{"bad date-time", "support_tickets", "ticket_id,customer_id,opened_at,category,resolved_at,satisfaction\nT1,C0001,2024-01-02 25:00:00,billing,,\n",
			[]string{`f.csv:2: opened_at: "2024-01-02 25:00:00" is not a date-time: hour out of range`}},
		{"line of a field after a multi-line quoted cell", "customers", customersHeader + "C0007,2024-01-01,\"two\nlines\",consumer,cash\nC0006,2024-01-01,n,consumer,kash\n",
			[]string{`f.csv:4: payment_method: "kash" is not one of direct_debit, credit_card, bank_transfer, cash`}},
		{"bare quote, then reading goes on", "customers", customersHeader + "C0006,2024-01-01,a\"b,consumer,cash\nC0007,2024-01-01,n,consumer,kash\n",
			[]string{`f.csv:2: bare " in non-quoted-field`,
				`f.csv:3: payment_method: "kash" is not one of direct_debit, credit_card, bank_transfer, cash`}},
		{"several problems in line order", "customers", customersHeader + "C0006,2024-01-01,n,consumer,cash\nC9,x,n,y,cash\nC0001,2024-01-01,n,consumer,cash\n",
			[]string{`f.csv:3: signup_date: "x" is not a date (want YYYY-MM-DD)`, `f.csv:3: segment: "y" is not one of consumer, business`,
				"f.csv:4: customer_id: customer_id=C0001 is already in table customers; import only adds new rows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read(t, tt.table, tt.body, knownCustomers(), 0)
			got := problemLines(t, err)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestReadCSVStopsListingAtTheLimitAndCountsTheRest(t *testing.T) {
	var b strings.Builder
	b.WriteString(customersHeader)
	for range 7 {
		b.WriteString("C1,bad,n,consumer,cash\n")
	}
	_, err := read(t, "customers", b.String(), nil, 3)
	got := problemLines(t, err)
	want := []string{
		`f.csv:2: signup_date: "bad" is not a date (want YYYY-MM-DD)`,
		`f.csv:3: signup_date: "bad" is not a date (want YYYY-MM-DD)`,
		`f.csv:4: signup_date: "bad" is not a date (want YYYY-MM-DD)`,
		"... and 4 more errors",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(err.Error(), "f.csv has 7 errors") {
		t.Errorf("error %q does not count all 7 errors", err)
	}
}

func TestReadCSVAcceptsQuotesCRLFBOMAndAnyColumnOrder(t *testing.T) {
	body := "\xEF\xBB\xBF\"payment_method\",segment,region,signup_date,customer_id\r\n" +
		"cash,consumer,\"east, \"\"coastal\"\"\",2024-01-01,C0006\r\n" +
		"direct_debit,business,north,2024-01-02,C0007\r\n"
	c, err := read(t, "customers", body, knownCustomers(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Fatalf("rows = %d, want 2", c.Len())
	}
	if got := c.Value(0, "region"); got != `east, "coastal"` {
		t.Errorf("region = %q, want east, \"coastal\"", got)
	}
	if got := c.Value(1, "customer_id"); got != "C0007" {
		t.Errorf("customer_id = %q, want C0007 (no trailing CR)", got)
	}
	if got := c.Line(1); got != 3 {
		t.Errorf("line of row 2 = %d, want 3", got)
	}
}

func TestReadCSVReadsGzipByMagicBytesWhateverTheName(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(customersHeader + "C0006,2024-01-01,n,consumer,cash\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCSV(context.Background(), bytes.NewReader(buf.Bytes()), mustTable(t, "customers"), ReadOptions{Name: "customers.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 1 || c.Value(0, "customer_id") != "C0006" {
		t.Errorf("got %d rows, first id %q; want 1 row C0006", c.Len(), c.Value(0, "customer_id"))
	}

	truncated := buf.Bytes()[:buf.Len()-6]
	_, err = ReadCSV(context.Background(), bytes.NewReader(truncated), mustTable(t, "customers"), ReadOptions{Name: "customers.csv.gz"})
	if churn.ErrorKind(err) != churn.KindInvalid || !strings.Contains(err.Error(), "truncated or corrupt") {
		t.Errorf("truncated gzip: err = %v, want invalid: truncated or corrupt", err)
	}
}

func TestReadCSVNamesFormatsThatAreNotCSV(t *testing.T) {
	for name, body := range map[string]string{
		"zip archive": "PK\x03\x04rest",
		"UTF-16":      "\xFF\xFEc\x00u\x00",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := read(t, "customers", body, nil, 0)
			if churn.ErrorKind(err) != churn.KindInvalid || !strings.Contains(err.Error(), name) {
				t.Errorf("err = %v, want an invalid error saying %s", err, name)
			}
		})
	}
}

func TestStoredKeysAreReadOnlyForTheFilesDateRange(t *testing.T) {
	store := knownCustomers()
	body := usageHeader + "C0001,2024-01-05,1,1,2,1,0,0,0\nC0002,2024-01-03,1,1,2,1,0,0,0\nC0001,2024-01-09,1,1,2,1,0,0,0\n"
	if _, err := read(t, "usage_daily", body, store, 0); err != nil {
		t.Fatal(err)
	}
	var r *KeyRange
	for _, s := range store.scans {
		if s.Table == "usage_daily" {
			r = s.Range
		}
	}
	if r == nil || r.Column.Name != "day" || r.From != "2024-01-03" || r.To != "2024-01-09" {
		t.Errorf("usage_daily key scan range = %+v, want day in [2024-01-03, 2024-01-09]", r)
	}
}

func TestReadCSVStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ReadCSV(ctx, strings.NewReader(customersHeader+"C1,2024-01-01,n,consumer,cash\n"), mustTable(t, "customers"), ReadOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestCustomersFileWithoutBillingIsPostpaid(t *testing.T) {
	body := "customer_id,signup_date,region,segment,payment_method\nC1,2024-01-02,north,consumer,cash\n"
	c, err := read(t, "customers", body, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Value(0, "billing"); got != churn.BillingPostpaid {
		t.Fatalf("billing = %q, want %q", got, churn.BillingPostpaid)
	}
}

func TestChurnEventsAcceptAWinBack(t *testing.T) {
	body := "customer_id,churned_at,reason,kind\nC0003,2024-01-02,price,voluntary\nC0003,2024-05-02,price,voluntary\nC0003,2024-05-02,other,voluntary\n"
	_, err := read(t, "churn_events", body, nil, 0)
	lines := problemLines(t, err)
	if len(lines) != 1 || !strings.Contains(lines[0], ":4: ") || !strings.Contains(lines[0], "duplicate key") {
		t.Fatalf("problems = %q, want only line 4's duplicate key", lines)
	}
}
