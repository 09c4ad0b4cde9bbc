package clickhouse

import (
	"context"
	"time"

	"github.com/telcoretain/churn"
)

// A customer profile is what a retention agent reads before a call: who the
// customer is, the plan in force, recent usage in three 30-day windows,
// the latest invoices with what was paid against them, and the latest
// support tickets. Every figure uses only rows dated before the as-of date,
// the same point-in-time rule as the features behind the score; the invoices
// and the balance are those of the features' two-year window
// (churn.FeatureHistoryDays).

// Profile sizes.
const (
	ProfileInvoices     = 6
	ProfileTickets      = 10
	ProfileWindowDays   = 30
	ProfileUsageWindows = 3
)

// CustomerProfile reads a customer's figures before asOf (a date). A
// customer missing from the customers table is KindNotFound.
func (c *Client) CustomerProfile(ctx context.Context, customerID string, asOf time.Time) (churn.CustomerProfile, error) {
	const op = "read customer profile"
	asOf = time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	p := churn.CustomerProfile{Customer: churn.Customer{ID: customerID}}
	found := false
	err := c.each(ctx, op, `SELECT signup_date, region, segment, payment_method FROM customers
WHERE customer_id = ? LIMIT 1`, func(s scanner) error {
		found = true
		cu := &p.Customer
		return s.Scan(&cu.SignupDate, &cu.Region, &cu.Segment, &cu.PaymentMethod)
	}, customerID)
	if err != nil {
		return p, err
	}
	if !found {
		return p, churn.Errorf(churn.KindNotFound, op, "customer %q is not in the customers table", customerID)
	}
	for _, step := range []func(context.Context, *churn.CustomerProfile, time.Time) error{
		c.profilePlan, c.profileUsage, c.profileInvoices, c.profileTickets,
	} {
		if err := step(ctx, &p, asOf); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (c *Client) profilePlan(ctx context.Context, p *churn.CustomerProfile, asOf time.Time) error {
	return c.each(ctx, "read plan in force", `SELECT changed_at, plan, contract, monthly_fee FROM plan_changes
WHERE customer_id = ? AND changed_at < toDate(?) ORDER BY changed_at DESC LIMIT 1`, func(s scanner) error {
		p.Plan = &churn.PlanInForce{}
		return s.Scan(&p.Plan.Since, &p.Plan.Plan, &p.Plan.Contract, &p.Plan.MonthlyFee)
	}, p.Customer.ID, asOf)
}

func (c *Client) profileUsage(ctx context.Context, p *churn.CustomerProfile, asOf time.Time) error {
	p.Usage = make([]churn.UsageWindow, ProfileUsageWindows)
	for i := range p.Usage {
		back := ProfileUsageWindows - i
		p.Usage[i].From = asOf.AddDate(0, 0, -back*ProfileWindowDays)
		p.Usage[i].To = asOf.AddDate(0, 0, -(back-1)*ProfileWindowDays)
	}
	return c.each(ctx, "read recent usage", `SELECT
    multiIf(day < toDate(?), 0, day < toDate(?), 1, 2) AS w,
    count(), sum(voice_minutes), sum(data_mb), sum(sms), sum(calls), sum(intl_minutes), sum(roaming_minutes), sum(dropped_calls)
FROM usage_daily
WHERE customer_id = ? AND day >= toDate(?) AND day < toDate(?)
GROUP BY w`, func(s scanner) error {
		var (
			w                          uint8
			days, sms, calls, dropped  uint64
			voice, data, intl, roaming float64
		)
		if err := s.Scan(&w, &days, &voice, &data, &sms, &calls, &intl, &roaming, &dropped); err != nil {
			return err
		}
		u := &p.Usage[w]
		u.ActiveDays, u.VoiceMinutes, u.DataMB, u.SMS, u.Calls = int(days), voice, data, int64(sms), int64(calls)
		u.IntlMinutes, u.RoamingMinutes, u.DroppedCalls = intl, roaming, int64(dropped)
		return nil
	}, p.Usage[1].From, p.Usage[2].From, p.Customer.ID, p.Usage[0].From, asOf)
}

func (c *Client) profileInvoices(ctx context.Context, p *churn.CustomerProfile, asOf time.Time) error {
	// The invoices of the features' window (churn.FeatureHistoryDays) and
	// the payments made in it for them, as the outstanding_balance feature
	// counts them.
	from := asOf.AddDate(0, 0, -churn.FeatureHistoryDays)
	var invoiced, paid float64
	err := c.each(ctx, "read balance", `SELECT
    (SELECT sum(amount) FROM invoices WHERE customer_id = ? AND issued_at >= toDate(?) AND issued_at < toDate(?)),
    (SELECT sum(amount) FROM payments WHERE customer_id = ? AND paid_at >= toDate(?) AND paid_at < toDate(?)
        AND invoice_id IN (SELECT invoice_id FROM invoices WHERE customer_id = ? AND issued_at >= toDate(?) AND issued_at < toDate(?)))`,
		func(s scanner) error { return s.Scan(&invoiced, &paid) },
		p.Customer.ID, from, asOf, p.Customer.ID, from, asOf, p.Customer.ID, from, asOf)
	if err != nil {
		return err
	}
	p.Outstanding = invoiced - paid
	p.Invoices = []churn.InvoiceFigures{}
	err = c.each(ctx, "read invoices", `SELECT invoice_id, issued_at, due_date, amount FROM invoices
WHERE customer_id = ? AND issued_at >= toDate(?) AND issued_at < toDate(?) ORDER BY issued_at DESC, invoice_id DESC LIMIT ?`, func(s scanner) error {
		var inv churn.InvoiceFigures
		if err := s.Scan(&inv.ID, &inv.IssuedAt, &inv.DueDate, &inv.Amount); err != nil {
			return err
		}
		p.Invoices = append(p.Invoices, inv)
		return nil
	}, p.Customer.ID, from, asOf, uint64(ProfileInvoices))
	if err != nil || len(p.Invoices) == 0 {
		return err
	}
	ids := make([]string, len(p.Invoices))
	pos := make(map[string]int, len(p.Invoices))
	for i, inv := range p.Invoices {
		ids[i], pos[inv.ID] = inv.ID, i
	}
	return c.each(ctx, "read payments", `SELECT invoice_id, sum(amount), max(paid_at) FROM payments
WHERE customer_id = ? AND paid_at < toDate(?) AND has(?, invoice_id) GROUP BY invoice_id`, func(s scanner) error {
		var (
			id     string
			amount float64
			at     time.Time
		)
		if err := s.Scan(&id, &amount, &at); err != nil {
			return err
		}
		if i, ok := pos[id]; ok {
			p.Invoices[i].Paid, p.Invoices[i].PaidAt = amount, at
		}
		return nil
	}, p.Customer.ID, asOf, ids)
}

func (c *Client) profileTickets(ctx context.Context, p *churn.CustomerProfile, asOf time.Time) error {
	p.Tickets = []churn.TicketFigures{}
	return c.each(ctx, "read support tickets", `SELECT ticket_id, category, opened_at, resolved_at, satisfaction
FROM support_tickets WHERE customer_id = ? AND opened_at < toDateTime(?)
ORDER BY opened_at DESC, ticket_id DESC LIMIT ?`, func(s scanner) error {
		var (
			t   churn.TicketFigures
			res *time.Time
			sat *uint8
		)
		if err := s.Scan(&t.ID, &t.Category, &t.OpenedAt, &res, &sat); err != nil {
			return err
		}
		if res != nil {
			t.ResolvedAt = res.UTC()
		}
		if sat != nil {
			t.Satisfaction = int(*sat)
		}
		t.OpenedAt = t.OpenedAt.UTC()
		p.Tickets = append(p.Tickets, t)
		return nil
	}, p.Customer.ID, asOf, uint64(ProfileTickets))
}
