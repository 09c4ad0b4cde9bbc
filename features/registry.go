package features

import (
	"slices"

	"github.com/telcoretain/churn"
)

// Feature families: what part of a customer's history a feature describes.
const (
	FamilyRFM     = "rfm"     // recency, frequency and monetary value of usage, payments and top-ups
	FamilyUsage   = "usage"   // network usage windows, trends and quality
	FamilyBilling = "billing" // invoices, balances and payment behaviour
	FamilySupport = "support" // support tickets and satisfaction
	FamilyPlan    = "plan"    // the plan in force and its history, tenure
	FamilyProfile = "profile" // segment, region and payment method
	FamilyValue   = "value"   // revenue, lifetime value and value tier
	// FamilyLifecycle: how the customer pays (which decides how its churn is
	// defined), where it stands in its contract term, its churns and returns.
	FamilyLifecycle = "lifecycle"
)

// Feature names that code refers to directly.
const (
	NameContract      = "contract"
	NameRegion        = "region"
	NameMonthlyFee    = "monthly_fee"
	NameMonthlyRev    = "monthly_revenue"
	NameLifetimeValue = "clv"
	NameValueTier     = "value_tier"
	NameBilling       = "billing"
)

// Units of features.
const (
	unitDays     = "days"
	unitMinutes  = "minutes"
	unitMB       = "MB"
	unitCount    = "count"
	unitRatio    = "ratio"
	unitCurrency = "currency"
	unitCategory = "category"
	unitScore    = "score 1-5"
)

// Missing-value notes shared by several features. The model sees NaN as
// missing: XGBoost sends it down the branch it learned for missing values, the
// logistic model imputes the training median and adds a missing indicator.
const (
	missNoUsage365  = "NaN when the customer had no active day (any voice, data, SMS or calls) in the 365 days before the as-of date."
	missTrend       = "NaN when the 60 days before the last 30 had none of it (no baseline to compare with), e.g. customers newer than 30 days or inactive ones."
	missNoCalls     = "NaN when the customer made no calls in the window (no rate without calls)."
	missNoVoice     = "NaN when the customer had no voice minutes in the last 90 days (no share without a total)."
	missNoPayment   = "NaN when the customer made no payment in the two years before the as-of date."
	missNoPlan      = "NaN when no plan change (the initial plan counts) is dated before the as-of date."
	missUnknownCat  = "NaN when the value is not one of Categories (unknown to this feature set)."
	missNoInvoice6m = "NaN when no invoice was issued in the 180 days before the as-of date."
	missNoTerm      = "NaN when no contract term started before the as-of date (contract_terms)."
	missNoUsage8w   = "NaN when the customer had none of it in the 8 weeks before the as-of date."
)

// Registry returns the features every snapshot computes, in matrix column
// order. The model, reason codes, API and notebooks all read names,
// descriptions and units from here.
//
// Every feature can be NaN only where its Missing note says so; all counts
// and sums are 0, not NaN, for empty histories. The region feature's
// Categories are empty here: regions are free text in the contract, so the
// list comes from the data (WithRegions) and then travels with the model so
// that scoring encodes regions exactly as training did.
func Registry() []churn.Feature {
	fs := []churn.Feature{
		// Recency, frequency, monetary.
		{Name: "days_since_last_usage", Family: FamilyRFM, Unit: unitDays, Missing: missNoUsage365,
			Description: "Days from the customer's last active day (any voice, data, SMS or calls) to the as-of date"},
		{Name: "active_days_365d", Family: FamilyRFM, Unit: unitDays,
			Description: "Days with any usage in the last 365 days"},
		{Name: "days_since_last_payment", Family: FamilyRFM, Unit: unitDays, Missing: missNoPayment,
			Description: "Days from the customer's last payment to the as-of date (payments of the last two years)"},
		{Name: "payments_365d", Family: FamilyRFM, Unit: unitCount,
			Description: "Payments made in the last 365 days"},
		{Name: "paid_amount_365d", Family: FamilyRFM, Unit: unitCurrency,
			Description: "Amount paid in the last 365 days"},

		// Usage windows, trends and quality.
		{Name: "voice_minutes_7d", Family: FamilyUsage, Unit: unitMinutes, Description: "Voice minutes in the last 7 days"},
		{Name: "voice_minutes_30d", Family: FamilyUsage, Unit: unitMinutes, Description: "Voice minutes in the last 30 days"},
		{Name: "voice_minutes_90d", Family: FamilyUsage, Unit: unitMinutes, Description: "Voice minutes in the last 90 days"},
		{Name: "data_mb_7d", Family: FamilyUsage, Unit: unitMB, Description: "Mobile data in the last 7 days"},
		{Name: "data_mb_30d", Family: FamilyUsage, Unit: unitMB, Description: "Mobile data in the last 30 days"},
		{Name: "data_mb_90d", Family: FamilyUsage, Unit: unitMB, Description: "Mobile data in the last 90 days"},
		{Name: "sms_30d", Family: FamilyUsage, Unit: unitCount, Description: "SMS sent in the last 30 days"},
		{Name: "calls_30d", Family: FamilyUsage, Unit: unitCount, Description: "Calls made in the last 30 days"},
		{Name: "active_days_30d", Family: FamilyUsage, Unit: unitDays, Description: "Days with any usage in the last 30 days"},
		{Name: "active_days_90d", Family: FamilyUsage, Unit: unitDays, Description: "Days with any usage in the last 90 days"},
		{Name: "voice_trend_30d", Family: FamilyUsage, Unit: unitRatio, Missing: missTrend,
			Description: "Voice minutes in the last 30 days against the monthly average of the 60 days before (1 = unchanged, 0.5 = halved)"},
		{Name: "data_trend_30d", Family: FamilyUsage, Unit: unitRatio, Missing: missTrend,
			Description: "Mobile data in the last 30 days against the monthly average of the 60 days before (1 = unchanged, 0.5 = halved)"},
		{Name: "active_days_trend_30d", Family: FamilyUsage, Unit: unitRatio, Missing: missTrend,
			Description: "Active days in the last 30 days against the monthly average of the 60 days before (1 = unchanged, 0.5 = halved)"},
		{Name: "dropped_calls_30d", Family: FamilyUsage, Unit: unitCount, Description: "Dropped calls in the last 30 days"},
		{Name: "dropped_call_rate_30d", Family: FamilyUsage, Unit: unitRatio, Missing: missNoCalls,
			Description: "Share of calls dropped in the last 30 days"},
		{Name: "dropped_call_rate_90d", Family: FamilyUsage, Unit: unitRatio, Missing: missNoCalls,
			Description: "Share of calls dropped in the last 90 days"},
		{Name: "intl_share_90d", Family: FamilyUsage, Unit: unitRatio, Missing: missNoVoice,
			Description: "International minutes over voice minutes in the last 90 days (their share when voice minutes include them; operators that count them apart can see values above 1)"},
		{Name: "roaming_share_90d", Family: FamilyUsage, Unit: unitRatio, Missing: missNoVoice,
			Description: "Roaming minutes over voice minutes in the last 90 days (their share when voice minutes include them; operators that count them apart can see values above 1)"},

		// Billing.
		{Name: "avg_invoice_6m", Family: FamilyBilling, Unit: unitCurrency, Missing: missNoInvoice6m,
			Description: "Average invoice amount over the last 6 months"},
		{Name: "last_invoice_amount", Family: FamilyBilling, Unit: unitCurrency,
			Missing:     "NaN when no invoice was issued in the two years before the as-of date.",
			Description: "Amount of the latest invoice (invoices of the last two years)"},
		{Name: "bill_shock", Family: FamilyBilling, Unit: unitRatio,
			Missing:     "NaN when no invoice was issued in the 90 days before the latest one, or their average is not positive (no baseline).",
			Description: "Latest invoice against the average of the invoices of the 3 months before it (2 = twice the usual bill; invoices of the last two years)"},
		{Name: "outstanding_balance", Family: FamilyBilling, Unit: unitCurrency,
			Description: "Invoiced but not yet paid as of the as-of date (the invoices of the last two years and their payments; negative: credit)"},
		{Name: "late_payments_12m", Family: FamilyBilling, Unit: unitCount,
			Description: "Invoices due in the last 12 months that were paid in full, but after their due date"},
		{Name: "missed_payments_12m", Family: FamilyBilling, Unit: unitCount,
			Description: "Invoices due in the last 12 months that are still not paid in full"},
		{Name: "days_past_due", Family: FamilyBilling, Unit: unitDays,
			Description: "Days since the due date of the oldest invoice still not paid in full (0 when nothing is overdue; invoices of the last two years)"},

		// Support.
		{Name: "billing_tickets_30d", Family: FamilySupport, Unit: unitCount, Description: "Billing tickets opened in the last 30 days"},
		{Name: "billing_tickets_90d", Family: FamilySupport, Unit: unitCount, Description: "Billing tickets opened in the last 90 days"},
		{Name: "network_tickets_30d", Family: FamilySupport, Unit: unitCount, Description: "Network tickets opened in the last 30 days"},
		{Name: "network_tickets_90d", Family: FamilySupport, Unit: unitCount, Description: "Network tickets opened in the last 90 days"},
		{Name: "device_tickets_30d", Family: FamilySupport, Unit: unitCount, Description: "Device tickets opened in the last 30 days"},
		{Name: "device_tickets_90d", Family: FamilySupport, Unit: unitCount, Description: "Device tickets opened in the last 90 days"},
		{Name: "service_tickets_30d", Family: FamilySupport, Unit: unitCount, Description: "Service tickets opened in the last 30 days"},
		{Name: "service_tickets_90d", Family: FamilySupport, Unit: unitCount, Description: "Service tickets opened in the last 90 days"},
		{Name: "complaint_tickets_30d", Family: FamilySupport, Unit: unitCount, Description: "Complaints opened in the last 30 days"},
		{Name: "complaint_tickets_90d", Family: FamilySupport, Unit: unitCount, Description: "Complaints opened in the last 90 days"},
		{Name: "unresolved_tickets", Family: FamilySupport, Unit: unitCount,
			Description: "Tickets opened before the as-of date and not resolved before it (tickets of the last two years)"},
		{Name: "last_satisfaction", Family: FamilySupport, Unit: unitScore,
			Missing:     "NaN when no ticket opened in the last two years has a satisfaction score from before the as-of date.",
			Description: "Satisfaction score of the most recently resolved ticket that has one (tickets opened in the last two years)"},
		{Name: "days_since_last_complaint", Family: FamilySupport, Unit: unitDays,
			Missing:     "NaN when the customer made no complaint in the two years before the as-of date.",
			Description: "Days since the customer's latest complaint ticket was opened (complaints of the last two years)"},

		// Plan.
		{Name: NameContract, Family: FamilyPlan, Unit: unitCategory, Categories: slices.Clone(churn.Contracts),
			Missing:     missNoPlan + " " + missUnknownCat,
			Description: "Contract type of the plan in force"},
		{Name: NameMonthlyFee, Family: FamilyPlan, Unit: unitCurrency, Missing: missNoPlan,
			Description: "Monthly fee of the plan in force"},
		{Name: "fee_change_last", Family: FamilyPlan, Unit: unitCurrency, Missing: missNoPlan,
			Description: "Change of the monthly fee at the latest plan change (0 when the customer is still on the initial plan)"},
		{Name: "days_since_plan_change", Family: FamilyPlan, Unit: unitDays, Missing: missNoPlan,
			Description: "Days since the latest plan change (the initial plan counts as a change)"},
		{Name: "plan_changes_12m", Family: FamilyPlan, Unit: unitCount,
			Description: "Plan changes in the last 12 months (the initial plan counts)"},
		{Name: "tenure_days", Family: FamilyPlan, Unit: unitDays,
			Description: "Days since the customer signed up"},

		// Profile.
		{Name: "segment", Family: FamilyProfile, Unit: unitCategory, Categories: slices.Clone(churn.Segments),
			Missing: missUnknownCat, Description: "Customer segment"},
		{Name: NameRegion, Family: FamilyProfile, Unit: unitCategory, Categories: []string{},
			Missing: missUnknownCat, Description: "Region of the customer"},
		{Name: "payment_method", Family: FamilyProfile, Unit: unitCategory, Categories: slices.Clone(churn.PaymentMethods),
			Missing: missUnknownCat, Description: "How the customer pays"},

		// Value.
		{Name: "revenue_12m", Family: FamilyValue, Unit: unitCurrency,
			Description: "Invoiced amount over the last 12 months"},
		{Name: NameMonthlyRev, Family: FamilyValue, Unit: unitCurrency,
			Description: "Average monthly revenue: invoices of the last 90 days over the months they cover (3, fewer for newer customers); the monthly fee when no invoice was issued in 90 days; 0 with neither"},
		{Name: NameLifetimeValue, Family: FamilyValue, Unit: unitCurrency,
			Description: "Customer lifetime value: expected margin over the expected remaining lifetime, from monthly revenue, margin rate and the contract's base churn"},
		{Name: NameValueTier, Family: FamilyValue, Unit: unitCategory, Categories: tierCategories(),
			Description: "Value tier: A are the few customers who bring most of the lifetime value, B the next, C the rest"},

		// Lifecycle (features/sql/lifecycle.sql), after the others so that the
		// older columns keep their positions.
		{Name: NameBilling, Family: FamilyLifecycle, Unit: unitCategory, Categories: slices.Clone(churn.Billings),
			Missing: missUnknownCat, Description: "How the customer pays: postpaid (churns by a churn event) or prepaid (churns by inactivity)"},
		{Name: "days_since_last_topup", Family: FamilyRFM, Unit: unitDays,
			Missing:     "NaN when the customer did not top up in the 365 days before the as-of date.",
			Description: "Days from the customer's last top-up (prepaid credit) to the as-of date"},
		{Name: "topups_90d", Family: FamilyRFM, Unit: unitCount, Description: "Top-ups in the last 90 days"},
		{Name: "topup_amount_90d", Family: FamilyRFM, Unit: unitCurrency, Description: "Amount topped up in the last 90 days"},
		{Name: "topup_trend_30d", Family: FamilyRFM, Unit: unitRatio,
			Missing:     "NaN when the customer did not top up in the 60 days before the last 30 (no baseline).",
			Description: "Amount topped up in the last 30 days against the monthly average of the 60 days before (1 = unchanged, 0.5 = halved)"},
		{Name: "term_days_left", Family: FamilyLifecycle, Unit: unitDays, Missing: missNoTerm + " NaN too when the latest term has ended.",
			Description: "Days until the contract term in force ends"},
		{Name: "days_since_term_end", Family: FamilyLifecycle, Unit: unitDays, Missing: missNoTerm + " NaN too while a term is in force.",
			Description: "Days since the latest contract term ended without a renewal"},
		{Name: "out_of_contract", Family: FamilyLifecycle, Unit: unitCount, Missing: missNoTerm,
			Description: "1 when the customer's latest contract term has ended and was not renewed, 0 while a term is in force"},
		{Name: "contract_renewals", Family: FamilyLifecycle, Unit: unitCount,
			Description: "Contract terms started before the as-of date after the first (renewals)"},
		{Name: "past_churns", Family: FamilyLifecycle, Unit: unitCount,
			Description: "Churn events of the customer before the as-of date (each was followed by a return, or the customer would not be active)"},
		{Name: "winbacks", Family: FamilyLifecycle, Unit: unitCount,
			Description: "Times the customer came back after churning (reactivations before the as-of date)"},
		{Name: "days_since_winback", Family: FamilyLifecycle, Unit: unitDays,
			Missing:     "NaN when the customer never came back after churning.",
			Description: "Days since the customer's latest return after churning"},
		{Name: "voice_slope_8w", Family: FamilyUsage, Unit: unitRatio, Missing: missNoUsage8w,
			Description: "Weekly change of voice minutes over the last 8 weeks (least-squares slope) as a share of the average week (-0.1 = falling by a tenth of a usual week each week)"},
		{Name: "data_slope_8w", Family: FamilyUsage, Unit: unitRatio, Missing: missNoUsage8w,
			Description: "Weekly change of mobile data over the last 8 weeks (least-squares slope) as a share of the average week"},
		{Name: "usage_level_14d", Family: FamilyUsage, Unit: unitRatio,
			Missing:     "NaN when the customer had neither voice nor data in the 76 days before the last 14 (no usual level).",
			Description: "Voice and data of the last 14 days against the customer's usual level (the 76 days before; 1 = as usual, 0.3 = fading)"},
	}
	return fs
}

// derived reports whether a registry feature is computed in Go after the
// snapshot is loaded, because it needs the whole population (tiers) or
// configuration (lifetime value); the SQL returns all the others.
func derived(name string) bool {
	return name == NameLifetimeValue || name == NameValueTier
}

// QueryColumns returns the feature columns the snapshot query returns for
// fs, in order: all but the derived ones, which Compute adds. A store that
// answers the query (ClickHouse, or a fake in tests) returns these.
func QueryColumns(fs []churn.Feature) []string {
	var out []string
	for _, f := range fs {
		if !derived(f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// Names returns the names of the features, in order.
func Names(fs []churn.Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// Lookup returns the feature with the given name and whether it exists.
func Lookup(fs []churn.Feature, name string) (churn.Feature, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return churn.Feature{}, false
}

// WithRegions returns a copy of fs whose region feature has the given
// categories, in the given order (the matrix holds the index).
func WithRegions(fs []churn.Feature, regions []string) []churn.Feature {
	out := slices.Clone(fs)
	for i := range out {
		if out[i].Name == NameRegion {
			// Never nil: nil Categories would make region look numeric.
			out[i].Categories = append([]string{}, regions...)
		}
	}
	return out
}
