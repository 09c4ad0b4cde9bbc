package serve

import (
	"time"
)

type profileJSON struct {
	CustomerID    string        `json:"customer_id"`
	AsOf          string        `json:"as_of"`
	SignupDate    string        `json:"signup_date"`
	Region        string        `json:"region"`
	Segment       string        `json:"segment"`
	PaymentMethod string        `json:"payment_method"`
	Plan          *planJSON     `json:"plan,omitempty"`
	Usage         []usageJSON   `json:"usage"`
	Invoices      []invoiceJSON `json:"invoices"`
	Tickets       []ticketJSON  `json:"tickets"`
	Outstanding   float64       `json:"outstanding"`
}

type planJSON struct {
	Plan       string  `json:"plan"`
	Contract   string  `json:"contract"`
	MonthlyFee float64 `json:"monthly_fee"`
	Since      string  `json:"since"`
}

type usageJSON struct {
	From           string  `json:"from"`
	To             string  `json:"to"`
	ActiveDays     int     `json:"active_days"`
	VoiceMinutes   float64 `json:"voice_minutes"`
	DataMB         float64 `json:"data_mb"`
	SMS            int64   `json:"sms"`
	Calls          int64   `json:"calls"`
	IntlMinutes    float64 `json:"intl_minutes"`
	RoamingMinutes float64 `json:"roaming_minutes"`
	DroppedCalls   int64   `json:"dropped_calls"`
}

type invoiceJSON struct {
	ID       string  `json:"id"`
	IssuedAt string  `json:"issued_at"`
	DueDate  string  `json:"due_date"`
	Amount   float64 `json:"amount"`
	Paid     float64 `json:"paid"`
	PaidAt   string  `json:"paid_at,omitempty"`
}

type ticketJSON struct {
	ID           string `json:"id"`
	Category     string `json:"category"`
	OpenedAt     string `json:"opened_at"`
	ResolvedAt   string `json:"resolved_at,omitempty"`
	Satisfaction int    `json:"satisfaction,omitempty"`
}

func newProfileJSON(p CustomerProfile, asOf time.Time) profileJSON {
	cu := p.Customer
	out := profileJSON{CustomerID: cu.ID, AsOf: asOf.Format(dateLayout), SignupDate: cu.SignupDate.Format(dateLayout),
		Region: cu.Region, Segment: cu.Segment, PaymentMethod: cu.PaymentMethod, Outstanding: round2(p.Outstanding),
		Usage: make([]usageJSON, len(p.Usage)), Invoices: make([]invoiceJSON, len(p.Invoices)), Tickets: make([]ticketJSON, len(p.Tickets))}
	if pl := p.Plan; pl != nil {
		out.Plan = &planJSON{Plan: pl.Plan, Contract: pl.Contract, MonthlyFee: round2(pl.MonthlyFee), Since: pl.Since.Format(dateLayout)}
	}
	for i, u := range p.Usage {
		out.Usage[i] = usageJSON{From: u.From.Format(dateLayout), To: u.To.Format(dateLayout), ActiveDays: u.ActiveDays,
			VoiceMinutes: round2(u.VoiceMinutes), DataMB: round2(u.DataMB), SMS: u.SMS, Calls: u.Calls,
			IntlMinutes: round2(u.IntlMinutes), RoamingMinutes: round2(u.RoamingMinutes), DroppedCalls: u.DroppedCalls}
	}
	for i, v := range p.Invoices {
		out.Invoices[i] = invoiceJSON{ID: v.ID, IssuedAt: v.IssuedAt.Format(dateLayout), DueDate: v.DueDate.Format(dateLayout),
			Amount: round2(v.Amount), Paid: round2(v.Paid)}
		if !v.PaidAt.IsZero() {
			out.Invoices[i].PaidAt = v.PaidAt.Format(dateLayout)
		}
	}
	for i, t := range p.Tickets {
		out.Tickets[i] = ticketJSON{ID: t.ID, Category: t.Category, OpenedAt: t.OpenedAt.UTC().Format(time.RFC3339),
			Satisfaction: t.Satisfaction}
		if !t.ResolvedAt.IsZero() {
			out.Tickets[i].ResolvedAt = t.ResolvedAt.UTC().Format(time.RFC3339)
		}
	}
	return out
}
