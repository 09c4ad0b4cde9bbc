package synth

import (
	"slices"
)

// TableRows is the number of rows generated for one table.
type TableRows struct {
	Table string
	Rows  int
}

// Summary describes a generated data set: sizes, churn and revenue
// concentration, so `churn seed` can show that it looks like an operator.
type Summary struct {
	Customers   int
	Tables      []TableRows // in load order
	Rows        int         // all tables
	ChurnEvents int
	Involuntary int
	// MonthlyChurn[m] is the share of customers active at the start of
	// month m (signed up before it, not churned before it) who churn in it.
	MonthlyChurn     []float64
	MeanMonthlyChurn float64
	Revenue          float64 // all invoices and top-ups
	// Top20RevenueShare is the share of revenue (invoices and top-ups) of the fifth of
	// customers (Customers/5 of them) who were invoiced most.
	Top20RevenueShare float64

	cal      *calendar
	active   []int
	churned  []int
	revenues []float64
}

func newSummary(cfg Config, cal *calendar) Summary {
	return Summary{cal: cal, active: make([]int, cfg.Months), churned: make([]int, cfg.Months)}
}

func (s *Summary) add(b *Batch) {
	if s.Tables == nil {
		for _, bl := range b.Blocks() {
			s.Tables = append(s.Tables, TableRows{Table: bl.Table})
		}
	}
	for i, bl := range b.Blocks() {
		s.Tables[i].Rows += bl.Rows
		s.Rows += bl.Rows
	}
	s.Customers += len(b.stats)
	s.ChurnEvents += len(b.ChurnEvents.CustomerID)
	for _, k := range b.ChurnEvents.Kind {
		if k == "involuntary" {
			s.Involuntary++
		}
	}
	for _, st := range b.stats {
		s.revenues = append(s.revenues, st.revenue)
		s.Revenue += st.revenue
		for m := range s.active {
			ms, me := s.cal.monthStarts[m], s.cal.monthStarts[m+1]
			if st.signup < ms && st.churn >= ms {
				s.active[m]++
				if st.churn < me {
					s.churned[m]++
				}
			}
		}
	}
}

func (s *Summary) finish() {
	s.MonthlyChurn = make([]float64, len(s.active))
	n := 0
	for m := range s.active {
		if s.active[m] > 0 {
			s.MonthlyChurn[m] = float64(s.churned[m]) / float64(s.active[m])
			s.MeanMonthlyChurn += s.MonthlyChurn[m]
			n++
		}
	}
	if n > 0 {
		s.MeanMonthlyChurn /= float64(n)
	}
	s.Top20RevenueShare = TopShare(s.revenues, s.Customers/5)
	s.revenues = nil
}

// TopShare is the share of the sum of values held by the k largest. It sorts
// values in place.
func TopShare(values []float64, k int) float64 {
	slices.SortFunc(values, func(a, b float64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	total, top := 0.0, 0.0
	for i, v := range values {
		total += v
		if i < k {
			top += v
		}
	}
	if total == 0 {
		return 0
	}
	return top / total
}
