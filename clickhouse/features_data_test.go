package clickhouse_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
)

// featureData is a small, hand-built set of contract rows for the feature
// tests; insert writes each table with one columnar batch.
type featureData struct {
	customers []customerRow
	usage     []usageRow
	invoices  []invoiceRow
	payments  []paymentRow
	tickets   []ticketRow
	plans     []planRow
	churns    []churnRow
	prepaid   []string // ids of prepaid customers; the others are postpaid
	topups    []topupRow
	terms     []termRow
	returns   []returnRow
}

type topupRow struct {
	topup, id, day string
	amount         float64
}

type termRow struct{ id, started, ends string }

type returnRow struct{ id, day string }

type customerRow struct {
	id, signup, region, segment, payment string
}

type usageRow struct {
	id, day       string
	voice, data   float32
	sms, calls    uint32
	intl, roaming float32
	dropped       uint32
}

type invoiceRow struct {
	invoice, id, issued, due string
	amount                   float64
}

type paymentRow struct {
	invoice, id, paid string
	amount            float64
}

type ticketRow struct {
	ticket, id, opened, category string
	resolved                     string // "" when unresolved
	satisfaction                 uint8  // 0 when none
}

type planRow struct {
	id, changed, plan, contract string
	fee                         float64
}

type churnRow struct {
	id, churned, reason, kind string
}

// day parses a date, or a date and time "2006-01-02 15:04:05", in UTC.
func day(t testing.TB, s string) time.Time {
	t.Helper()
	layout := time.DateOnly
	if len(s) > len(layout) {
		layout = time.DateTime
	}
	v, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		t.Fatalf("bad date %q in test data: %v", s, err)
	}
	return v
}

func (d featureData) insert(t testing.TB, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	put := func(table string, n int, cols []string, data ...any) {
		t.Helper()
		if n == 0 {
			return
		}
		if err := c.InsertColumns(ctx, table, cols, data); err != nil {
			t.Fatalf("insert %s: %v", table, err)
		}
	}
	{
		var id, region, segment, pay, billing []string
		var signup []time.Time
		for _, r := range d.customers {
			id, region, segment, pay = append(id, r.id), append(region, r.region), append(segment, r.segment), append(pay, r.payment)
			signup = append(signup, day(t, r.signup))
			b := churn.BillingPostpaid
			if slices.Contains(d.prepaid, r.id) {
				b = churn.BillingPrepaid
			}
			billing = append(billing, b)
		}
		put("customers", len(id), []string{"customer_id", "signup_date", "region", "segment", "payment_method", "billing"}, id, signup, region, segment, pay, billing)
	}
	{
		var id []string
		var days []time.Time
		var voice, data, intl, roaming []float32
		var sms, calls, dropped []uint32
		for _, r := range d.usage {
			id, days = append(id, r.id), append(days, day(t, r.day))
			voice, data, intl, roaming = append(voice, r.voice), append(data, r.data), append(intl, r.intl), append(roaming, r.roaming)
			sms, calls, dropped = append(sms, r.sms), append(calls, r.calls), append(dropped, r.dropped)
		}
		put("usage_daily", len(id), []string{"customer_id", "day", "voice_minutes", "data_mb", "sms", "calls", "intl_minutes", "roaming_minutes", "dropped_calls"},
			id, days, voice, data, sms, calls, intl, roaming, dropped)
	}
	{
		var inv, id []string
		var issued, due []time.Time
		var amount []float64
		for _, r := range d.invoices {
			inv, id, amount = append(inv, r.invoice), append(id, r.id), append(amount, r.amount)
			issued, due = append(issued, day(t, r.issued)), append(due, day(t, r.due))
		}
		put("invoices", len(id), []string{"invoice_id", "customer_id", "issued_at", "due_date", "amount"}, inv, id, issued, due, amount)
	}
	{
		var inv, id []string
		var paid []time.Time
		var amount []float64
		for _, r := range d.payments {
			inv, id, paid, amount = append(inv, r.invoice), append(id, r.id), append(paid, day(t, r.paid)), append(amount, r.amount)
		}
		put("payments", len(id), []string{"invoice_id", "customer_id", "paid_at", "amount"}, inv, id, paid, amount)
	}
	{
		var tk, id, cat []string
		var opened []time.Time
		var resolved []*time.Time
		var sat []*uint8
		for _, r := range d.tickets {
			tk, id, cat, opened = append(tk, r.ticket), append(id, r.id), append(cat, r.category), append(opened, day(t, r.opened))
			var res *time.Time
			if r.resolved != "" {
				v := day(t, r.resolved)
				res = &v
			}
			var s *uint8
			if r.satisfaction != 0 {
				v := r.satisfaction
				s = &v
			}
			resolved, sat = append(resolved, res), append(sat, s)
		}
		put("support_tickets", len(id), []string{"ticket_id", "customer_id", "opened_at", "category", "resolved_at", "satisfaction"},
			tk, id, opened, cat, resolved, sat)
	}
	{
		var id, plan, contract []string
		var changed []time.Time
		var fee []float64
		for _, r := range d.plans {
			id, plan, contract, fee = append(id, r.id), append(plan, r.plan), append(contract, r.contract), append(fee, r.fee)
			changed = append(changed, day(t, r.changed))
		}
		put("plan_changes", len(id), []string{"customer_id", "changed_at", "plan", "contract", "monthly_fee"}, id, changed, plan, contract, fee)
	}
	{
		var id, reason, kind []string
		var churned []time.Time
		for _, r := range d.churns {
			id, reason, kind, churned = append(id, r.id), append(reason, r.reason), append(kind, r.kind), append(churned, day(t, r.churned))
		}
		put("churn_events", len(id), []string{"customer_id", "churned_at", "reason", "kind"}, id, churned, reason, kind)
	}
	{
		var tp, id []string
		var at []time.Time
		var amount []float64
		for _, r := range d.topups {
			tp, id, at, amount = append(tp, r.topup), append(id, r.id), append(at, day(t, r.day)), append(amount, r.amount)
		}
		put("topups", len(id), []string{"topup_id", "customer_id", "topped_up_at", "amount"}, tp, id, at, amount)
	}
	{
		var id []string
		var started, ends []time.Time
		for _, r := range d.terms {
			id, started, ends = append(id, r.id), append(started, day(t, r.started)), append(ends, day(t, r.ends))
		}
		put("contract_terms", len(id), []string{"customer_id", "started_at", "ends_at"}, id, started, ends)
	}
	{
		var id []string
		var at []time.Time
		for _, r := range d.returns {
			id, at = append(id, r.id), append(at, day(t, r.day))
		}
		put("reactivations", len(id), []string{"customer_id", "reactivated_at"}, id, at)
	}
}
