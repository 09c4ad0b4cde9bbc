package synth

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset"
)

// The default operator at a size where monthly rates are stable, generated
// once and shared by the tests that only read it.
var (
	fixtureOnce sync.Once
	fixtureData *Batch
	fixtureSum  Summary
	fixtureErr  error
)

const fixtureCustomers = 20000

func fixture(t *testing.T) (*Batch, Summary) {
	t.Helper()
	fixtureOnce.Do(func() {
		cfg := DefaultConfig()
		cfg.Customers = fixtureCustomers
		fixtureData, fixtureSum, fixtureErr = GenerateAll(context.Background(), cfg)
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureData, fixtureSum
}

func smallConfig(seed uint64) Config {
	cfg := DefaultConfig()
	cfg.Customers = 1200
	cfg.Months = 6
	cfg.Seed = seed
	cfg.ChunkSize = 100
	return cfg
}

func TestSameSeedGivesSameRowsWhateverTheWorkers(t *testing.T) {
	ctx := context.Background()
	a := smallConfig(42)
	a.Workers = 1
	b := smallConfig(42)
	b.Workers = 4
	b.ChunkSize = 37
	ra, sa, err := GenerateAll(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	rb, sb, err := GenerateAll(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ra.Blocks(), rb.Blocks()) {
		t.Fatal("same seed gave different rows with 1 worker and 4 workers")
	}
	if sa.Rows != sb.Rows || sa.ChurnEvents != sb.ChurnEvents || sa.Top20RevenueShare != sb.Top20RevenueShare {
		t.Fatalf("same seed gave different summaries: %+v vs %+v", sa, sb)
	}
}

func TestDifferentSeedGivesDifferentRows(t *testing.T) {
	ctx := context.Background()
	ra, _, err := GenerateAll(ctx, smallConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	rb, _, err := GenerateAll(ctx, smallConfig(2))
	if err != nil {
		t.Fatal(err)
	}
	for i, bl := range ra.Blocks() {
		if reflect.DeepEqual(bl.Data, rb.Blocks()[i].Data) {
			t.Errorf("%s: seeds 1 and 2 gave identical rows", bl.Table)
		}
	}
}

func TestBlocksFollowTheContractColumnOrder(t *testing.T) {
	b, _ := fixture(t)
	blocks := b.Blocks()
	if len(blocks) != len(dataset.Tables) {
		t.Fatalf("%d blocks, want %d tables", len(blocks), len(dataset.Tables))
	}
	for i, tbl := range dataset.Tables {
		bl := blocks[i]
		if bl.Table != tbl.Name || !slices.Equal(bl.Columns, tbl.ColumnNames()) {
			t.Errorf("block %d is %s%v, want %s%v", i, bl.Table, bl.Columns, tbl.Name, tbl.ColumnNames())
		}
		for j, col := range bl.Data {
			if n := reflect.ValueOf(col).Len(); n != bl.Rows {
				t.Errorf("%s.%s has %d values, want %d", bl.Table, bl.Columns[j], n, bl.Rows)
			}
		}
		if bl.Rows == 0 {
			t.Errorf("%s is empty", bl.Table)
		}
	}
}

func TestValuesRespectTheContract(t *testing.T) {
	b, _ := fixture(t)
	for i, bl := range b.Blocks() {
		tbl := dataset.Tables[i]
		for j, col := range tbl.Columns {
			switch v := bl.Data[j].(type) {
			case []string:
				for r, s := range v {
					if col.Enum != nil && !slices.Contains(col.Enum, s) {
						t.Fatalf("%s row %d: %s %q is not one of %v", tbl.Name, r, col.Name, s, col.Enum)
					}
					if s == "" {
						t.Fatalf("%s row %d: %s is empty", tbl.Name, r, col.Name)
					}
				}
			case []float32:
				checkBounds(t, tbl.Name, col, v)
			case []float64:
				checkBounds(t, tbl.Name, col, v)
			case []uint32:
				checkBounds(t, tbl.Name, col, v)
			case []*uint8:
				for r, p := range v {
					if p != nil && (float64(*p) < col.Min || float64(*p) > col.Max) {
						t.Fatalf("%s row %d: %s %d is outside [%g, %g]", tbl.Name, r, col.Name, *p, col.Min, col.Max)
					}
				}
			}
		}
	}
	for r, due := range b.Invoices.DueDate {
		if days := due.Sub(b.Invoices.IssuedAt[r]).Hours() / 24; days < 14 || days > 21 {
			t.Fatalf("invoice %s is due %g days after issue, want 14 to 21", b.Invoices.InvoiceID[r], days)
		}
	}
	for r, at := range b.Tickets.ResolvedAt {
		if at != nil && at.Before(b.Tickets.OpenedAt[r]) {
			t.Fatalf("ticket %s resolved before it was opened", b.Tickets.TicketID[r])
		}
	}
}

func checkBounds[T float32 | float64 | uint32](t *testing.T, table string, col dataset.Column, v []T) {
	t.Helper()
	for r, x := range v {
		if float64(x) < col.Min || (col.Max != 0 && float64(x) > col.Max) {
			t.Fatalf("%s row %d: %s %v is outside [%g, %g]", table, r, col.Name, x, col.Min, col.Max)
		}
	}
}

func TestIdentifiersAreUnique(t *testing.T) {
	b, _ := fixture(t)
	unique := func(name string, n int, key func(i int) string) {
		seen := make(map[string]bool, n)
		for i := range n {
			k := key(i)
			if seen[k] {
				t.Fatalf("%s: %q appears twice", name, k)
			}
			seen[k] = true
		}
	}
	unique("customers.customer_id", len(b.Customers.ID), func(i int) string { return b.Customers.ID[i] })
	unique("invoices.invoice_id", len(b.Invoices.InvoiceID), func(i int) string { return b.Invoices.InvoiceID[i] })
	unique("support_tickets.ticket_id", len(b.Tickets.TicketID), func(i int) string { return b.Tickets.TicketID[i] })
	unique("payments.invoice_id", len(b.Payments.InvoiceID), func(i int) string { return b.Payments.InvoiceID[i] })
	unique("churn_events (customer_id, churned_at)", len(b.ChurnEvents.CustomerID), func(i int) string {
		return b.ChurnEvents.CustomerID[i] + b.ChurnEvents.ChurnedAt[i].Format(time.DateOnly)
	})
	unique("topups.topup_id", len(b.Topups.TopupID), func(i int) string { return b.Topups.TopupID[i] })
	unique("contract_terms (customer_id, started_at)", len(b.Terms.CustomerID), func(i int) string {
		return b.Terms.CustomerID[i] + b.Terms.StartedAt[i].Format(time.DateOnly)
	})
	unique("plan_changes (customer_id, changed_at)", len(b.PlanChanges.CustomerID), func(i int) string {
		return b.PlanChanges.CustomerID[i] + b.PlanChanges.ChangedAt[i].Format(time.DateOnly)
	})
	unique("usage_daily (customer_id, day)", len(b.Usage.CustomerID), func(i int) string {
		return b.Usage.CustomerID[i] + b.Usage.Day[i].Format(time.DateOnly)
	})
	invoices := map[string]string{}
	for i, id := range b.Invoices.InvoiceID {
		invoices[id] = b.Invoices.CustomerID[i]
	}
	for i, id := range b.Payments.InvoiceID {
		if cust, ok := invoices[id]; !ok || cust != b.Payments.CustomerID[i] {
			t.Fatalf("payment %d refers to invoice %s of another or no customer", i, id)
		}
	}
}

func TestNoUsageBeforeSignupOrStartOrAfterChurn(t *testing.T) {
	b, _ := fixture(t)
	cfg := DefaultConfig()
	end := cfg.Start.AddDate(0, cfg.Months, 0)
	signup := map[string]time.Time{}
	for i, id := range b.Customers.ID {
		signup[id] = b.Customers.SignupDate[i]
	}
	for i, id := range b.ChurnEvents.CustomerID {
		if !b.ChurnEvents.ChurnedAt[i].After(signup[id]) {
			t.Fatalf("%s churned on %s, not after signing up on %s", id, b.ChurnEvents.ChurnedAt[i].Format(time.DateOnly), signup[id].Format(time.DateOnly))
		}
	}
	gone := goneSpans(b)
	for i, id := range b.Usage.CustomerID {
		d := b.Usage.Day[i]
		from := signup[id]
		if from.Before(cfg.Start) {
			from = cfg.Start
		}
		if d.Before(from) || !d.Before(end) {
			t.Fatalf("%s has usage on %s outside [%s, %s)", id, d.Format(time.DateOnly), from.Format(time.DateOnly), end.Format(time.DateOnly))
		}
		for _, g := range gone[id] {
			if !d.Before(g[0]) && d.Before(g[1]) {
				t.Fatalf("%s has usage on %s while gone from %s to %s", id, d.Format(time.DateOnly), g[0].Format(time.DateOnly), g[1].Format(time.DateOnly))
			}
		}
	}
	for i, id := range b.Invoices.CustomerID {
		for _, g := range gone[id] {
			if b.Invoices.IssuedAt[i].After(g[0]) && b.Invoices.IssuedAt[i].Before(g[1]) {
				t.Fatalf("invoice %s issued while %s was gone", b.Invoices.InvoiceID[i], id)
			}
		}
	}
}

// goneSpans returns, per customer, the [churned, returned) spans of its
// churn events: returned is its next reactivation, or forever.
func goneSpans(b *Batch) map[string][][2]time.Time {
	forever := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	backs := map[string][]time.Time{}
	for i, id := range b.Reactivations.CustomerID {
		backs[id] = append(backs[id], b.Reactivations.ReactivatedAt[i])
	}
	out := map[string][][2]time.Time{}
	for i, id := range b.ChurnEvents.CustomerID {
		at, back := b.ChurnEvents.ChurnedAt[i], forever
		for _, r := range backs[id] {
			if r.After(at) && r.Before(back) {
				back = r
			}
		}
		out[id] = append(out[id], [2]time.Time{at, back})
	}
	return out
}

func TestPrepaidCustomersTopUpAndFileNoChurnEvents(t *testing.T) {
	b, _ := fixture(t)
	prepaid := map[string]bool{}
	for i, id := range b.Customers.ID {
		if b.Customers.Billing[i] == churn.BillingPrepaid {
			prepaid[id] = true
		}
	}
	if share := float64(len(prepaid)) / float64(len(b.Customers.ID)); share < 0.3 || share > 0.45 {
		t.Errorf("prepaid share %.2f, want 0.3 to 0.45", share)
	}
	for _, id := range b.ChurnEvents.CustomerID {
		if prepaid[id] {
			t.Fatalf("prepaid %s has a churn event", id)
		}
	}
	for _, id := range b.Invoices.CustomerID {
		if prepaid[id] {
			t.Fatalf("prepaid %s has an invoice", id)
		}
	}
	for _, id := range b.Topups.CustomerID {
		if !prepaid[id] {
			t.Fatalf("postpaid %s has a top-up", id)
		}
	}
	if len(b.Topups.TopupID) < 8*len(prepaid) {
		t.Errorf("%d top-ups for %d prepaid customers over 12 months, want about one a month", len(b.Topups.TopupID), len(prepaid))
	}
	if n := len(b.Reactivations.CustomerID); n < 100 {
		t.Errorf("%d win-backs, want some", n)
	}
	if n := len(b.Terms.CustomerID); n < len(b.Customers.ID)/5 {
		t.Errorf("%d contract terms for %d customers, want the one- and two-year contracts' terms", n, len(b.Customers.ID))
	}
}

func TestTopFifthOfCustomersBringsAtLeast60PercentOfRevenue(t *testing.T) {
	b, sum := fixture(t)
	rev := map[string]float64{}
	for i, id := range b.Invoices.CustomerID {
		rev[id] += b.Invoices.Amount[i]
	}
	for i, id := range b.Topups.CustomerID {
		rev[id] += b.Topups.Amount[i]
	}
	values := make([]float64, 0, len(b.Customers.ID))
	for _, id := range b.Customers.ID {
		values = append(values, rev[id])
	}
	share := TopShare(values, len(values)/5)
	if share < 0.6 {
		t.Errorf("top 20%% of customers bring %.1f%% of revenue, want at least 60%%", 100*share)
	}
	if diff := share - sum.Top20RevenueShare; diff > 1e-9 || diff < -1e-9 {
		t.Errorf("summary says %.4f, the invoices say %.4f", sum.Top20RevenueShare, share)
	}
}

func TestMonthlyChurnIsBetween1_5And3Percent(t *testing.T) {
	b, sum := fixture(t)
	cfg := DefaultConfig()
	end := cfg.Start.AddDate(0, cfg.Months, 0)
	// A customer's departure from the rows: a postpaid customer's churn
	// event with no return after it; a prepaid line's day after its last
	// usage row (the generator writes a row every day it has service).
	left := map[string]time.Time{}
	for id, spans := range goneSpans(b) {
		if g := spans[len(spans)-1]; g[1].Year() == 9999 {
			left[id] = g[0]
		}
	}
	last := map[string]time.Time{}
	for i, id := range b.Usage.CustomerID {
		if b.Usage.Day[i].After(last[id]) {
			last[id] = b.Usage.Day[i]
		}
	}
	for i, id := range b.Customers.ID {
		if b.Customers.Billing[i] == churn.BillingPrepaid && !last[id].IsZero() {
			if d := last[id].AddDate(0, 0, 1); d.Before(end) {
				left[id] = d
			}
		}
	}
	for m := range cfg.Months {
		ms, me := cfg.Start.AddDate(0, m, 0), cfg.Start.AddDate(0, m+1, 0)
		active, gone := 0, 0
		for i, id := range b.Customers.ID {
			c, ok := left[id]
			if b.Customers.SignupDate[i].Before(ms) && (!ok || !c.Before(ms)) {
				active++
				if ok && c.Before(me) {
					gone++
				}
			}
		}
		rate := float64(gone) / float64(active)
		if r := sum.MonthlyChurn[m]; r < 0.015 || r > 0.03 {
			t.Errorf("month %d: %.2f%% of active customers churned, want 1.5%% to 3%%", m+1, 100*r)
		}
		// A prepaid line quiet at the window's end (a spell of up to 45
		// days) looks gone in the rows: compare the months before that.
		if m >= cfg.Months-2 {
			continue
		}
		if d := rate - sum.MonthlyChurn[m]; d > 0.002 || d < -0.002 {
			t.Errorf("month %d: summary says %.4f, rows (%d of %d active customers left) say %.4f", m+1, sum.MonthlyChurn[m], gone, active, rate)
		}
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Config)
	}{
		{"customers", func(c *Config) { c.Customers = 0 }},
		{"customers", func(c *Config) { c.Customers = 100_000_000 }},
		{"months", func(c *Config) { c.Months = 0 }},
		{"months", func(c *Config) { c.Months = 121 }},
		{"start", func(c *Config) { c.Start = time.Time{} }},
		{"start", func(c *Config) { c.Start = time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"business_share", func(c *Config) { c.BusinessShare = 1.5 }},
		{"base_hazard", func(c *Config) { c.Effects.BaseHazard = -0.1 }},
		{"usage_shift", func(c *Config) { c.Effects.UsageShift = -1 }},
		{"decline_days_max", func(c *Config) { c.Effects.DeclineDaysMax = 10 }},
		{"workers", func(c *Config) { c.Workers = -1 }},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.edit(&cfg)
		err := cfg.Validate()
		if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != tt.field {
			t.Errorf("want an invalid %s error, got %v", tt.field, err)
		}
		if _, _, gerr := GenerateAll(context.Background(), cfg); gerr == nil {
			t.Errorf("Generate accepted a bad %s", tt.field)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("default config is invalid: %v", err)
	}
}

func TestGenerateStopsWhenEmitFails(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := Generate(context.Background(), smallConfig(1), func(*Batch) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("got %v after %d calls, want boom after 1", err, calls)
	}
}
