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
	want, _ := tm.Uplift(context.Background(), m, c.probs(rows))
	got, err := back.Uplift(context.Background(), m, c.probs(rows))
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

func TestUpliftPredictsInChunksAndStopsWhenCancelled(t *testing.T) {
	c := simulate(8000, 3, "offer", synth.DefaultRetentionEffect(1))
	rows := c.planned(0.5)
	m, treated := c.labelled(rows)
	base := c.probs(rows)
	tm, err := Train(context.Background(), m, treated, base, Options{Rounds: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	want, err := tm.Uplift(context.Background(), m, base)
	if err != nil {
		t.Fatal(err)
	}
	// the rows over and over, past two chunks of model.ByChunks
	n := m.Rows()
	big := &churn.Matrix{Features: m.Features, Cols: make([][]float32, len(m.Cols))}
	var bigBase []float64
	for k := 0; k < 140_000; k++ {
		big.IDs = append(big.IDs, m.IDs[k%n])
		bigBase = append(bigBase, base[k%n])
	}
	for j, col := range m.Cols {
		for k := 0; k < 140_000; k++ {
			big.Cols[j] = append(big.Cols[j], col[k%n])
		}
	}
	got, err := tm.Uplift(context.Background(), big, bigBase)
	if err != nil {
		t.Fatal(err)
	}
	for k, u := range got {
		if u != want[k%n] {
			t.Fatalf("row %d: uplift %g in the large matrix, %g alone", k, u, want[k%n])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tm.Uplift(ctx, big, bigBase); err != context.Canceled {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := tm.Uplift(context.Background(), m, base[1:]); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("one baseline short: %v", err)
	}
}
