package synth

import (
	"math"
	"math/rand/v2"
)

// Satisfaction distributions (index 0 is a rating of 1) by kind of ticket.
var (
	satOrdinary  = []float64{0.05, 0.10, 0.20, 0.30, 0.35}
	satNetwork   = []float64{0.25, 0.30, 0.25, 0.15, 0.05}
	satComplaint = []float64{0.45, 0.35, 0.15, 0.05, 0}
	ordinaryCats = []float64{catBilling: 0.35, catNetwork: 0.10, catDevice: 0.30, catService: 0.25}
)

// drawEvents plans the customer's life from the start of the history (or
// signup) to the end of the window: plan changes, network episodes, trips,
// tickets and payment trouble. None of it depends on whether the customer
// churns; churn depends on it (decideChurn).
func drawEvents(r *rand.Rand, cfg *Config, cal *calendar, p *profile) (distress int) {
	e := &cfg.Effects
	from := max(p.signup, -historyDays)
	// Plan events may fall a little before the window (their rows are
	// visible) but not in a customer's first month.
	planFrom := max(p.signup+30, -60)
	var evs []planEvent
	if planFrom < cal.end && r.Float64() < e.PriceRiseShare {
		evs = append(evs, planEvent{day: planFrom + r.IntN(cal.end-planFrom), rise: true, factor: 1.08 + 0.12*r.Float64()})
	}
	if planFrom < cal.end && r.Float64() < 0.1*float64(cfg.Months)/12 {
		cur := p.plans[0].plan
		var others []float64
		for j, pl := range plans {
			w := 0.0
			if pl.business == p.business && j != cur {
				w = pl.weight
			}
			others = append(others, w)
		}
		evs = append(evs, planEvent{day: planFrom + r.IntN(cal.end-planFrom), plan: pick(r, others)})
	}
	evs = append(evs, p.drawTerms(r, cfg, cal)...)
	p.applyPlanEvents(evs)
	if p.prepaid && r.Float64() < e.SilentSpellRate*float64(cfg.Months)/12 {
		from := max(p.signup, 0) + r.IntN(cal.end-max(p.signup, 0))
		p.silent = span{from, from + 15 + r.IntN(31)}
	}

	tripRate := 1.2 / 12
	if p.business {
		tripRate = 3.0 / 12
	}
	netRate := e.NetworkEpisodeRate * regions[p.region].networkRisk
	distress = noDay
	for s := from; s < cal.end; s += 30 {
		if r.Float64() < netRate {
			ep := span{s + r.IntN(30), 0}
			ep.to = ep.from + 7 + r.IntN(18)
			p.episodes = append(p.episodes, ep)
			if r.Float64() < 0.45 {
				p.addTicket(ticket{day: ep.from + 1 + r.IntN(ep.to-ep.from-1), category: catNetwork, sat: 1 + pick(r, satNetwork)})
			}
		}
		if r.Float64() < e.TicketRate {
			p.addTicket(ticket{day: s + r.IntN(30), category: pick(r, ordinaryCats), sat: 1 + pick(r, satOrdinary)})
		}
		// Complaints come on their own and, three times as often, after a
		// network episode or a price rise.
		rate := e.ComplaintRate
		if p.recentEpisode(s, 45) {
			rate *= 3
		}
		if p.recentRise(s, 60) {
			rate *= 3
		}
		if r.Float64() < rate {
			cat := catComplaint
			if r.Float64() < 0.2 {
				cat = catService
			}
			p.addTicket(ticket{day: s + r.IntN(30), category: cat, sat: 1 + pick(r, satComplaint)})
		}
		if distress == noDay && r.Float64() < e.DistressRate {
			distress = s + r.IntN(30)
		}
		if r.Float64() < tripRate {
			t := span{s + r.IntN(30), 0}
			t.to = t.from + 3 + r.IntN(12)
			p.trips = append(p.trips, t)
		}
	}
	if r.Float64() < e.StayerDipRate*float64(cfg.Months)/12 {
		d := span{max(p.signup, 0) + r.IntN(cal.end-max(p.signup, 0)), 0}
		d.to = d.from + 20 + r.IntN(25)
		p.dips = append(p.dips, d)
	}
	return distress
}

// addTicket keeps tickets of the customer's time with the operator; a
// complaint or a poorly rated ticket is what drives service churn.
func (p *profile) addTicket(t ticket) {
	if t.day < p.signup {
		return
	}
	t.service = t.category == catComplaint || t.sat <= 2
	p.tickets = append(p.tickets, t)
}

func (p *profile) recentEpisode(d, days int) bool {
	for _, ep := range p.episodes {
		if ep.from < d && ep.from >= d-days {
			return true
		}
	}
	return false
}

func (p *profile) recentRise(d, days int) bool {
	for _, x := range p.rises {
		if x < d && x >= d-days {
			return true
		}
	}
	return false
}

func (p *profile) recentService(d, days int) bool {
	for _, t := range p.tickets {
		if t.service && t.day < d && t.day >= d-days {
			return true
		}
	}
	return false
}

// decideChurn schedules invoices with their payment outcome, which may end in
// an involuntary disconnect, then walks the months of the window drawing
// voluntary churn from the hazard of the risk factors present before each
// month starts.
func decideChurn(r *rand.Rand, cfg *Config, cal *calendar, p *profile, distress int) {
	e := &cfg.Effects
	invol := noDay
	first := max(p.signup, 0) + 1
	misses, recovered := 0, false
	for d := cal.nextDayOfMonth(first, p.billingDay); d < cal.end && !p.prepaid; d = cal.nextDayOfMonth(d+1, p.billingDay) {
		if d >= invol {
			break
		}
		st := onTime
		switch u := r.Float64(); {
		case distress <= d && !recovered:
			st = late
			if u < e.DistressMiss {
				st = missed
				misses++
			}
			if misses == 2 && invol == noDay {
				due := d + p.dueDays
				invol = due + 21
				p.suspend = span{due + 7, invol}
			}
			if r.Float64() < e.RecoverRate && misses < 2 {
				recovered = true
			}
		case u < 0.004:
			st = missed
		case u < 0.004+p.lateProb:
			st = late
		}
		p.invoices = append(p.invoices, d)
		p.status = append(p.status, st)
	}

	p.drawChurn(r, cfg, cal, p.signup, invol, 1)
	if p.churn < cal.end && p.churn < invol && !p.prepaid && r.Float64() < e.WinBackRate {
		// The customer leaves and comes back: the first departure becomes a
		// churn event and a reactivation, and its hazard runs again.
		back := p.churn + 20 + r.IntN(101)
		if back < cal.end && back < invol {
			p.winback, p.firstReason = span{p.churn, back}, p.reason
			p.churn, p.reason = noDay, 0
			p.drawChurn(r, cfg, cal, back, invol, e.WinBackHazard)
		}
	}
	if invol < cal.end && invol <= p.churn {
		p.churn, p.reason, p.invol = invol, reasonOther, true
	}
	gone := p.churn // the departure the usage fades before
	if p.winback.to > 0 {
		gone = p.winback.from
	}
	if gone == noDay {
		return
	}
	if !p.invol && r.Float64() < 0.85 {
		n := e.DeclineDaysMin + r.IntN(e.DeclineDaysMax-e.DeclineDaysMin+1)
		p.decline = span{gone - n, gone}
	}
	p.dropAwayInvoices()
	if p.churn == noDay {
		return
	}
	for len(p.invoices) > 0 && p.invoices[len(p.invoices)-1] >= p.churn {
		p.invoices = p.invoices[:len(p.invoices)-1]
		p.status = p.status[:len(p.status)-1]
	}
	if !p.invol && !p.prepaid && p.churn > max(p.signup, 0) {
		// The final bill, issued on the day the customer leaves.
		st := onTime
		if r.Float64() < p.lateProb {
			st = late
		}
		p.invoices = append(p.invoices, p.churn)
		p.status = append(p.status, st)
	}
}

// dropAwayInvoices removes the billing days while a win-back customer was
// away.
func (p *profile) dropAwayInvoices() {
	k := 0
	for i, d := range p.invoices {
		if !p.winback.has(d) {
			p.invoices[k], p.status[k] = d, p.status[i]
			k++
		}
	}
	p.invoices, p.status = p.invoices[:k], p.status[:k]
}

// drawChurn draws a voluntary churn month by month after day from and
// before invol, with the hazard multiplied by mult; it sets p.churn and
// p.reason, or leaves p.churn at noDay.
func (p *profile) drawChurn(r *rand.Rand, cfg *Config, cal *calendar, from, invol int, mult float64) {
	e := &cfg.Effects
	if p.prepaid {
		mult *= e.Prepaid
	}
	for m := 0; m < cfg.Months; m++ {
		ms, me := cal.monthStarts[m], cal.monthStarts[m+1]
		if ms <= from {
			continue
		}
		if ms >= invol {
			break
		}
		h := e.BaseHazard * p.riskMultiplier(e, ms) * mult
		wPrice, wNet, wServ, wTerm := 0.0, 0.0, 0.0, 0.0
		if p.recentRise(ms, e.PriceRiseDays) {
			wPrice = e.PriceRiseWeight
		}
		if p.recentEpisode(ms, e.NetworkDays) {
			wNet = e.NetworkWeight
		}
		if p.recentService(ms, e.ServiceDays) {
			wServ = e.ServiceWeight
		}
		if p.termEndsIn(ms-15, me+15) {
			wTerm = e.TermEndWeight // free to leave without a fee
		}
		h *= 1 + wPrice + wNet + wServ + wTerm
		u := r.Float64()
		day := ms + r.IntN(me-ms)
		switch {
		case u < h:
			p.churn = day
			p.reason = pick(r, []float64{reasonPrice: wPrice, reasonNetwork: wNet, reasonCompetitor: 0.6 + wTerm,
				reasonService: wServ, reasonMoved: 0.2, reasonOther: 0.2})
		case u < h+e.NoiseHazard:
			p.churn = day
			p.reason = pick(r, []float64{reasonMoved: 0.6, reasonOther: 0.4})
		default:
			continue
		}
		return
	}
}

// drawTerms returns the fixed contract terms of a postpaid customer on a one
// or two year contract from its signup: each renews at its end with
// RenewRate, and the first unrenewed one becomes a lapse to month_to_month.
func (p *profile) drawTerms(r *rand.Rand, cfg *Config, cal *calendar) []planEvent {
	months := map[string]int{"one_year": 12, "two_year": 24}[contracts[p.plans[0].contract]]
	if p.prepaid || months == 0 {
		return nil
	}
	for s := p.signup; ; {
		end := s + int(math.Round(float64(months)*365.25/12))
		p.terms = append(p.terms, span{s, end})
		if end >= cal.end {
			return nil
		}
		if r.Float64() >= cfg.Effects.RenewRate {
			return []planEvent{{day: end, lapse: true}}
		}
		s = end
	}
}

// termEndsIn reports whether one of the customer's terms ends in [from, to).
func (p *profile) termEndsIn(from, to int) bool {
	for _, t := range p.terms {
		if t.to >= from && t.to < to {
			return true
		}
	}
	return false
}

// riskMultiplier is the product of the customer's structural risk factors
// (contract in force, tenure, segment) at day d.
func (p *profile) riskMultiplier(e *Effects, d int) float64 {
	m := 1.0
	switch contracts[p.planAt(d-1).contract] {
	case "month_to_month":
		m *= e.MonthToMonth
	case "one_year":
		m *= e.OneYear
	default:
		m *= e.TwoYear
	}
	switch t := d - p.signup; {
	case t < 183:
		m *= e.TenureUnder6
	case t < 365:
		m *= e.TenureUnder12
	case t > 3*365:
		m *= e.TenureOver36
	}
	if p.business {
		m *= e.Business
	}
	return m
}
