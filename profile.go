package churn

import "time"

// A customer profile is what a retention agent reads before a call: who the
// customer is, the plan in force, recent usage, the latest invoices with what
// was paid against them, and the latest support tickets, all from rows dated
// before an as-of date.

// CustomerProfile is one customer's recent figures.
type CustomerProfile struct {
	Customer    Customer
	Plan        *PlanInForce     // nil when no plan change precedes the as-of date
	Usage       []UsageWindow    // ProfileUsageWindows windows, oldest first
	Invoices    []InvoiceFigures // newest first
	Tickets     []TicketFigures  // newest first
	Outstanding float64          // invoiced minus paid before the as-of date: the invoices of the last FeatureHistoryDays and their payments
}

// PlanInForce is the latest plan change before the as-of date.
type PlanInForce struct {
	Plan       string
	Contract   string
	MonthlyFee float64
	Since      time.Time
}

// UsageWindow sums usage_daily over [From, To).
type UsageWindow struct {
	From, To       time.Time
	ActiveDays     int
	VoiceMinutes   float64
	DataMB         float64
	SMS            int64
	Calls          int64
	IntlMinutes    float64
	RoamingMinutes float64
	DroppedCalls   int64
}

// InvoiceFigures is an invoice with the payments made against it.
type InvoiceFigures struct {
	ID       string
	IssuedAt time.Time
	DueDate  time.Time
	Amount   float64
	Paid     float64
	PaidAt   time.Time // the latest payment; zero when unpaid
}

// TicketFigures is a support ticket.
type TicketFigures struct {
	ID           string
	Category     string
	OpenedAt     time.Time
	ResolvedAt   time.Time // zero while open
	Satisfaction int       // 1..5; 0 when not rated
}
