package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// noDay marks an event that does not happen (a churn date of a customer who
// stays, a distress onset that never comes).
const noDay = math.MaxInt32

// historyDays is how far before Start risk events (tickets, price rises)
// exist, so that churn early in the window has visible causes too.
const historyDays = 90

// span is a run of days [from, to).
type span struct{ from, to int }

func (s span) has(d int) bool { return d >= s.from && d < s.to }

// planRow is one plan_changes row: the plan in force from day on.
type planRow struct {
	day      int
	plan     int
	contract int
	fee      float64
}

// ticket is one support ticket before it is written out.
type ticket struct {
	day      int
	category int
	sat      int // 0: not rated
	service  bool
}

// profile is one customer: who they are, how they use the service, and the
// events of their life with the operator.
type profile struct {
	idx       int
	id        string
	signup    int
	region    int
	business  bool
	prepaid   bool // tops up instead of being invoiced; churns by going silent
	payMethod int
	lines     float64

	plans []planRow
	terms []span // fixed contract terms: the first and each renewal

	billingDay int
	dueDays    int
	lateProb   float64

	voice, data, sms, callLen float64
	intl                      float64 // mean international minutes on a day with any; 0 for most
	roaming                   float64
	dropRate                  float64

	episodes []span // network problems
	trips    []span // abroad: roaming
	dips     []span // temporary usage dips (holidays, a second phone)
	tickets  []ticket
	rises    []int // days of price rises

	churn   int // noDay when the customer stays in the window
	reason  int
	invol   bool
	decline span // usage fades over these days before a voluntary churn
	suspend span // service barred before an involuntary disconnect
	// winback is the time away of a customer who left and came back: a
	// churn event (with firstReason) on from, a reactivation on to.
	winback     span
	firstReason int
	silent      span   // a prepaid line's quiet spell: no usage, no top-up
	invoices    []int  // billing days in the window up to churn
	status      []byte // per invoice: onTime, late or missed
}

const (
	onTime byte = iota
	late
	missed
)

// newProfile draws customer i's attributes and usage levels.
func newProfile(r *rand.Rand, cfg *Config, cal *calendar, i int) *profile {
	p := &profile{idx: i, id: fmt.Sprintf("C%08d", i+1), churn: noDay}
	if r.Float64() < cfg.NewCustomerShare {
		p.signup = r.IntN(cal.end)
	} else {
		// Survivors of earlier years: many in their first year, a long tail.
		maxTenure := -cal.first - 1
		var tenure int
		if r.Float64() < 0.3 {
			tenure = 1 + r.IntN(365)
		} else {
			tenure = 365 + int(r.ExpFloat64()*2*365)
		}
		p.signup = -min(tenure, maxTenure)
	}
	p.business = r.Float64() < cfg.BusinessShare
	rw := make([]float64, len(regions))
	for j, rg := range regions {
		rw[j] = rg.weight
	}
	p.region = pick(r, rw)
	if p.business {
		p.payMethod = pick(r, businessPayW)
	} else {
		p.payMethod = pick(r, consumerPayW)
	}

	pw := make([]float64, len(plans))
	for j, pl := range plans {
		if pl.business == p.business {
			pw[j] = pl.weight
		}
	}
	pl := pick(r, pw)
	contractW := []float64{0.45, 0.30, 0.25}
	p.lines = 1
	if p.business {
		contractW = []float64{0.20, 0.40, 0.40}
		// Pareto line counts: most firms have a few lines, a few have hundreds.
		p.lines = math.Min(300, math.Floor(math.Pow(1-r.Float64(), -1/0.9)))
	}
	p.plans = []planRow{{day: p.signup, plan: pl, contract: pick(r, contractW), fee: p.fee(pl, 1)}}

	p.billingDay = min(int(cal.dayOfMonth[p.signup-cal.first]), 28)
	p.dueDays = 14 + r.IntN(8)
	p.lateProb = paymentLate[p.payMethod] * lognormal(r, 0, 0.6)

	scale := 1.0
	if p.business {
		scale = math.Sqrt(p.lines) * 1.4
	}
	p.voice = lognormal(r, math.Log(22), 0.7) * scale
	p.data = lognormal(r, math.Log(220), 0.9) * math.Sqrt(scale)
	switch plans[pl].name {
	case "basic":
		p.data *= 0.5
	case "unlimited", "business_pro":
		p.data *= 2
	}
	p.sms = lognormal(r, math.Log(3), 1.0)
	p.callLen = lognormal(r, math.Log(3), 0.3)
	intlShare := 0.2
	if p.business {
		intlShare = 0.5
	}
	if r.Float64() < intlShare {
		p.intl = math.Min(90, lognormal(r, math.Log(6), 1.3)) * scale
	}
	p.roaming = lognormal(r, math.Log(12), 0.8) * math.Sqrt(scale)
	p.dropRate = 0.008 * regions[p.region].networkRisk * lognormal(r, 0, 0.3)
	// Drawn last, so that the draws above stay those of a postpaid operator.
	if !p.business && r.Float64() < cfg.PrepaidShare {
		p.prepaid = true
		p.plans[0].contract = 0 // month_to_month: no term
	}
	return p
}

// away reports whether the customer is gone on day d but comes back later
// (a win-back), or is a prepaid line in a quiet spell.
func (p *profile) away(d int) bool { return p.winback.has(d) || p.silent.has(d) }

// fee is the monthly fee of plan pl for the customer's lines, with a volume
// discount for large accounts, times a price factor.
func (p *profile) fee(pl int, factor float64) float64 {
	disc := math.Max(0.7, 1-0.05*math.Log2(p.lines))
	return math.Round(plans[pl].fee*p.lines*disc*factor*100) / 100
}

// planAt returns the plan row in force on day d.
func (p *profile) planAt(d int) planRow {
	cur := p.plans[0]
	for _, pr := range p.plans[1:] {
		if pr.day > d {
			break
		}
		cur = pr
	}
	return cur
}

// planEvent is a change of the customer's plan: a price rise (same plan and
// contract, higher fee) or a switch to another plan of the segment.
type planEvent struct {
	day    int
	rise   bool
	factor float64 // price rise factor
	plan   int     // new plan of a switch
	lapse  bool    // a fixed term ends unrenewed: the contract becomes month_to_month
}

// applyPlanEvents turns events into plan rows in day order, one row per day
// so that (customer_id, changed_at) stays a key.
func (p *profile) applyPlanEvents(evs []planEvent) {
	slices.SortFunc(evs, func(a, b planEvent) int { return a.day - b.day })
	priceLevel := 1.0
	for _, ev := range evs {
		cur := p.plans[len(p.plans)-1]
		if ev.day <= cur.day {
			ev.day = cur.day + 1
		}
		next := planRow{day: ev.day, plan: cur.plan, contract: cur.contract}
		switch {
		case ev.lapse:
			next.contract = 0
		case ev.rise:
			priceLevel *= ev.factor
			p.rises = append(p.rises, ev.day)
		default:
			next.plan = ev.plan
		}
		next.fee = p.fee(next.plan, priceLevel)
		p.plans = append(p.plans, next)
	}
}
