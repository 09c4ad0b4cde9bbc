package uplift

import (
	"context"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset/synth"
)

func TestModelFileRoundTripPredictsTheSameUplift(t *testing.T) {
	c := simulate(8000, 3, "offer", synth.DefaultRetentionEffect(1))
	rows := c.planned(0.5)
	m, treated := c.labelled(rows)
	tm, err := Train(context.Background(), m, treated, c.probs(rows), Options{Rounds: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if _, err := tm.Marshal(); err == nil {
		t.Fatal("a model without feature definitions was written")
	}
	for _, f := range m.Features {
		tm.Defs = append(tm.Defs, churn.Feature{Name: f})
	}
	tm.Holdout = &Holdout{Cycle: "2025-08-01", Qini: 0.02, QiniRisk: 0.01, Curve: []Point{{0, 0}, {1, 0.01}}}
	b, err := tm.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	want, _ := tm.Uplift(m, c.probs(rows))
	got, err := back.Uplift(m, c.probs(rows))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: uplift %g after the round trip, %g before", i, got[i], want[i])
		}
	}
	h, err := ReadHoldout(b)
	if err != nil || h.Cycle != "2025-08-01" || h.Qini != 0.02 || len(h.Curve) != 2 {
		t.Fatalf("holdout %+v (%v)", h, err)
	}
	if _, err := Unmarshal([]byte(`{"format": 1, "kind": "churn"}`)); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("a churn model file read as uplift: %v", err)
	}
}
