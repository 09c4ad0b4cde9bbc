package synth

import (
	"runtime"
	"time"

	"github.com/telcoretain/churn"
)

// Config says what population to generate and how strongly each risk factor
// drives churn. Start from DefaultConfig and change what a test needs.
type Config struct {
	Customers int       // customers in the customers table, existing and new
	Months    int       // length of the observed window in months
	Seed      uint64    // same seed, same rows
	Start     time.Time // first day of the window (UTC date); never the wall clock

	// NewCustomerShare is the share of customers who sign up during the
	// window; the others signed up up to MaxTenureYears before Start.
	NewCustomerShare float64
	MaxTenureYears   int
	BusinessShare    float64 // share of business accounts
	// PrepaidShare is the share of consumer accounts that are prepaid: they
	// top up instead of being invoiced, and churn by going silent (no churn
	// event). Business accounts are postpaid.
	PrepaidShare float64

	Effects Effects

	Workers   int // parallel generators; 0 means GOMAXPROCS
	ChunkSize int // customers per generated chunk; 0 means 500
}

// Effects are the sizes of the behaviours the generator plants. Hazards are
// monthly probabilities; multipliers scale them; weights add to the
// voluntary hazard's "1 +" term while their factor is active, which also
// decides the reason a churner gives.
type Effects struct {
	BaseHazard  float64 // voluntary monthly hazard of a one_year, mid-tenure consumer with no risk factor
	NoiseHazard float64 // monthly churn for reasons the data cannot show (moved, other)

	MonthToMonth, OneYear, TwoYear float64 // contract multipliers
	TenureUnder6, TenureUnder12    float64 // multipliers for tenure under 6 and under 12 months
	TenureOver36                   float64 // multiplier for tenure over 36 months
	Business                       float64 // multiplier for business accounts

	PriceRiseShare  float64 // share of customers whose fee rises once in the window
	PriceRiseWeight float64 // hazard weight while a price rise is recent
	PriceRiseDays   int     // how long a price rise keeps raising the hazard

	NetworkEpisodeRate float64 // monthly chance of a network problem episode (scaled by region)
	DropFactor         float64 // dropped-call rate multiplier during an episode
	NetworkWeight      float64 // hazard weight during and after an episode
	NetworkDays        int     // days after an episode starts that it raises the hazard

	ComplaintRate float64 // monthly chance of a complaint ticket with no trigger
	ServiceWeight float64 // hazard weight after a complaint or a poorly rated ticket
	ServiceDays   int     // how long a complaint raises the hazard

	TicketRate float64 // monthly chance of an ordinary ticket (billing, device, service)

	DistressRate float64 // monthly chance a customer falls into payment trouble
	DistressMiss float64 // chance a distressed customer misses an invoice outright
	RecoverRate  float64 // chance distress ends after each invoice

	UsageDeclineFloor float64 // usage at the churn date relative to normal, for customers who leave
	DeclineDaysMin    int     // usage starts declining between DeclineDaysMin and DeclineDaysMax days before churn
	DeclineDaysMax    int
	StayerDipRate     float64 // yearly chance a staying customer has a temporary usage dip

	// UsageShift multiplies all usage from UsageShiftFrom on (drift tests);
	// 1 leaves usage unchanged.
	UsageShift     float64
	UsageShiftFrom time.Time

	// Prepaid multiplies the hazard of prepaid customers (on top of their
	// month-to-month contract multiplier).
	Prepaid float64
	// RenewRate is the chance a fixed contract term (one or two years) is
	// renewed at its end; otherwise the customer moves to month-to-month.
	RenewRate float64
	// TermEndWeight is the hazard weight in the month around a term's end,
	// when the customer is free to leave without a fee.
	TermEndWeight float64
	// WinBackRate is the chance a postpaid customer who leaves voluntarily
	// comes back (20 to 120 days later); WinBackHazard multiplies its hazard
	// afterwards.
	WinBackRate   float64
	WinBackHazard float64
	// SilentSpellRate is the yearly chance a prepaid line goes quiet (no
	// usage, no top-up) for 15 to 45 days and then comes back.
	SilentSpellRate float64
}

// DefaultStart is the default first day of the window: a fixed date so that a
// seed always gives the same data.
var DefaultStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultConfig returns the configuration of `churn seed` without flags:
// 20,000 customers over 12 months from 2025-01-01, seed 1, with monthly churn
// near 2% and the top fifth of customers bringing about two thirds of revenue.
func DefaultConfig() Config {
	return Config{
		Customers:        20000,
		Months:           12,
		Seed:             1,
		Start:            DefaultStart,
		NewCustomerShare: 0.2,
		MaxTenureYears:   6,
		BusinessShare:    0.15,
		PrepaidShare:     0.45,
		Effects:          DefaultEffects(),
	}
}

// DefaultEffects returns effect sizes that give a monthly churn between 1.5%
// and 3% in which every planted cause is clearly, but not trivially, visible.
func DefaultEffects() Effects {
	return Effects{
		BaseHazard:  0.0095,
		NoiseHazard: 0.0025,

		MonthToMonth: 1.8, OneYear: 0.8, TwoYear: 0.45,
		TenureUnder6: 1.8, TenureUnder12: 1.3, TenureOver36: 0.75,
		Business: 0.75,

		PriceRiseShare: 0.3, PriceRiseWeight: 3, PriceRiseDays: 75,

		NetworkEpisodeRate: 0.05, DropFactor: 6, NetworkWeight: 3, NetworkDays: 45,

		ComplaintRate: 0.012, ServiceWeight: 3, ServiceDays: 60,

		TicketRate: 0.06,

		DistressRate: 0.0035, DistressMiss: 0.75, RecoverRate: 0.15,

		UsageDeclineFloor: 0.35, DeclineDaysMin: 14, DeclineDaysMax: 60,
		StayerDipRate: 0.08,

		UsageShift: 1,

		Prepaid: 0.8, RenewRate: 0.8, TermEndWeight: 2.5,
		WinBackRate: 0.2, WinBackHazard: 1.5, SilentSpellRate: 0.1,
	}
}

// Validate reports the first field that makes the configuration unusable, as
// a churn.KindInvalid error naming it.
func (c Config) Validate() error {
	const op = "synthetic data"
	switch {
	case c.Customers < 1 || c.Customers > maxCustomers:
		return churn.Invalid(op, "customers", "%d is out of range: want 1 to %d", c.Customers, maxCustomers)
	case c.Months < 1 || c.Months > maxMonths:
		return churn.Invalid(op, "months", "%d is out of range: want 1 to %d", c.Months, maxMonths)
	case c.Start.IsZero():
		return churn.Invalid(op, "start", "is not set")
	case c.Start.Year() < 1980 || c.Start.Year() > 2090:
		return churn.Invalid(op, "start", "%s is out of range: want a date from 1980 to 2090", c.Start.Format(time.DateOnly))
	case c.NewCustomerShare < 0 || c.NewCustomerShare > 1:
		return churn.Invalid(op, "new_customer_share", "%g is not a share between 0 and 1", c.NewCustomerShare)
	case c.MaxTenureYears < 1 || c.MaxTenureYears > 8:
		return churn.Invalid(op, "max_tenure_years", "%d is out of range: want 1 to 8", c.MaxTenureYears)
	case c.BusinessShare < 0 || c.BusinessShare > 1:
		return churn.Invalid(op, "business_share", "%g is not a share between 0 and 1", c.BusinessShare)
	case c.PrepaidShare < 0 || c.PrepaidShare > 1:
		return churn.Invalid(op, "prepaid_share", "%g is not a share between 0 and 1", c.PrepaidShare)
	case c.Workers < 0:
		return churn.Invalid(op, "workers", "%d is negative", c.Workers)
	case c.ChunkSize < 0:
		return churn.Invalid(op, "chunk_size", "%d is negative", c.ChunkSize)
	}
	return c.Effects.validate(op)
}

func (e Effects) validate(op string) error {
	probs := []struct {
		name string
		v    float64
	}{
		{"base_hazard", e.BaseHazard}, {"noise_hazard", e.NoiseHazard},
		{"price_rise_share", e.PriceRiseShare}, {"network_episode_rate", e.NetworkEpisodeRate},
		{"complaint_rate", e.ComplaintRate}, {"ticket_rate", e.TicketRate},
		{"distress_rate", e.DistressRate}, {"distress_miss", e.DistressMiss},
		{"recover_rate", e.RecoverRate}, {"usage_decline_floor", e.UsageDeclineFloor},
		{"stayer_dip_rate", e.StayerDipRate}, {"renew_rate", e.RenewRate},
		{"win_back_rate", e.WinBackRate}, {"silent_spell_rate", e.SilentSpellRate},
	}
	for _, p := range probs {
		if p.v < 0 || p.v > 1 {
			return churn.Invalid(op, p.name, "%g is not a probability between 0 and 1", p.v)
		}
	}
	nonNeg := []struct {
		name string
		v    float64
	}{
		{"month_to_month", e.MonthToMonth}, {"one_year", e.OneYear}, {"two_year", e.TwoYear},
		{"tenure_under_6", e.TenureUnder6}, {"tenure_under_12", e.TenureUnder12},
		{"tenure_over_36", e.TenureOver36}, {"business", e.Business},
		{"price_rise_weight", e.PriceRiseWeight}, {"network_weight", e.NetworkWeight},
		{"service_weight", e.ServiceWeight}, {"drop_factor", e.DropFactor}, {"usage_shift", e.UsageShift},
		{"prepaid", e.Prepaid}, {"term_end_weight", e.TermEndWeight}, {"win_back_hazard", e.WinBackHazard},
	}
	for _, p := range nonNeg {
		if p.v < 0 {
			return churn.Invalid(op, p.name, "%g is negative", p.v)
		}
	}
	days := []struct {
		name string
		v    int
	}{
		{"price_rise_days", e.PriceRiseDays}, {"network_days", e.NetworkDays}, {"service_days", e.ServiceDays},
		{"decline_days_min", e.DeclineDaysMin}, {"decline_days_max", e.DeclineDaysMax},
	}
	for _, d := range days {
		if d.v < 1 || d.v > 365 {
			return churn.Invalid(op, d.name, "%d days is out of range: want 1 to 365", d.v)
		}
	}
	if e.DeclineDaysMax < e.DeclineDaysMin {
		return churn.Invalid(op, "decline_days_max", "%d is below decline_days_min %d", e.DeclineDaysMax, e.DeclineDaysMin)
	}
	return nil
}

const (
	maxCustomers = 99_999_999 // customer ids have eight digits
	maxMonths    = 120        // invoice and ticket ids number at most 999 per customer
)

func (c Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (c Config) chunkSize() int {
	if c.ChunkSize > 0 {
		return c.ChunkSize
	}
	return 500
}

// EstimatedRows is roughly how many rows the configuration generates in all
// tables, for progress bars: usage rows on most days of the window plus a
// couple of billing rows a month.
func (c Config) EstimatedRows() int64 {
	days := c.Start.AddDate(0, c.Months, 0).Sub(c.Start).Hours() / 24
	perCustomer := 0.83*days + 1.9*float64(c.Months) + 1.5
	return int64(float64(c.Customers) * perCustomer)
}
