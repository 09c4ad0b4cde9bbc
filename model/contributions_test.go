package model

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/xgboost"
)

// widen appends noise features to m, a tenth of their values missing, so
// that reason codes choose among many features.
func widen(m *churn.Matrix, noise int, seed uint64) *churn.Matrix {
	r := rand.New(rand.NewPCG(seed, 2))
	for k := range noise {
		m.Features = append(m.Features, "noise"+strconv.Itoa(k))
		col := make([]float32, m.Rows())
		for i := range col {
			col[i] = float32(r.NormFloat64())
			if r.IntN(10) == 0 {
				col[i] = churn.NaN32
			}
		}
		m.Cols = append(m.Cols, col)
	}
	return m
}

// TestApproximateContributionsEqualXGBoostsAndGiveTheSameReasons checks the
// Go walk that batch scoring uses for reason codes against XGBoost's own
// ContribsApprox on the champion's configuration (depth 6, early stopping),
// through a saved and loaded model file as scoring reads it.
func TestApproximateContributionsEqualXGBoostsAndGiveTheSameReasons(t *testing.T) {
	m := widen(synthMatrix(2000, 31), 9, 31)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	res, err := TrainCV(context.Background(), m, cats, Options{Folds: 3, Seed: 3, Candidates: Candidates(2)[5:6]})
	if err != nil {
		t.Fatal(err)
	}
	file, err := res.Best.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mdl, err := Unmarshal(file)
	if err != nil {
		t.Fatal(err)
	}
	defer mdl.Close()
	got, err := mdl.Contributions(context.Background(), m, false)
	if err != nil {
		t.Fatal(err)
	}
	d, err := xgboost.NewDMatrixFromColumns(m.Cols, xgboost.MatrixOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want, err := mdl.booster.ContribsApprox(d)
	if err != nil {
		t.Fatal(err)
	}
	nf, w := len(m.Features), len(m.Features)+1
	if len(got) != m.Rows()*nf {
		t.Fatalf("%d contributions for %d rows x %d features", len(got), m.Rows(), nf)
	}
	ties := 0
	for i := range m.Rows() {
		x := want[i*w : i*w+nf]
		for j := range nf {
			if math.Abs(float64(got[i*nf+j]-x[j])) > 1e-5 {
				t.Fatalf("row %d feature %s: Go %v, XGBoost %v", i, m.Features[j], got[i*nf+j], x[j])
			}
		}
		g, wa := mdl.Reasons(m, i, got[i*nf:(i+1)*nf]), mdl.Reasons(m, i, x)
		if slices.EqualFunc(g, wa, func(a, b churn.Reason) bool { return a.Feature == b.Feature && a.Text == b.Text }) {
			continue
		}
		// Only values XGBoost has within rounding of each other may swap.
		if len(g) == len(wa) {
			near := true
			for k := range g {
				if math.Abs(g[k].Contribution-wa[k].Contribution) > 1e-5 {
					near = false
				}
			}
			if near {
				ties++
				continue
			}
		}
		t.Errorf("row %d: reasons Go %+v, XGBoost %+v", i, g, wa)
	}
	t.Logf("%s trees; %d of %d rows swap near-tied reasons", mdl.Params["rounds"], ties, m.Rows())
	if ties > m.Rows()/100 {
		t.Errorf("%d of %d rows reorder near-ties: more than rounding explains", ties, m.Rows())
	}
}
