package uplift

import (
	"context"
	"math"
	"testing"

	"github.com/telcoretain/churn"
)

func TestQiniRewardsRankingThoseTheActionKeepsFirst(t *testing.T) {
	// Customers 0-99 are kept by the action (treated ones stay, control
	// ones churn); 100-399 churn or stay whatever is done.
	var outs []Outcome
	for i := range 400 {
		o := Outcome{Treated: i%2 == 0}
		if i < 100 {
			o.Churned = !o.Treated
		} else {
			o.Churned = i%3 == 0
		}
		outs = append(outs, o)
	}
	score := func(f func(i int) float64) []Outcome {
		s := make([]Outcome, len(outs))
		for i, o := range outs {
			o.Score = f(i)
			s[i] = o
		}
		return s
	}
	good, qGood := Qini(score(func(i int) float64 { return -float64(i) }), 10)
	_, qBad := Qini(score(func(i int) float64 { return float64(i) }), 10)
	if len(good) != 11 || good[0] != (Point{}) || math.Abs(good[10].Share-1) > 1e-12 {
		t.Fatalf("curve %v", good)
	}
	// All 50 control churners among the first 100 scale to 50 prevented of 400.
	if math.Abs(good[10].Incremental-50.0/400) > 0.01 || math.Abs(good[3].Incremental-50.0/400) > 0.01 {
		t.Fatalf("curve %v", good)
	}
	if !(qGood > 0.04) || !(qBad < -0.04) {
		t.Fatalf("Qini of the good ranking %g, of the reversed one %g", qGood, qBad)
	}
	if _, q := Qini(nil, 10); q != 0 {
		t.Fatalf("Qini of nothing %g", q)
	}
}

func TestTrainRefusesTooFewControlOutcomes(t *testing.T) {
	n := MinTreated + MinControl - 1
	m := &churn.Matrix{Features: []string{"x"}, Cols: [][]float32{make([]float32, n)}, IDs: make([]string, n), Labels: make([]float32, n)}
	treated := make([]bool, n)
	for i := range MinTreated {
		treated[i] = true
	}
	if _, err := Train(context.Background(), m, treated, nil, Options{}); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("err %v, want invalid", err)
	}
}
