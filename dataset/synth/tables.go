package synth

import "time"

// The table types below hold rows column by column, in the column order of
// dataset.Tables, so that a block goes to ClickHouse without conversion.

// Customers holds rows of the customers table.
type Customers struct {
	ID            []string
	SignupDate    []time.Time
	Region        []string
	Segment       []string
	PaymentMethod []string
	Billing       []string
}

// PlanChanges holds rows of the plan_changes table.
type PlanChanges struct {
	CustomerID []string
	ChangedAt  []time.Time
	Plan       []string
	Contract   []string
	MonthlyFee []float64
}

// Usage holds rows of the usage_daily table.
type Usage struct {
	CustomerID     []string
	Day            []time.Time
	VoiceMinutes   []float32
	DataMB         []float32
	SMS            []uint32
	Calls          []uint32
	IntlMinutes    []float32
	RoamingMinutes []float32
	DroppedCalls   []uint32
}

// Invoices holds rows of the invoices table.
type Invoices struct {
	InvoiceID  []string
	CustomerID []string
	IssuedAt   []time.Time
	DueDate    []time.Time
	Amount     []float64
}

// Payments holds rows of the payments table.
type Payments struct {
	InvoiceID  []string
	CustomerID []string
	PaidAt     []time.Time
	Amount     []float64
}

// Tickets holds rows of the support_tickets table; nil means NULL.
type Tickets struct {
	TicketID     []string
	CustomerID   []string
	OpenedAt     []time.Time
	Category     []string
	ResolvedAt   []*time.Time
	Satisfaction []*uint8
}

// ChurnEvents holds rows of the churn_events table.
type ChurnEvents struct {
	CustomerID []string
	ChurnedAt  []time.Time
	Reason     []string
	Kind       []string
}

// Batch is the rows of a run of consecutive customers, all seven tables.
// Reactivations holds rows of the reactivations table.
type Reactivations struct {
	CustomerID    []string
	ReactivatedAt []time.Time
}

// Topups holds rows of the topups table.
type Topups struct {
	TopupID    []string
	CustomerID []string
	ToppedUpAt []time.Time
	Amount     []float64
}

// Terms holds rows of the contract_terms table.
type Terms struct {
	CustomerID []string
	StartedAt  []time.Time
	EndsAt     []time.Time
}

type Batch struct {
	Customers   Customers
	PlanChanges PlanChanges
	Usage       Usage
	Invoices    Invoices
	Payments    Payments
	Tickets     Tickets
	ChurnEvents ChurnEvents
	// The tables of prepaid customers, contract terms and win-backs.
	Reactivations Reactivations
	Topups        Topups
	Terms         Terms

	// stats has one entry per customer of the batch, for the summary.
	stats []customerStats
}

// customerStats is what the summary needs of one customer.
type customerStats struct {
	signup, churn int // day offsets from Start; churn is noChurn when the customer stays
	revenue       float64
}

// Block is one table's columns ready for Inserter.InsertColumns.
type Block struct {
	Table   string
	Columns []string
	Data    []any
	Rows    int
}

// Blocks returns the batch's tables in load order (dataset.Tables order).
func (b *Batch) Blocks() []Block {
	return []Block{
		{"customers", []string{"customer_id", "signup_date", "region", "segment", "payment_method", "billing"},
			[]any{b.Customers.ID, b.Customers.SignupDate, b.Customers.Region, b.Customers.Segment, b.Customers.PaymentMethod, b.Customers.Billing},
			len(b.Customers.ID)},
		{"plan_changes", []string{"customer_id", "changed_at", "plan", "contract", "monthly_fee"},
			[]any{b.PlanChanges.CustomerID, b.PlanChanges.ChangedAt, b.PlanChanges.Plan, b.PlanChanges.Contract, b.PlanChanges.MonthlyFee},
			len(b.PlanChanges.CustomerID)},
		{"usage_daily", []string{"customer_id", "day", "voice_minutes", "data_mb", "sms", "calls", "intl_minutes", "roaming_minutes", "dropped_calls"},
			[]any{b.Usage.CustomerID, b.Usage.Day, b.Usage.VoiceMinutes, b.Usage.DataMB, b.Usage.SMS, b.Usage.Calls,
				b.Usage.IntlMinutes, b.Usage.RoamingMinutes, b.Usage.DroppedCalls},
			len(b.Usage.CustomerID)},
		{"invoices", []string{"invoice_id", "customer_id", "issued_at", "due_date", "amount"},
			[]any{b.Invoices.InvoiceID, b.Invoices.CustomerID, b.Invoices.IssuedAt, b.Invoices.DueDate, b.Invoices.Amount},
			len(b.Invoices.InvoiceID)},
		{"payments", []string{"invoice_id", "customer_id", "paid_at", "amount"},
			[]any{b.Payments.InvoiceID, b.Payments.CustomerID, b.Payments.PaidAt, b.Payments.Amount},
			len(b.Payments.InvoiceID)},
		{"support_tickets", []string{"ticket_id", "customer_id", "opened_at", "category", "resolved_at", "satisfaction"},
			[]any{b.Tickets.TicketID, b.Tickets.CustomerID, b.Tickets.OpenedAt, b.Tickets.Category, b.Tickets.ResolvedAt, b.Tickets.Satisfaction},
			len(b.Tickets.TicketID)},
		{"churn_events", []string{"customer_id", "churned_at", "reason", "kind"},
			[]any{b.ChurnEvents.CustomerID, b.ChurnEvents.ChurnedAt, b.ChurnEvents.Reason, b.ChurnEvents.Kind},
			len(b.ChurnEvents.CustomerID)},
		{"reactivations", []string{"customer_id", "reactivated_at"},
			[]any{b.Reactivations.CustomerID, b.Reactivations.ReactivatedAt}, len(b.Reactivations.CustomerID)},
		{"topups", []string{"topup_id", "customer_id", "topped_up_at", "amount"},
			[]any{b.Topups.TopupID, b.Topups.CustomerID, b.Topups.ToppedUpAt, b.Topups.Amount}, len(b.Topups.TopupID)},
		{"contract_terms", []string{"customer_id", "started_at", "ends_at"},
			[]any{b.Terms.CustomerID, b.Terms.StartedAt, b.Terms.EndsAt}, len(b.Terms.CustomerID)},
	}
}

// Rows is the number of rows in all tables of the batch.
func (b *Batch) Rows() int {
	n := 0
	for _, bl := range b.Blocks() {
		n += bl.Rows
	}
	return n
}

// Append adds o's rows after b's.
func (b *Batch) Append(o *Batch) {
	b.Customers.ID = append(b.Customers.ID, o.Customers.ID...)
	b.Customers.SignupDate = append(b.Customers.SignupDate, o.Customers.SignupDate...)
	b.Customers.Region = append(b.Customers.Region, o.Customers.Region...)
	b.Customers.Segment = append(b.Customers.Segment, o.Customers.Segment...)
	b.Customers.PaymentMethod = append(b.Customers.PaymentMethod, o.Customers.PaymentMethod...)
	b.Customers.Billing = append(b.Customers.Billing, o.Customers.Billing...)

	b.PlanChanges.CustomerID = append(b.PlanChanges.CustomerID, o.PlanChanges.CustomerID...)
	b.PlanChanges.ChangedAt = append(b.PlanChanges.ChangedAt, o.PlanChanges.ChangedAt...)
	b.PlanChanges.Plan = append(b.PlanChanges.Plan, o.PlanChanges.Plan...)
	b.PlanChanges.Contract = append(b.PlanChanges.Contract, o.PlanChanges.Contract...)
	b.PlanChanges.MonthlyFee = append(b.PlanChanges.MonthlyFee, o.PlanChanges.MonthlyFee...)

	b.Usage.CustomerID = append(b.Usage.CustomerID, o.Usage.CustomerID...)
	b.Usage.Day = append(b.Usage.Day, o.Usage.Day...)
	b.Usage.VoiceMinutes = append(b.Usage.VoiceMinutes, o.Usage.VoiceMinutes...)
	b.Usage.DataMB = append(b.Usage.DataMB, o.Usage.DataMB...)
	b.Usage.SMS = append(b.Usage.SMS, o.Usage.SMS...)
	b.Usage.Calls = append(b.Usage.Calls, o.Usage.Calls...)
	b.Usage.IntlMinutes = append(b.Usage.IntlMinutes, o.Usage.IntlMinutes...)
	b.Usage.RoamingMinutes = append(b.Usage.RoamingMinutes, o.Usage.RoamingMinutes...)
	b.Usage.DroppedCalls = append(b.Usage.DroppedCalls, o.Usage.DroppedCalls...)

	b.Invoices.InvoiceID = append(b.Invoices.InvoiceID, o.Invoices.InvoiceID...)
	b.Invoices.CustomerID = append(b.Invoices.CustomerID, o.Invoices.CustomerID...)
	b.Invoices.IssuedAt = append(b.Invoices.IssuedAt, o.Invoices.IssuedAt...)
	b.Invoices.DueDate = append(b.Invoices.DueDate, o.Invoices.DueDate...)
	b.Invoices.Amount = append(b.Invoices.Amount, o.Invoices.Amount...)

	b.Payments.InvoiceID = append(b.Payments.InvoiceID, o.Payments.InvoiceID...)
	b.Payments.CustomerID = append(b.Payments.CustomerID, o.Payments.CustomerID...)
	b.Payments.PaidAt = append(b.Payments.PaidAt, o.Payments.PaidAt...)
	b.Payments.Amount = append(b.Payments.Amount, o.Payments.Amount...)

	b.Tickets.TicketID = append(b.Tickets.TicketID, o.Tickets.TicketID...)
	b.Tickets.CustomerID = append(b.Tickets.CustomerID, o.Tickets.CustomerID...)
	b.Tickets.OpenedAt = append(b.Tickets.OpenedAt, o.Tickets.OpenedAt...)
	b.Tickets.Category = append(b.Tickets.Category, o.Tickets.Category...)
	b.Tickets.ResolvedAt = append(b.Tickets.ResolvedAt, o.Tickets.ResolvedAt...)
	b.Tickets.Satisfaction = append(b.Tickets.Satisfaction, o.Tickets.Satisfaction...)

	b.ChurnEvents.CustomerID = append(b.ChurnEvents.CustomerID, o.ChurnEvents.CustomerID...)
	b.ChurnEvents.ChurnedAt = append(b.ChurnEvents.ChurnedAt, o.ChurnEvents.ChurnedAt...)
	b.ChurnEvents.Reason = append(b.ChurnEvents.Reason, o.ChurnEvents.Reason...)
	b.ChurnEvents.Kind = append(b.ChurnEvents.Kind, o.ChurnEvents.Kind...)

	b.Reactivations.CustomerID = append(b.Reactivations.CustomerID, o.Reactivations.CustomerID...)
	b.Reactivations.ReactivatedAt = append(b.Reactivations.ReactivatedAt, o.Reactivations.ReactivatedAt...)

	b.Topups.TopupID = append(b.Topups.TopupID, o.Topups.TopupID...)
	b.Topups.CustomerID = append(b.Topups.CustomerID, o.Topups.CustomerID...)
	b.Topups.ToppedUpAt = append(b.Topups.ToppedUpAt, o.Topups.ToppedUpAt...)
	b.Topups.Amount = append(b.Topups.Amount, o.Topups.Amount...)

	b.Terms.CustomerID = append(b.Terms.CustomerID, o.Terms.CustomerID...)
	b.Terms.StartedAt = append(b.Terms.StartedAt, o.Terms.StartedAt...)
	b.Terms.EndsAt = append(b.Terms.EndsAt, o.Terms.EndsAt...)

	b.stats = append(b.stats, o.stats...)
}

// Reset empties the batch and keeps its memory for reuse. Pointers in the
// ticket columns are dropped so that reused memory holds no stale rows.
func (b *Batch) Reset() {
	clear(b.Tickets.ResolvedAt)
	clear(b.Tickets.Satisfaction)
	*b = Batch{
		Customers:   Customers{b.Customers.ID[:0], b.Customers.SignupDate[:0], b.Customers.Region[:0], b.Customers.Segment[:0], b.Customers.PaymentMethod[:0], b.Customers.Billing[:0]},
		PlanChanges: PlanChanges{b.PlanChanges.CustomerID[:0], b.PlanChanges.ChangedAt[:0], b.PlanChanges.Plan[:0], b.PlanChanges.Contract[:0], b.PlanChanges.MonthlyFee[:0]},
		Usage: Usage{b.Usage.CustomerID[:0], b.Usage.Day[:0], b.Usage.VoiceMinutes[:0], b.Usage.DataMB[:0], b.Usage.SMS[:0], b.Usage.Calls[:0],
			b.Usage.IntlMinutes[:0], b.Usage.RoamingMinutes[:0], b.Usage.DroppedCalls[:0]},
		Invoices:      Invoices{b.Invoices.InvoiceID[:0], b.Invoices.CustomerID[:0], b.Invoices.IssuedAt[:0], b.Invoices.DueDate[:0], b.Invoices.Amount[:0]},
		Payments:      Payments{b.Payments.InvoiceID[:0], b.Payments.CustomerID[:0], b.Payments.PaidAt[:0], b.Payments.Amount[:0]},
		Tickets:       Tickets{b.Tickets.TicketID[:0], b.Tickets.CustomerID[:0], b.Tickets.OpenedAt[:0], b.Tickets.Category[:0], b.Tickets.ResolvedAt[:0], b.Tickets.Satisfaction[:0]},
		ChurnEvents:   ChurnEvents{b.ChurnEvents.CustomerID[:0], b.ChurnEvents.ChurnedAt[:0], b.ChurnEvents.Reason[:0], b.ChurnEvents.Kind[:0]},
		Reactivations: Reactivations{b.Reactivations.CustomerID[:0], b.Reactivations.ReactivatedAt[:0]},
		Topups:        Topups{b.Topups.TopupID[:0], b.Topups.CustomerID[:0], b.Topups.ToppedUpAt[:0], b.Topups.Amount[:0]},
		Terms:         Terms{b.Terms.CustomerID[:0], b.Terms.StartedAt[:0], b.Terms.EndsAt[:0]},
		stats:         b.stats[:0],
	}
}
