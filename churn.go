package churn

import "time"

// Customer is a subscriber of the operator as the customers contract table holds it.
type Customer struct {
	ID            string
	SignupDate    time.Time
	Region        string
	Segment       string // consumer or business
	PaymentMethod string
}

// Enumerations of the input contract tables. Imports reject values outside them.
var (
	Segments       = []string{"consumer", "business"}
	PaymentMethods = []string{"direct_debit", "credit_card", "bank_transfer", "cash"}
	Contracts      = []string{"month_to_month", "one_year", "two_year"}
	TicketKinds    = []string{"billing", "network", "device", "service", "complaint"}
	ChurnReasons   = []string{"price", "network", "competitor", "service", "moved", "other"}
	ChurnKinds     = []string{"voluntary", "involuntary"}
	// Billings are how customers pay, which decides how their churn is
	// defined: postpaid by churn events, prepaid by inactivity.
	Billings = []string{BillingPostpaid, BillingPrepaid}
)

// Billing kinds of customers.
const (
	BillingPostpaid = "postpaid"
	BillingPrepaid  = "prepaid"
)

// DefaultPrepaidInactivity is the days without usage and without a top-up
// after which a prepaid customer has churned, unless configured.
const DefaultPrepaidInactivity = 60

// FeatureHistoryDays is how far back the features read billing and support
// history: invoices issued, payments made and tickets opened in the 730
// days before the as-of date (features.HistoryDays). The customer profile
// shows the balance and invoices of the same window.
const FeatureHistoryDays = 730

// Reason explains part of a score: one feature that pushed the churn probability up.
type Reason struct {
	Feature      string  // registry name of the feature
	Value        float64 // the customer's value of the feature
	Contribution float64 // contribution to the log-odds of churn
	Text         string  // sentence for people
}

// Score is a customer's churn score from one scoring run.
type Score struct {
	RunID         string
	CustomerID    string
	AsOf          time.Time
	ModelVersion  ModelVersion
	Probability   float64 // calibrated probability of churn within the horizon
	Band          RiskBand
	Tier          ValueTier
	LifetimeValue float64
	ExpectedLoss  float64 // Probability x LifetimeValue
	Reasons       []Reason
	// Uplift is the churn a retention action would prevent, as the uplift
	// champion UpliftModel estimated it when the run scored the customer;
	// UpliftModel 0 means the run stored none (no uplift champion, or one
	// trained on other features than the churn champion's).
	Uplift      float64
	UpliftModel ModelVersion
}
