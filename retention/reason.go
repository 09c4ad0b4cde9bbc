package retention

import (
	"strings"

	"github.com/telcoretain/churn"
)

// Reason categories a policy rule can match. They group the model's reason
// codes (features) into what a retention agent can act on. "competitor" is
// falling usage: a customer trying another operator's SIM uses less of ours
// before porting out.
const (
	ReasonPrice      = "price"
	ReasonNetwork    = "network"
	ReasonService    = "service"
	ReasonCompetitor = "competitor"
	ReasonPayment    = "payment"
	ReasonContract   = "contract"
	ReasonOther      = "other"
)

// Reasons lists the categories in the order policies and reports show them.
var Reasons = []string{ReasonPrice, ReasonNetwork, ReasonService, ReasonCompetitor, ReasonPayment, ReasonContract, ReasonOther}

// reasonPrefixes maps feature names (by prefix, first match wins) to reason
// categories. A test checks every feature of the registry lands somewhere on
// purpose, so a new feature cannot fall into "other" unnoticed.
var reasonPrefixes = []struct{ prefix, reason string }{
	{"dropped_call", ReasonNetwork}, {"network_tickets", ReasonNetwork},
	{"complaint_tickets", ReasonService}, {"service_tickets", ReasonService}, {"device_tickets", ReasonService},
	{"unresolved_tickets", ReasonService}, {"last_satisfaction", ReasonService}, {"days_since_last_complaint", ReasonService},
	{"billing_tickets", ReasonPrice}, {"fee_change", ReasonPrice}, {"bill_shock", ReasonPrice}, {"monthly_fee", ReasonPrice},
	{"avg_invoice", ReasonPrice}, {"last_invoice", ReasonPrice}, {"days_since_plan_change", ReasonPrice}, {"plan_changes", ReasonPrice},
	{"late_payments", ReasonPayment}, {"missed_payments", ReasonPayment}, {"days_past_due", ReasonPayment},
	{"outstanding_balance", ReasonPayment}, {"days_since_last_payment", ReasonPayment}, {"payments_", ReasonPayment},
	{"paid_amount", ReasonPayment},
	{"voice_", ReasonCompetitor}, {"data_", ReasonCompetitor}, {"sms_", ReasonCompetitor}, {"calls_", ReasonCompetitor},
	{"active_days", ReasonCompetitor}, {"days_since_last_usage", ReasonCompetitor}, {"intl_share", ReasonCompetitor},
	{"roaming_share", ReasonCompetitor}, {"usage_level", ReasonCompetitor},
	// A prepaid line topping up less is going quiet; a customer won back
	// once is open to the next competitor's offer.
	{"days_since_last_topup", ReasonCompetitor}, {"topup", ReasonCompetitor},
	{"past_churns", ReasonCompetitor}, {"winbacks", ReasonCompetitor}, {"days_since_winback", ReasonCompetitor},
	{"contract", ReasonContract}, {"tenure", ReasonContract}, {"term_days_left", ReasonContract},
	{"days_since_term_end", ReasonContract}, {"out_of_contract", ReasonContract},
}

// ReasonOf returns the category of a feature's reason code.
func ReasonOf(feature string) string {
	for _, p := range reasonPrefixes {
		if strings.HasPrefix(feature, p.prefix) {
			return p.reason
		}
	}
	return ReasonOther
}

// TopReason is the category of the score's strongest reason code, "other"
// when it has none.
func TopReason(s churn.Score) string {
	if len(s.Reasons) == 0 {
		return ReasonOther
	}
	best := 0
	for i, r := range s.Reasons {
		if r.Contribution > s.Reasons[best].Contribution {
			best = i
		}
	}
	return ReasonOf(s.Reasons[best].Feature)
}
