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
)

// RiskBand groups customers by churn probability for people and policies.
type RiskBand string

// Risk bands.
const (
	RiskHigh   RiskBand = "high"
	RiskMedium RiskBand = "medium"
	RiskLow    RiskBand = "low"
)

// ValueTier is the ABC class of a customer by value: A are the few customers who
// bring most of the value, C the many who bring little.
type ValueTier string

// Value tiers.
const (
	TierA ValueTier = "A"
	TierB ValueTier = "B"
	TierC ValueTier = "C"
)

// FeatureVector is one customer's point-in-time features, in the order of the
// feature registry.
type FeatureVector struct {
	CustomerID string
	AsOf       time.Time
	Values     []float32 // NaN where a feature is missing
}

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
	ModelVersion  int
	Probability   float64 // calibrated probability of churn within the horizon
	Band          RiskBand
	Tier          ValueTier
	LifetimeValue float64
	ExpectedLoss  float64 // Probability x LifetimeValue
	Reasons       []Reason
}

// ModelVersion describes one trained model in the registry. The artifact is
// the self-describing model file (algorithm, features, encodings, calibration,
// training window, metrics, library versions) that scoring loads.
type ModelVersion struct {
	Version         int
	Algorithm       string // "logistic" or "xgboost"
	CreatedAt       time.Time
	Params          map[string]string
	Features        []string
	TrainFrom       time.Time // first snapshot date used for training
	TrainTo         time.Time // last snapshot date used for training
	HoldoutAsOf     time.Time // out-of-time holdout snapshot the metrics come from
	Metrics         map[string]float64
	LibraryVersions map[string]string
	Description     string
	Artifact        []byte // empty in listings
	Champion        bool
}

// ModelEvent records a change of champion in the registry.
type ModelEvent struct {
	At       time.Time
	Version  int    // the champion after the event
	Event    string // promote or rollback
	Previous int    // the champion before the event, 0 when none
	Actor    string
	Reason   string
}

// ActionStatus is the state of a retention action in the queue.
type ActionStatus string

// Action statuses, in the order an action usually passes through them.
const (
	ActionQueued    ActionStatus = "queued"
	ActionClaimed   ActionStatus = "claimed"
	ActionDone      ActionStatus = "done"
	ActionFailed    ActionStatus = "failed"
	ActionCancelled ActionStatus = "cancelled"
	ActionControl   ActionStatus = "control" // held out on purpose: no contact
)

// Action is a retention action for one customer: whom to contact, how, and why.
type Action struct {
	ID         string
	CustomerID string
	Cycle      string
	Kind       string // specialist_call, offer, email, sms, none
	Offer      string
	Channel    string
	Cost       float64
	Priority   int
	Value      float64 // expected value of acting
	Status     ActionStatus
	Agent      string
	LeaseUntil time.Time
	Outcome    string
	Note       string
	CreatedAt  time.Time
}

// ScoreRun is a finished scoring run: the set of scores readers see.
type ScoreRun struct {
	ID           string
	AsOf         time.Time
	ModelVersion int
	FinishedAt   time.Time
	Rows         int64
}

// DriftMeasure is one measure of a drift check of a scoring run: the PSI of
// the score ("score") or of a feature ("feature", named), or the AUC of a
// past run whose labels are known ("auc").
type DriftMeasure struct {
	RunID        string
	At           time.Time
	ModelVersion int
	Kind         string
	Feature      string
	Value        float64
	Threshold    float64
	Breached     bool // the value crossed its threshold
	Retrain      bool // the check started a retraining run
}

// JobRun is one run of a scheduled or manual job.
type JobRun struct {
	ID       string
	Job      string
	Trigger  string // schedule, manual or drift
	Started  time.Time
	Finished time.Time
	Status   string // running, succeeded, failed
	Rows     int64
	Error    string
}
