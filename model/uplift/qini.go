package uplift

import (
	"cmp"
	"slices"
)

// Point is one point of a Qini curve: after targeting the Share of
// customers with the highest scores, Incremental is the churn prevented
// among them, as a share of all customers: the churners of the control
// customers targeted, scaled to the number of treated ones targeted, minus
// the treated churners targeted.
type Point struct {
	Share       float64 `json:"share"`
	Incremental float64 `json:"incremental"`
}

// Outcome is one labelled customer of an evaluation cycle.
type Outcome struct {
	Score   float64 // the ranking: uplift, or churn probability for risk targeting
	Treated bool
	Churned bool
}

// Qini returns the Qini curve of a ranking at points (about) evenly spaced
// shares of the customers, and the Qini coefficient: the area between the
// curve and the straight line of random targeting, in the curve's units
// (share of customers x share of customers saved). A ranking no better
// than random has a coefficient near 0; the higher the better.
func Qini(outs []Outcome, points int) ([]Point, float64) {
	if len(outs) == 0 || points < 1 {
		return nil, 0
	}
	s := slices.Clone(outs)
	slices.SortStableFunc(s, func(x, y Outcome) int { return cmp.Compare(y.Score, x.Score) })
	n := float64(len(s))
	curve := []Point{{0, 0}}
	var nt, nc, ct, cc float64
	next := 1
	for i, o := range s {
		if o.Treated {
			nt++
			if o.Churned {
				ct++
			}
		} else {
			nc++
			if o.Churned {
				cc++
			}
		}
		if i+1 < len(s) && (i+1)*points < next*len(s) {
			continue
		}
		next++
		inc := -ct
		if nc > 0 {
			inc += cc * nt / nc
		}
		curve = append(curve, Point{Share: float64(i+1) / n, Incremental: inc / n})
	}
	total := curve[len(curve)-1].Incremental
	area := 0.0
	for i := 1; i < len(curve); i++ {
		a, b := curve[i-1], curve[i]
		dx := b.Share - a.Share
		area += dx * ((a.Incremental - a.Share*total) + (b.Incremental - b.Share*total)) / 2
	}
	return curve, area
}
