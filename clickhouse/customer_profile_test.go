package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

func d(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

func TestCustomerProfileUsesOnlyRowsBeforeTheAsOfDate(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	ins := func(table string, cols []string, data ...any) {
		t.Helper()
		if err := c.InsertColumns(ctx, table, cols, data); err != nil {
			t.Fatalf("insert into %s: %v", table, err)
		}
	}
	asOf := d("2025-06-01")
	ins("customers", []string{"customer_id", "signup_date", "region", "segment", "payment_method"},
		[]string{"c1", "c2"}, []time.Time{d("2024-01-10"), d("2024-02-01")}, []string{"Wales", "London"},
		[]string{"consumer", "business"}, []string{"direct_debit", "cash"})
	ins("plan_changes", []string{"customer_id", "changed_at", "plan", "contract", "monthly_fee"},
		[]string{"c1", "c1", "c1"}, []time.Time{d("2024-01-10"), d("2025-03-01"), d("2025-06-01")},
		[]string{"basic", "family", "premium"}, []string{"month_to_month", "one_year", "two_year"}, []float64{20, 40, 90})
	// One usage day in each window, one on the as-of date (left out) and one
	// of another customer.
	days := []time.Time{d("2025-03-03"), d("2025-04-02"), d("2025-05-31"), d("2025-05-31"), asOf}
	ins("usage_daily", []string{"customer_id", "day", "voice_minutes", "data_mb", "sms", "calls", "intl_minutes", "roaming_minutes", "dropped_calls"},
		[]string{"c1", "c1", "c1", "c2", "c1"}, days, []float32{10, 20, 30, 99, 99}, []float32{100, 200, 300, 999, 999},
		[]uint32{1, 2, 3, 9, 9}, []uint32{4, 5, 6, 9, 9}, []float32{0, 1, 0, 9, 9}, []float32{0, 0, 2, 9, 9}, []uint32{0, 1, 2, 9, 9})
	// i0 is older than the features' two years (they start on 2023-06-02),
	// and so is its payment of 2023-06-01; the one of 2024-01-10 is inside
	// them, for an invoice before them: neither counts, as for the
	// outstanding_balance feature.
	ins("invoices", []string{"invoice_id", "customer_id", "issued_at", "due_date", "amount"},
		[]string{"i0", "i1", "i2", "i3"}, []string{"c1", "c1", "c1", "c1"}, []time.Time{d("2023-06-01"), d("2025-04-05"), d("2025-05-05"), asOf},
		[]time.Time{d("2023-06-15"), d("2025-04-25"), d("2025-05-25"), d("2025-06-20")}, []float64{500, 40, 40, 90})
	ins("payments", []string{"invoice_id", "customer_id", "paid_at", "amount"},
		[]string{"i0", "i0", "i1", "i1", "i2"}, []string{"c1", "c1", "c1", "c1", "c1"},
		[]time.Time{d("2023-06-01"), d("2024-01-10"), d("2025-04-10"), d("2025-04-20"), asOf}, []float64{50, 100, 15, 25, 40})
	res := time.Date(2025, 5, 3, 10, 0, 0, 0, time.UTC)
	sat := uint8(4)
	ins("support_tickets", []string{"ticket_id", "customer_id", "opened_at", "category", "resolved_at", "satisfaction"},
		[]string{"t1", "t2", "t3"}, []string{"c1", "c1", "c1"},
		[]time.Time{time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC), time.Date(2025, 5, 20, 9, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)},
		[]string{"network", "billing", "device"}, []*time.Time{&res, nil, nil}, []*uint8{&sat, nil, nil})

	p, err := c.CustomerProfile(ctx, "c1", asOf)
	if err != nil {
		t.Fatal(err)
	}
	if p.Customer.Region != "Wales" || p.Plan == nil || p.Plan.Plan != "family" || !p.Plan.Since.Equal(d("2025-03-01")) {
		t.Errorf("customer %+v plan %+v: want Wales and the family plan (premium starts on the as-of date)", p.Customer, p.Plan)
	}
	want := []struct {
		from  string
		voice float64
		days  int
	}{{"2025-03-03", 10, 1}, {"2025-04-02", 20, 1}, {"2025-05-02", 30, 1}} // the day a window starts belongs to it
	for i, w := range want {
		u := p.Usage[i]
		if u.From.Format(time.DateOnly) != w.from || u.VoiceMinutes != w.voice || u.ActiveDays != w.days {
			t.Errorf("window %d: %+v, want from %s, %v minutes", i, u, w.from, w.voice)
		}
	}
	if len(p.Invoices) != 2 || p.Invoices[0].ID != "i2" || p.Invoices[0].Paid != 0 || p.Invoices[1].Paid != 40 ||
		!p.Invoices[1].PaidAt.Equal(d("2025-04-20")) || p.Outstanding != 40 {
		t.Errorf("invoices %+v outstanding %v: want i2 unpaid, i1 paid in two parts, 40 outstanding", p.Invoices, p.Outstanding)
	}
	if len(p.Tickets) != 2 || p.Tickets[0].ID != "t2" || !p.Tickets[0].ResolvedAt.IsZero() || !p.Tickets[1].ResolvedAt.Equal(res) || p.Tickets[1].Satisfaction != 4 {
		t.Errorf("tickets %+v", p.Tickets)
	}
	if _, err := c.CustomerProfile(ctx, "nobody", asOf); churn.ErrorKind(err) != churn.KindNotFound {
		t.Errorf("unknown customer: %v, want not found", err)
	}
	var regions []string
	if err := c.CustomerRegions(ctx, func(id, r string) error { regions = append(regions, id+":"+r); return nil }); err != nil || len(regions) != 2 {
		t.Errorf("regions %v (%v)", regions, err)
	}
}

func TestRunBandCountsCountFinishedRunsOnly(t *testing.T) {
	now := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC) // the client's clock
	c, _ := chtest.NewDBAt(t, func() time.Time { return now })
	ctx := context.Background()
	write := func(run string, asOf time.Time, bands []churn.RiskBand, finish bool) {
		t.Helper()
		var scores []churn.Score
		for i, b := range bands {
			scores = append(scores, churn.Score{RunID: run, CustomerID: string(rune('a' + i)), AsOf: asOf, ModelVersion: 1, Band: b, Tier: churn.TierB})
		}
		if err := c.WriteScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
		if finish {
			if err := c.RecordScoreRun(ctx, run, asOf, 1, churn.ScoreRunFinished, len(scores), ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("r1", d("2025-05-01"), []churn.RiskBand{churn.RiskHigh, churn.RiskLow, churn.RiskLow}, true)
	now = now.Add(time.Second) // runs are ordered by their finish second
	write("r2", d("2025-06-01"), []churn.RiskBand{churn.RiskHigh, churn.RiskHigh, churn.RiskMedium, churn.RiskLow}, true)
	write("r3", d("2025-06-01"), []churn.RiskBand{churn.RiskHigh}, false)
	runs, err := c.FinishedRuns(ctx, 10)
	if err != nil || len(runs) != 2 || runs[0].ID != "r2" || runs[1].ID != "r1" || runs[0].Rows != 4 {
		t.Fatalf("finished runs %+v (%v), want r2 then r1", runs, err)
	}
	counts, err := c.RunBandCounts(ctx, runs)
	if err != nil {
		t.Fatal(err)
	}
	if counts["r2"]["high"] != 2 || counts["r2"]["medium"] != 1 || counts["r1"]["low"] != 2 || counts["r1"]["medium"] != 0 || len(counts) != 2 {
		t.Errorf("counts %v", counts)
	}
}
