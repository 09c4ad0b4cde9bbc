package dataset

import "github.com/telcoretain/churn"

// ColumnType is the type of a contract column as ClickHouse stores it.
type ColumnType string

// Column types used by the contract tables.
const (
	String   ColumnType = "String"
	Date     ColumnType = "Date"
	DateTime ColumnType = "DateTime"
	Float32  ColumnType = "Float32"
	Float64  ColumnType = "Float64"
	UInt8    ColumnType = "UInt8"
	UInt32   ColumnType = "UInt32"
)

// Column is one column of a contract table.
type Column struct {
	Name     string
	Type     ColumnType
	Nullable bool     // empty CSV cells are NULL
	Enum     []string // allowed values, nil when any
	EnumHint string   // where to add a value Enum lacks (the vocabulary file), empty for no hint
	Min, Max float64  // inclusive bounds for numbers; both 0 means unbounded below by 0 for unsigned types
	Ref      string   // "table.column" this column references (foreign key), empty when none
	// Default, when not empty, makes the column optional in a CSV header:
	// a file without it gets this value in every row (files written before
	// the column existed).
	Default string
}

// Table is one input contract table.
type Table struct {
	Name    string
	Columns []Column
	Key     []string // columns that identify a row uniquely
	DateCol string   // the column that dates a row (for ranges in `churn status`)
}

// ColumnNames returns the table's column names in contract order.
func (t Table) ColumnNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// Column returns the named column and whether it exists.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Tables are the input contract tables of shared/ARCHITECTURE.md, in load
// order: a table comes after the tables it references.
var Tables = []Table{
	{
		Name: "customers", Key: []string{"customer_id"}, DateCol: "signup_date",
		Columns: []Column{
			{Name: "customer_id", Type: String},
			{Name: "signup_date", Type: Date},
			{Name: "region", Type: String},
			{Name: "segment", Type: String, Enum: churn.Segments},
			{Name: "payment_method", Type: String, Enum: churn.PaymentMethods},
			{Name: "billing", Type: String, Enum: churn.Billings, Default: churn.BillingPostpaid},
		},
	},
	{
		Name: "plan_changes", Key: []string{"customer_id", "changed_at"}, DateCol: "changed_at",
		Columns: []Column{
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "changed_at", Type: Date},
			{Name: "plan", Type: String},
			{Name: "contract", Type: String, Enum: churn.Contracts},
			{Name: "monthly_fee", Type: Float64, Min: 0, Max: 1e6},
		},
	},
	{
		Name: "usage_daily", Key: []string{"customer_id", "day"}, DateCol: "day",
		Columns: []Column{
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "day", Type: Date},
			{Name: "voice_minutes", Type: Float32, Min: 0, Max: 1440},
			{Name: "data_mb", Type: Float32, Min: 0, Max: 1e7},
			{Name: "sms", Type: UInt32, Min: 0, Max: 1e6},
			{Name: "calls", Type: UInt32, Min: 0, Max: 1e5},
			{Name: "intl_minutes", Type: Float32, Min: 0, Max: 1440},
			{Name: "roaming_minutes", Type: Float32, Min: 0, Max: 1440},
			{Name: "dropped_calls", Type: UInt32, Min: 0, Max: 1e5},
		},
	},
	{
		Name: "invoices", Key: []string{"invoice_id"}, DateCol: "issued_at",
		Columns: []Column{
			{Name: "invoice_id", Type: String},
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "issued_at", Type: Date},
			{Name: "due_date", Type: Date},
			{Name: "amount", Type: Float64, Min: -1e7, Max: 1e7},
		},
	},
	{
		Name: "payments", Key: []string{"invoice_id", "paid_at"}, DateCol: "paid_at",
		Columns: []Column{
			{Name: "invoice_id", Type: String, Ref: "invoices.invoice_id"},
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "paid_at", Type: Date},
			{Name: "amount", Type: Float64, Min: -1e7, Max: 1e7},
		},
	},
	{
		Name: "support_tickets", Key: []string{"ticket_id"}, DateCol: "opened_at",
		Columns: []Column{
			{Name: "ticket_id", Type: String},
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "opened_at", Type: DateTime},
			{Name: "category", Type: String, Enum: churn.TicketKinds},
			{Name: "resolved_at", Type: DateTime, Nullable: true},
			{Name: "satisfaction", Type: UInt8, Nullable: true, Min: 1, Max: 5},
		},
	},
	{
		// Several events per customer: one per time it left (win-backs).
		Name: "churn_events", Key: []string{"customer_id", "churned_at"}, DateCol: "churned_at",
		Columns: []Column{
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "churned_at", Type: Date},
			{Name: "reason", Type: String, Enum: churn.ChurnReasons},
			{Name: "kind", Type: String, Enum: churn.ChurnKinds},
		},
	},
	{
		Name: "reactivations", Key: []string{"customer_id", "reactivated_at"}, DateCol: "reactivated_at",
		Columns: []Column{
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "reactivated_at", Type: Date},
		},
	},
	{
		Name: "topups", Key: []string{"topup_id"}, DateCol: "topped_up_at",
		Columns: []Column{
			{Name: "topup_id", Type: String},
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "topped_up_at", Type: Date},
			{Name: "amount", Type: Float64, Min: 0, Max: 1e6},
		},
	},
	{
		Name: "contract_terms", Key: []string{"customer_id", "started_at"}, DateCol: "started_at",
		Columns: []Column{
			{Name: "customer_id", Type: String, Ref: "customers.customer_id"},
			{Name: "started_at", Type: Date},
			{Name: "ends_at", Type: Date},
		},
	},
}

// TableByName returns the contract table with the given name.
func TableByName(name string) (Table, bool) {
	for _, t := range Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}
