package model

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/telcoretain/churn"
)

// synthMatrix builds rows whose churn log-odds are 1.5*a - 2*b + 0.5 + 1*(plan==2),
// with a few missing values in a.
func synthMatrix(n int, seed uint64) *churn.Matrix {
	r := rand.New(rand.NewPCG(seed, 1))
	m := &churn.Matrix{Features: []string{"a", "b", "plan"}, Cols: make([][]float32, 3)}
	for i := range n {
		a, b := r.NormFloat64(), r.NormFloat64()
		plan := r.IntN(3)
		z := 1.5*a - 2*b + 0.5
		if plan == 2 {
			z += 1
		}
		label := float32(0)
		if r.Float64() < Sigmoid(z) {
			label = 1
		}
		av := float32(a)
		if i%50 == 0 {
			av = churn.NaN32
		}
		m.IDs = append(m.IDs, "c")
		m.Cols[0] = append(m.Cols[0], av)
		m.Cols[1] = append(m.Cols[1], float32(b))
		m.Cols[2] = append(m.Cols[2], float32(plan))
		m.Labels = append(m.Labels, label)
	}
	return m
}

func TestLogisticRecoversKnownCoefficients(t *testing.T) {
	m := synthMatrix(20000, 1)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	l, err := TrainLogistic(context.Background(), m, cats, 10)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := l.Encoder.Outputs()
	coef := map[string]float64{}
	for k, n := range names {
		coef[n] = l.Coef[k]
	}
	// Coefficients are on standardised inputs: divide by the column's std
	// to get back to raw units.
	a := coef["a"] / l.Encoder.Columns[0].Std
	b := coef["b"] / l.Encoder.Columns[1].Std
	if math.Abs(a-1.5) > 0.15 || math.Abs(b+2) > 0.15 {
		t.Fatalf("raw coefficients a=%.3f b=%.3f, want 1.5 and -2", a, b)
	}
	if d := coef["plan=unlimited"] - coef["plan=basic"]; math.Abs(d-1) > 0.2 {
		t.Fatalf("plan=unlimited minus plan=basic = %.3f, want about 1", d)
	}
	if _, ok := coef["a_missing"]; !ok {
		t.Fatalf("no missing indicator for a: %v", names)
	}
	if _, ok := coef["b_missing"]; ok {
		t.Fatalf("missing indicator for b, which has no gaps")
	}
}

func TestLogisticMarginsMatchContributionsPlusAverage(t *testing.T) {
	m := synthMatrix(2000, 2)
	l, err := TrainLogistic(context.Background(), m, map[string][]string{"plan": {"x", "y", "z"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	z, err := l.Margins(m)
	if err != nil {
		t.Fatal(err)
	}
	// one-hot columns are not centred, so compare differences between rows
	c := make([]float64, 3)
	for _, i := range []int{3, 7, 11} {
		l.Contributions(m, i, c)
		sum := l.Intercept
		for _, v := range c {
			sum += v
		}
		if math.Abs(sum-z[i]) > 1e-9 {
			t.Fatalf("row %d: intercept + contributions = %v, margin %v", i, sum, z[i])
		}
	}
}

func TestLogisticRejectsOneClassLabels(t *testing.T) {
	m := synthMatrix(100, 3)
	for i := range m.Labels {
		m.Labels[i] = 0
	}
	if _, err := TrainLogistic(context.Background(), m, nil, 1); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("one-class labels: err %v, want invalid", err)
	}
}

func TestLogisticMarginsRejectOtherFeatures(t *testing.T) {
	m := synthMatrix(500, 4)
	l, err := TrainLogistic(context.Background(), m, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.Features[1] = "other"
	if _, err := l.Margins(m); churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != "b" {
		t.Fatalf("renamed feature: err %v, want invalid naming b", err)
	}
}

// TestLogisticWeightsEqualTheInProcessFit compares, bit for bit, the weights
// fitted in the liblinear child with those golearn gave when it ran inside
// the process (recorded in testdata before the fit moved out).
func TestLogisticWeightsEqualTheInProcessFit(t *testing.T) {
	b, err := os.ReadFile("testdata/logistic_inprocess_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden []struct {
		C         float64   `json:"c"`
		Coef      []float64 `json:"coef"`
		Intercept float64   `json:"intercept"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) == 0 {
		t.Fatal("golden file lists no fits")
	}
	for _, g := range golden {
		m := synthMatrix(300, 5)
		l, err := TrainLogistic(context.Background(), m, map[string][]string{"plan": {"basic", "standard", "unlimited"}}, g.C)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.Coef, g.Coef) || l.Intercept != g.Intercept {
			t.Errorf("C=%g: coef %v intercept %v, in-process fit gave %v and %v", g.C, l.Coef, l.Intercept, g.Coef, g.Intercept)
		}
	}
}

func TestLogisticStopsWhenTheContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := TrainLogistic(ctx, synthMatrix(500, 6), nil, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: err %v, want context.Canceled", err)
	}
}
