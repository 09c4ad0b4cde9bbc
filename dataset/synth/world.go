package synth

import (
	"math"
	"math/rand/v2"
	"time"
)

// plan is a tariff of the operator. Fee is per line; allowanceMB is the data
// included per month (0: unlimited); extra data costs overagePerGB.
type plan struct {
	name         string
	fee          float64
	allowanceMB  float64
	overagePerGB float64
	business     bool
	weight       float64 // share among plans of its segment
}

var plans = []plan{
	{name: "basic", fee: 12, allowanceMB: 3_000, overagePerGB: 4, weight: 0.25},
	{name: "standard", fee: 22, allowanceMB: 15_000, overagePerGB: 3, weight: 0.35},
	{name: "unlimited", fee: 38, weight: 0.25},
	{name: "family", fee: 55, allowanceMB: 60_000, overagePerGB: 2, weight: 0.15},
	{name: "business_start", fee: 28, allowanceMB: 20_000, overagePerGB: 3, business: true, weight: 0.55},
	{name: "business_pro", fee: 49, business: true, weight: 0.45},
}

// region is where a customer lives; networkRisk scales both the base
// dropped-call rate and the chance of network problem episodes, so regions
// differ in churn through the network and not by fiat.
type region struct {
	name        string
	weight      float64
	networkRisk float64
}

var regions = []region{
	{"London", 0.22, 0.8},
	{"South East", 0.15, 0.9},
	{"North West", 0.13, 1.0},
	{"Midlands", 0.16, 1.0},
	{"Yorkshire", 0.09, 1.1},
	{"South West", 0.08, 1.3},
	{"Scotland", 0.09, 1.6},
	{"Wales", 0.05, 1.8},
	{"Northern Ireland", 0.03, 1.5},
}

// Payment methods with their share (consumer; business accounts favour bank
// transfer) and how likely a healthy customer is to pay an invoice late.
var (
	paymentMethods = []string{"direct_debit", "credit_card", "bank_transfer", "cash"}
	consumerPayW   = []float64{0.55, 0.25, 0.12, 0.08}
	businessPayW   = []float64{0.45, 0.15, 0.40, 0.00}
	paymentLate    = []float64{0.02, 0.05, 0.10, 0.18}
)

var contracts = []string{"month_to_month", "one_year", "two_year"}

// Ticket categories (churn.TicketKinds) and reasons (churn.ChurnReasons) as
// indexes into these slices.
const (
	catBilling = iota
	catNetwork
	catDevice
	catService
	catComplaint
)

var ticketCategories = []string{"billing", "network", "device", "service", "complaint"}

const (
	reasonPrice = iota
	reasonNetwork
	reasonCompetitor
	reasonService
	reasonMoved
	reasonOther
)

var churnReasons = []string{"price", "network", "competitor", "service", "moved", "other"}

// calendar turns day offsets from Start into dates without calling AddDate
// per row. Offsets run from first (the earliest possible signup) to end.
type calendar struct {
	start       time.Time
	first, end  int         // offsets: first possible signup, end of window (exclusive)
	dates       []time.Time // dates[d-first]
	weekend     []bool
	dayOfMonth  []int8
	monthStarts []int // offsets of the first day of each month of the window, plus the end
}

func newCalendar(cfg Config) *calendar {
	start := time.Date(cfg.Start.Year(), cfg.Start.Month(), cfg.Start.Day(), 0, 0, 0, 0, time.UTC)
	endDate := start.AddDate(0, cfg.Months, 0)
	firstDate := start.AddDate(-cfg.MaxTenureYears, 0, 0)
	c := &calendar{start: start, first: daysBetween(start, firstDate), end: daysBetween(start, endDate)}
	// A little past the end, so that due dates and late payments of the last
	// invoices have dates too.
	n := c.end - c.first + 120
	c.dates = make([]time.Time, n)
	c.weekend = make([]bool, n)
	c.dayOfMonth = make([]int8, n)
	for i := range n {
		d := firstDate.AddDate(0, 0, i)
		c.dates[i] = d
		c.weekend[i] = d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		c.dayOfMonth[i] = int8(d.Day())
	}
	for m := 0; m <= cfg.Months; m++ {
		c.monthStarts = append(c.monthStarts, daysBetween(start, start.AddDate(0, m, 0)))
	}
	return c
}

func daysBetween(a, b time.Time) int { return int(math.Round(b.Sub(a).Hours() / 24)) }

func (c *calendar) date(d int) time.Time { return c.dates[d-c.first] }

// nextDayOfMonth returns the first offset >= d whose day of month is dom.
func (c *calendar) nextDayOfMonth(d, dom int) int {
	for int(c.dayOfMonth[d-c.first]) != dom {
		d++
	}
	return d
}

// pick returns an index drawn with the given weights.
func pick(r *rand.Rand, w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	u := r.Float64() * total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// lognormal draws exp(N(mu, sigma)).
func lognormal(r *rand.Rand, mu, sigma float64) float64 {
	return math.Exp(mu + sigma*r.NormFloat64())
}

// poisson draws a Poisson count: by multiplication for small means, from the
// normal approximation for large ones (fast enough for 35M usage rows).
func poisson(r *rand.Rand, mean float64) uint32 {
	if mean <= 0 {
		return 0
	}
	if mean < 20 {
		l := math.Exp(-mean)
		k := uint32(0)
		p := r.Float64()
		for p > l {
			k++
			p *= r.Float64()
		}
		return k
	}
	x := math.Round(mean + math.Sqrt(mean)*r.NormFloat64())
	if x < 0 {
		return 0
	}
	return uint32(x)
}

// splitmix64 scrambles a seed so that neighbouring customer indexes get
// unrelated PCG streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// customerRand is customer i's own random stream for a seed.
func customerRand(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed), splitmix64(seed^splitmix64(uint64(i)+1))))
}
