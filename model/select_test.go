package model

import (
	"context"
	"testing"

	"github.com/telcoretain/churn/model/eval"
)

func TestBetterRanksByPRAUCThenROCAUC(t *testing.T) {
	r := func(pr, roc float64) *eval.Report { return &eval.Report{PRAUC: pr, AUC: roc} }
	cases := []struct {
		name string
		a, b *eval.Report
		want bool
	}{
		{"higher PR-AUC wins despite lower ROC-AUC", r(0.40, 0.80), r(0.39, 0.90), true},
		{"lower PR-AUC loses despite higher ROC-AUC", r(0.39, 0.90), r(0.40, 0.80), false},
		{"tied PR-AUC: higher ROC-AUC wins", r(0.40, 0.81), r(0.40, 0.80), true},
		{"tied PR-AUC: lower ROC-AUC loses", r(0.40, 0.80), r(0.40, 0.81), false},
		{"PR-AUC within the tolerance is a tie", r(0.40+1e-12, 0.80), r(0.40, 0.81), false},
		{"a full tie is not better, so the incumbent stays", r(0.40, 0.80), r(0.40, 0.80), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Better(c.a, c.b); got != c.want {
				t.Fatalf("Better(%+v, %+v) = %v, want %v", *c.a, *c.b, got, c.want)
			}
		})
	}
}

func TestSortTrainedKeepsTiedCandidatesInOrder(t *testing.T) {
	tr := func(name string, pr, roc float64) Trained {
		return Trained{Name: name, Model: &Model{Report: &eval.Report{PRAUC: pr, AUC: roc}}}
	}
	ts := []Trained{tr("simple", 0.3, 0.8), tr("tied", 0.3, 0.8), tr("best", 0.5, 0.7), tr("roc", 0.3, 0.9)}
	sortTrained(ts)
	var got []string
	for _, x := range ts {
		got = append(got, x.Name)
	}
	want := []string{"best", "roc", "simple", "tied"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestTrainCVKeepsTheCandidateBetterRanksFirst(t *testing.T) {
	m := synthMatrix(2000, 5)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	res, err := TrainCV(context.Background(), m, cats, Options{Folds: 3, Seed: 3, Candidates: smallCandidates()})
	if err != nil {
		t.Fatal(err)
	}
	best := res.Candidates[0]
	for _, c := range res.Candidates[1:] {
		if betterScore(c, best) {
			best = c
		}
	}
	if got := res.Best.Params["candidate"]; got != best.Name {
		t.Fatalf("TrainCV kept %s; by PR-AUC then ROC-AUC the best of %+v is %s", got, res.Candidates, best.Name)
	}
}
