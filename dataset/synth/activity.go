package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/telcoretain/churn"
)

// Prices of usage outside the plan, per minute and per GB.
const (
	intlPerMinute    = 0.20
	roamingPerMinute = 0.35
	intlDayShare     = 0.35 // share of days an international caller calls abroad
	suspendedUsage   = 0.15 // usage left while service is barred for non-payment
	dipDepth         = 0.5  // usage at the bottom of a temporary dip
)

// emit writes the customer's rows into b and returns what the summary needs.
// shiftFrom is the first day of Effects.UsageShift (noDay when none).
func emit(r *rand.Rand, cfg *Config, cal *calendar, p *profile, shiftFrom int, b *Batch) customerStats {
	stop := min(p.churn, cal.end)
	id := p.id

	c := &b.Customers
	c.ID = append(c.ID, id)
	c.SignupDate = append(c.SignupDate, cal.date(p.signup))
	c.Region = append(c.Region, regions[p.region].name)
	c.Segment = append(c.Segment, segmentName(p.business))
	c.PaymentMethod = append(c.PaymentMethod, paymentMethods[p.payMethod])
	billing := churn.BillingPostpaid
	if p.prepaid {
		billing = churn.BillingPrepaid
	}
	c.Billing = append(c.Billing, billing)

	pc := &b.PlanChanges
	for _, pr := range p.plans {
		if pr.day >= stop {
			break
		}
		pc.CustomerID = append(pc.CustomerID, id)
		pc.ChangedAt = append(pc.ChangedAt, cal.date(pr.day))
		pc.Plan = append(pc.Plan, plans[pr.plan].name)
		pc.Contract = append(pc.Contract, contracts[pr.contract])
		pc.MonthlyFee = append(pc.MonthlyFee, pr.fee)
	}

	tm := &b.Terms
	for _, t := range p.terms {
		if t.from < stop {
			tm.CustomerID = append(tm.CustomerID, id)
			tm.StartedAt = append(tm.StartedAt, cal.date(t.from))
			// A term can end past the calendar's days (a two-year term).
			tm.EndsAt = append(tm.EndsAt, cal.start.AddDate(0, 0, t.to))
		}
	}

	amounts := emitUsage(r, cfg, cal, p, shiftFrom, stop, &b.Usage)
	revenue := emitBilling(r, cal, p, amounts, b)
	revenue += emitTopups(r, cal, p, stop, &b.Topups)
	emitTickets(r, cal, p, stop, &b.Tickets)

	ce := &b.ChurnEvents
	event := func(day, reason int, invol bool) {
		ce.CustomerID = append(ce.CustomerID, id)
		ce.ChurnedAt = append(ce.ChurnedAt, cal.date(day))
		ce.Reason = append(ce.Reason, churnReasons[reason])
		kind := "voluntary"
		if invol {
			kind = "involuntary"
		}
		ce.Kind = append(ce.Kind, kind)
	}
	if p.winback.to > 0 {
		event(p.winback.from, p.firstReason, false)
		b.Reactivations.CustomerID = append(b.Reactivations.CustomerID, id)
		b.Reactivations.ReactivatedAt = append(b.Reactivations.ReactivatedAt, cal.date(p.winback.to))
	}
	// A prepaid customer's churn is its silence: nobody files an event.
	if p.churn < cal.end && !p.prepaid {
		event(p.churn, p.reason, p.invol)
	}
	return customerStats{signup: p.signup, churn: p.churn, revenue: revenue}
}

func segmentName(business bool) string {
	if business {
		return "business"
	}
	return "consumer"
}

// emitUsage writes one usage row per active day of the window and returns the
// amount of each of the customer's invoices: the fee in force plus the
// international, roaming and data overage charges of the days it covers.
func emitUsage(r *rand.Rand, cfg *Config, cal *calendar, p *profile, shiftFrom, stop int, u *Usage) []float64 {
	e := &cfg.Effects
	amounts := make([]float64, len(p.invoices))
	inv, periodStart := 0, max(p.signup, 0)
	var intlSum, roamSum, dataSum float64
	closeInvoice := func(d int) {
		pr := p.planAt(d)
		fee := pr.fee
		if d == p.churn {
			// The final bill charges the fee for the part of the month used.
			fee *= math.Min(1, float64(d-periodStart)/30)
		}
		extra := intlSum*intlPerMinute + roamSum*roamingPerMinute
		if pl := plans[pr.plan]; pl.allowanceMB > 0 {
			extra += math.Min(5, math.Max(0, dataSum-pl.allowanceMB*p.lines)/1000) * pl.overagePerGB * math.Sqrt(p.lines)
		}
		amounts[inv] = math.Round((fee+extra)*100) / 100
		inv++
		periodStart = d
		intlSum, roamSum, dataSum = 0, 0, 0
	}

	voiceWk, dataWk := 0.8, 1.2
	if p.business {
		voiceWk, dataWk = 0.45, 0.8
	}
	for d := max(p.signup, 0); d < stop; d++ {
		for inv < len(p.invoices) && p.invoices[inv] <= d {
			closeInvoice(p.invoices[inv])
		}
		if p.away(d) {
			continue
		}
		mult := 1.0
		if p.decline.has(d) {
			frac := float64(d-p.decline.from+1) / float64(p.decline.to-p.decline.from)
			mult *= 1 - (1-e.UsageDeclineFloor)*frac
		}
		for _, dp := range p.dips {
			if dp.has(d) {
				frac := float64(d-dp.from) / float64(dp.to-dp.from)
				mult *= 1 - (1-dipDepth)*(1-math.Abs(2*frac-1))
			}
		}
		if p.suspend.has(d) {
			mult *= suspendedUsage
		}
		if d >= shiftFrom {
			mult *= e.UsageShift
		}
		vf, df := mult, mult
		if cal.weekend[d-cal.first] {
			vf *= voiceWk
			df *= dataWk
		}
		voice := math.Min(1440, p.voice*vf*noise(r))
		data := math.Min(1e7, p.data*df*noise(r))
		calls := poisson(r, voice/p.callLen)
		sms := poisson(r, p.sms*mult)
		intl := 0.0
		if p.intl > 0 && r.Float64() < intlDayShare {
			intl = math.Min(1440, p.intl*mult*noise(r))
		}
		roam, dropRate := 0.0, p.dropRate
		for _, t := range p.trips {
			if t.has(d) {
				roam = math.Min(1440, p.roaming*mult*noise(r))
			}
		}
		for _, ep := range p.episodes {
			if ep.has(d) {
				dropRate *= e.DropFactor
				break
			}
		}
		drops := min(calls, poisson(r, float64(calls)*dropRate))
		intlSum += intl
		roamSum += roam
		dataSum += data

		u.CustomerID = append(u.CustomerID, p.id)
		u.Day = append(u.Day, cal.date(d))
		u.VoiceMinutes = append(u.VoiceMinutes, float32(math.Round(voice*10)/10))
		u.DataMB = append(u.DataMB, float32(math.Round(data*10)/10))
		u.SMS = append(u.SMS, sms)
		u.Calls = append(u.Calls, calls)
		u.IntlMinutes = append(u.IntlMinutes, float32(math.Round(intl*10)/10))
		u.RoamingMinutes = append(u.RoamingMinutes, float32(math.Round(roam*10)/10))
		u.DroppedCalls = append(u.DroppedCalls, drops)
	}
	for inv < len(p.invoices) {
		closeInvoice(p.invoices[inv])
	}
	return amounts
}

// noise is day-to-day variation: lognormal with mean 1.
func noise(r *rand.Rand) float64 {
	const sigma = 0.35
	return math.Exp(sigma*r.NormFloat64() - sigma*sigma/2)
}

// emitBilling writes the invoices and the payments that arrived before the
// end of the window, and returns the revenue invoiced.
func emitBilling(r *rand.Rand, cal *calendar, p *profile, amounts []float64, b *Batch) float64 {
	revenue := 0.0
	for k, d := range p.invoices {
		invID := fmt.Sprintf("INV-%08d-%03d", p.idx+1, k+1)
		due := d + p.dueDays
		in := &b.Invoices
		in.InvoiceID = append(in.InvoiceID, invID)
		in.CustomerID = append(in.CustomerID, p.id)
		in.IssuedAt = append(in.IssuedAt, cal.date(d))
		in.DueDate = append(in.DueDate, cal.date(due))
		in.Amount = append(in.Amount, amounts[k])
		revenue += amounts[k]

		var paid int
		switch p.status[k] {
		case missed:
			continue
		case late:
			paid = due + 1 + r.IntN(35)
		default:
			if paymentMethods[p.payMethod] == "direct_debit" {
				paid = due - r.IntN(3)
			} else {
				paid = d + r.IntN(p.dueDays+1)
			}
		}
		if paid >= cal.end {
			continue // not paid yet when the data ends
		}
		pm := &b.Payments
		pm.InvoiceID = append(pm.InvoiceID, invID)
		pm.CustomerID = append(pm.CustomerID, p.id)
		pm.PaidAt = append(pm.PaidAt, cal.date(paid))
		pm.Amount = append(pm.Amount, amounts[k])
	}
	return revenue
}

// emitTickets writes the tickets opened before the customer left. Tickets
// still open at the end of the window, and a few forgotten ones, have no
// resolution; only some resolved tickets get a satisfaction rating.
// emitTopups writes a prepaid customer's top-ups: about one a month of
// around the plan's fee, rarer and smaller while its usage fades, none in a
// quiet spell. It returns their total.
func emitTopups(r *rand.Rand, cal *calendar, p *profile, stop int, t *Topups) float64 {
	if !p.prepaid {
		return 0
	}
	total, n := 0.0, 0
	for d := max(p.signup, 0) + r.IntN(10); d < stop; {
		level := 1.0
		if p.decline.has(d) {
			level = 1 - 0.7*float64(d-p.decline.from+1)/float64(p.decline.to-p.decline.from)
		}
		if !p.away(d) {
			n++
			amount := math.Max(5, math.Round(p.planAt(d).fee*level*(0.8+0.6*r.Float64())))
			t.TopupID = append(t.TopupID, fmt.Sprintf("TU-%08d-%04d", p.idx+1, n))
			t.CustomerID = append(t.CustomerID, p.id)
			t.ToppedUpAt = append(t.ToppedUpAt, cal.date(d))
			t.Amount = append(t.Amount, amount)
			total += amount
		}
		d += max(5, int(30*lognormal(r, 0, 0.25)/level))
	}
	return total
}

func emitTickets(r *rand.Rand, cal *calendar, p *profile, stop int, t *Tickets) {
	end := cal.date(cal.end)
	n := 0
	for _, tk := range p.tickets {
		if tk.day >= stop || n == 999 || p.winback.has(tk.day) {
			continue
		}
		n++
		opened := cal.date(tk.day).Add(8*time.Hour + time.Duration(r.IntN(12*3600))*time.Second)
		hours := lognormal(r, math.Log(18), 1.0)
		if tk.category == catComplaint || tk.category == catNetwork {
			hours *= 2
		}
		var resolved *time.Time
		var sat *uint8
		if at := opened.Add(time.Duration(hours * float64(time.Hour))).Truncate(time.Second); at.Before(end) && r.Float64() > 0.02 {
			resolved = &at
			if r.Float64() < 0.75 {
				s := uint8(tk.sat)
				sat = &s
			}
		}
		t.TicketID = append(t.TicketID, fmt.Sprintf("TK-%08d-%03d", p.idx+1, n))
		t.CustomerID = append(t.CustomerID, p.id)
		t.OpenedAt = append(t.OpenedAt, opened)
		t.Category = append(t.Category, ticketCategories[tk.category])
		t.ResolvedAt = append(t.ResolvedAt, resolved)
		t.Satisfaction = append(t.Satisfaction, sat)
	}
}
