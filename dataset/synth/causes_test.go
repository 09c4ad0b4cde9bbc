package synth

import (
	"slices"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

// lookback holds, for one customer and a reference date T (the churn date of
// a churner, the end of the window for a stayer), what point-in-time features
// would see before T.
type lookback struct {
	churned, invol bool
	reason         string
	monthToMonth   bool    // contract in force at T
	shortTenure    bool    // signed up less than a year before T
	priceRise      bool    // a higher fee took effect in the 110 days before T
	dropRate       float64 // dropped calls per call in the 60 days before T
	unhappyTicket  bool    // a complaint or a rating of 1-2 in the 90 days before T
	usageTrend     float64 // voice in the 30 days before T over voice 60-90 days before T
	unpaidShare    float64 // share of the customer's invoices never paid
}

// lookbacks computes a lookback for every customer with at least 90 days of
// usage before its reference date.
func lookbacks(b *Batch, cfg Config) []lookback {
	end := cfg.Start.AddDate(0, cfg.Months, 0)
	day := 24 * time.Hour
	ref := map[string]int{}
	var out []lookback
	for i, id := range b.Customers.ID {
		ref[id] = i
	}
	refDate := make([]time.Time, len(b.Customers.ID))
	info := make([]lookback, len(b.Customers.ID))
	for i := range refDate {
		refDate[i] = end
	}
	for i, id := range b.ChurnEvents.CustomerID {
		c := ref[id]
		refDate[c] = b.ChurnEvents.ChurnedAt[i]
		info[c].churned = true
		info[c].invol = b.ChurnEvents.Kind[i] == "involuntary"
		info[c].reason = b.ChurnEvents.Reason[i]
	}
	lastFee := make([]float64, len(info))
	for i, id := range b.PlanChanges.CustomerID {
		c := ref[id]
		at := b.PlanChanges.ChangedAt[i]
		if at.Before(refDate[c]) {
			info[c].monthToMonth = b.PlanChanges.Contract[i] == "month_to_month"
			if lastFee[c] > 0 && b.PlanChanges.MonthlyFee[i] > lastFee[c] && at.After(refDate[c].Add(-110*day)) {
				info[c].priceRise = true
			}
		}
		lastFee[c] = b.PlanChanges.MonthlyFee[i]
	}
	for i, id := range b.Tickets.CustomerID {
		c := ref[id]
		at := b.Tickets.OpenedAt[i]
		s := b.Tickets.Satisfaction[i]
		if at.Before(refDate[c]) && at.After(refDate[c].Add(-90*day)) &&
			(b.Tickets.Category[i] == "complaint" || (s != nil && *s <= 2)) {
			info[c].unhappyTicket = true
		}
	}
	paid := map[string]bool{}
	for _, id := range b.Payments.InvoiceID {
		paid[id] = true
	}
	invoices := make([]int, len(info))
	unpaid := make([]int, len(info))
	for i, id := range b.Invoices.CustomerID {
		c := ref[id]
		invoices[c]++
		if !paid[b.Invoices.InvoiceID[i]] && b.Invoices.DueDate[i].Before(end.Add(-60*day)) {
			unpaid[c]++
		}
	}
	calls := make([]float64, len(info))
	drops := make([]float64, len(info))
	recent := make([]float64, len(info))
	earlier := make([]float64, len(info))
	earliest := make([]time.Time, len(info))
	for i, id := range b.Usage.CustomerID {
		c := ref[id]
		d := b.Usage.Day[i]
		if earliest[c].IsZero() {
			earliest[c] = d
		}
		age := refDate[c].Sub(d)
		if age <= 60*day {
			calls[c] += float64(b.Usage.Calls[i])
			drops[c] += float64(b.Usage.DroppedCalls[i])
		}
		switch {
		case age <= 30*day:
			recent[c] += float64(b.Usage.VoiceMinutes[i])
		case age > 60*day && age <= 90*day:
			earlier[c] += float64(b.Usage.VoiceMinutes[i])
		}
	}
	for c := range info {
		// Prepaid customers file no churn events: their causes are judged
		// by the feature tests, not here.
		if b.Customers.Billing[c] == churn.BillingPrepaid ||
			earliest[c].IsZero() || earliest[c].After(refDate[c].Add(-90*day)) || calls[c] == 0 || earlier[c] == 0 {
			continue
		}
		info[c].shortTenure = refDate[c].Sub(b.Customers.SignupDate[c]) < 365*day
		info[c].dropRate = drops[c] / calls[c]
		info[c].usageTrend = recent[c] / earlier[c]
		if invoices[c] > 0 {
			info[c].unpaidShare = float64(unpaid[c]) / float64(invoices[c])
		}
		out = append(out, info[c])
	}
	return out
}

func mean(xs []lookback, churned func(lookback) bool, f func(lookback) float64) (float64, int) {
	s, n := 0.0, 0
	for _, x := range xs {
		if churned(x) {
			s += f(x)
			n++
		}
	}
	return s / float64(n), n
}

func median(xs []lookback, keep func(lookback) bool, f func(lookback) float64) float64 {
	var v []float64
	for _, x := range xs {
		if keep(x) {
			v = append(v, f(x))
		}
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestChurnersShowTheCausesMoreOftenThanStayers(t *testing.T) {
	b, _ := fixture(t)
	lb := lookbacks(b, DefaultConfig())
	voluntary := func(x lookback) bool { return x.churned && !x.invol }
	stayer := func(x lookback) bool { return !x.churned }
	tests := []struct {
		name  string
		value func(lookback) float64
		ratio float64 // churners' mean must be at least ratio × stayers'
	}{
		// 1.2, not more: long-tenure stayers whose term lapsed are month-to-month too.
		{"month-to-month contract", func(x lookback) float64 { return flag(x.monthToMonth) }, 1.2},
		{"tenure under a year", func(x lookback) float64 { return flag(x.shortTenure) }, 1.3},
		{"price rise in 110 days", func(x lookback) float64 { return flag(x.priceRise) }, 1.5},
		{"dropped-call rate in 60 days", func(x lookback) float64 { return x.dropRate }, 1.15},
		{"complaint or poor rating in 90 days", func(x lookback) float64 { return flag(x.unhappyTicket) }, 2},
	}
	for _, tt := range tests {
		c, nc := mean(lb, voluntary, tt.value)
		s, ns := mean(lb, stayer, tt.value)
		t.Logf("%s: churners %.4f (n=%d), stayers %.4f (n=%d)", tt.name, c, nc, s, ns)
		if s <= 0 {
			t.Errorf("%s: never seen among stayers; the cause must also occur without churn", tt.name)
		}
		if c < tt.ratio*s {
			t.Errorf("%s: churners %.4f, stayers %.4f, want churners at least %.1fx", tt.name, c, s, tt.ratio)
		}
	}

	trendC := median(lb, voluntary, func(x lookback) float64 { return x.usageTrend })
	trendS := median(lb, stayer, func(x lookback) float64 { return x.usageTrend })
	t.Logf("voice last 30 days / 60-90 days before: churners %.3f, stayers %.3f", trendC, trendS)
	if trendC > 0.8*trendS {
		t.Errorf("usage of churners does not decline before churn: median trend %.3f vs stayers %.3f", trendC, trendS)
	}

	involuntary := func(x lookback) bool { return x.invol }
	uc, nc := mean(lb, involuntary, func(x lookback) float64 { return x.unpaidShare })
	us, _ := mean(lb, stayer, func(x lookback) float64 { return x.unpaidShare })
	t.Logf("unpaid invoice share: involuntary churners %.4f (n=%d), stayers %.4f", uc, nc, us)
	if nc == 0 || uc < 10*us || us <= 0 {
		t.Errorf("missed payments do not concentrate in involuntary churners: %.4f vs stayers %.4f", uc, us)
	}
}

func TestChurnReasonsMatchTheirCauses(t *testing.T) {
	b, _ := fixture(t)
	lb := lookbacks(b, DefaultConfig())
	stayer := func(x lookback) bool { return !x.churned }
	tests := []struct {
		reason string
		value  func(lookback) float64
		ratio  float64
	}{
		{"price", func(x lookback) float64 { return flag(x.priceRise) }, 4},
		{"network", func(x lookback) float64 { return x.dropRate }, 1.8},
		{"service", func(x lookback) float64 { return flag(x.unhappyTicket) }, 5},
	}
	for _, tt := range tests {
		c, n := mean(lb, func(x lookback) bool { return x.churned && x.reason == tt.reason }, tt.value)
		s, _ := mean(lb, stayer, tt.value)
		t.Logf("reason %s: churners %.4f (n=%d), stayers %.4f", tt.reason, c, n, s)
		if n < 20 || c < tt.ratio*s {
			t.Errorf("reason %s: %d churners with %.4f vs stayers %.4f, want at least %.1fx", tt.reason, n, c, s, tt.ratio)
		}
	}
	reasons := map[string]int{}
	for i, r := range b.ChurnEvents.Reason {
		reasons[r+"/"+b.ChurnEvents.Kind[i]]++
	}
	for _, want := range []string{"price/voluntary", "network/voluntary", "competitor/voluntary", "service/voluntary",
		"moved/voluntary", "other/voluntary", "other/involuntary"} {
		if reasons[want] == 0 {
			t.Errorf("no churn event with reason/kind %s; got %v", want, reasons)
		}
	}
}
