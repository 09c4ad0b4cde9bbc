package features

import (
	"strconv"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// DefaultMinHistory is the days of data a snapshot needs before its as-of
// date: the longest usage window (90 days) must be fully covered.
const DefaultMinHistory = 90

// PlanSpec describes the data available and the training snapshots wanted.
type PlanSpec struct {
	DataStart time.Time // first usage day
	DataEnd   time.Time // the day after the latest usage day
	Horizon   int       // label window in days; 0 means DefaultHorizon
	// Settle is the days after a horizon before its labels are known: the
	// prepaid inactivity days when any customer is prepaid, else 0.
	Settle     int
	Count      int // training snapshots wanted (at most), > 0
	MinHistory int // days of data needed before a snapshot; 0 means DefaultMinHistory
}

// Schedule is the set of snapshots a model is trained and evaluated on.
type Schedule struct {
	Train   []time.Time // training as-of dates, oldest first
	Holdout time.Time   // the evaluation as-of date, after every training label window
}

// PlanSnapshots plans monthly snapshots for training and an out-of-time
// holdout. The holdout is the latest as-of date whose horizon has fully
// passed: DataEnd − Horizon − Settle. Training snapshots step back from it by
// whole calendar months (same day of month, clamped to the month's last day),
// skip dates whose labels would read data from the holdout on (T + Horizon +
// Settle > Holdout), and stop at Count or when fewer than MinHistory days of data
// precede them. Fewer than Count is not an error; none is.
func PlanSnapshots(p PlanSpec) (Schedule, error) {
	const op = "plan snapshots"
	h := p.Horizon
	if h == 0 {
		h = DefaultHorizon
	}
	minHist := p.MinHistory
	if minHist == 0 {
		minHist = DefaultMinHistory
	}
	switch {
	case h < 0:
		return Schedule{}, churn.Invalid(op, "horizon", "%d days: must be positive", h)
	case p.Settle < 0:
		return Schedule{}, churn.Invalid(op, "settle", "%d days: must not be negative", p.Settle)
	case minHist < 0:
		return Schedule{}, churn.Invalid(op, "min_history", "%d days: must be positive", minHist)
	case p.Count <= 0:
		return Schedule{}, churn.Invalid(op, "count", "%d: want at least one training snapshot", p.Count)
	case p.DataStart.IsZero() || p.DataEnd.IsZero():
		return Schedule{}, churn.Invalid(op, "data", "the data's first and last days are required (is usage_daily empty?)")
	}
	start, end := Date(p.DataStart), Date(p.DataEnd)
	earliest := start.AddDate(0, 0, minHist) // first as-of date with enough history
	holdout := end.AddDate(0, 0, -h-p.Settle)
	if holdout.Before(earliest) {
		return Schedule{}, churn.Invalid(op, "data", "usage from %s to %s is too short: a %d-day horizon, %d days to settle prepaid labels and %d days of history need data from at least %s",
			start.Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly), h, p.Settle, minHist, earliest.AddDate(0, 0, h+p.Settle).Format(time.DateOnly))
	}
	s := Schedule{Holdout: holdout}
	for k := 1; len(s.Train) < p.Count; k++ {
		t := monthsBefore(holdout, k)
		if t.Before(earliest) {
			break
		}
		if t.AddDate(0, 0, h+p.Settle).After(holdout) {
			continue
		}
		s.Train = append(s.Train, t)
	}
	if len(s.Train) == 0 {
		return Schedule{}, churn.Invalid(op, "data", "no training snapshot fits before the holdout %s with %d days of history from %s",
			holdout.Format(time.DateOnly), minHist, start.Format(time.DateOnly))
	}
	for i, j := 0, len(s.Train)-1; i < j; i, j = i+1, j-1 {
		s.Train[i], s.Train[j] = s.Train[j], s.Train[i]
	}
	return s, nil
}

// monthsBefore returns the date k calendar months before t, on t's day of
// month or the last day of the month when it is shorter. Computing from t
// each time (not month by month) keeps the 31st from drifting to the 28th.
func monthsBefore(t time.Time, k int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m-time.Month(k), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// ParseHorizon reads a label window: "30d", "30" (days) or "4w" (weeks).
func ParseHorizon(s string) (int, error) {
	const op = "parse horizon"
	in := strings.TrimSpace(strings.ToLower(s))
	mult := 1
	switch {
	case strings.HasSuffix(in, "d"):
		in = strings.TrimSuffix(in, "d")
	case strings.HasSuffix(in, "w"):
		in, mult = strings.TrimSuffix(in, "w"), 7
	}
	n, err := strconv.Atoi(in)
	if err != nil || n <= 0 || n > 3650/mult {
		return 0, churn.Invalid(op, "horizon", "%q is not a horizon: want a number of days such as 30d (or weeks, 4w), at most 10 years", s)
	}
	return n * mult, nil
}

// ParseDate reads a calendar date in the form 2006-01-02; field names the
// flag or parameter for the error.
func ParseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, churn.Invalid("parse date", field, "%q is not a date: want YYYY-MM-DD", s)
	}
	return t, nil
}
