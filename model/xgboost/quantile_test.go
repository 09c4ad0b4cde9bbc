package xgboost

import (
	"math"
	"testing"
)

// A booster trained on the quantile matrix is the one trained on a DMatrix
// of the same rows, labels and weights: the hist method cuts the same bins
// either way, so the predictions agree.
func TestQuantileDMatrixTrainsTheSameModelAsADMatrix(t *testing.T) {
	tr := synth(11, 4000, 9, 2, 0.2)
	va := synth(12, 2000, 9, 2, 0.2)
	w := make([]float32, tr.Rows)
	for i := range w {
		w[i] = 1 + float32(i%3) // unequal weights, as the sampled fit rows have
	}
	p := smallParams()
	p.NThread = 2
	plain, err := NewDMatrixFromColumns(tr.columns(), MatrixOptions{Labels: tr.Y, Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	quant, err := NewQuantileDMatrixFromColumns(tr.columns(), p.MaxBin, MatrixOptions{Labels: tr.Y, Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	defer quant.Close()
	if quant.Rows() != tr.Rows || quant.Cols() != tr.Cols {
		t.Fatalf("quantile matrix is %d x %d, want %d x %d", quant.Rows(), quant.Cols(), tr.Rows, tr.Cols)
	}
	valid := va.matrix(t)
	o := TrainOptions{Rounds: 200, Valid: valid, EarlyStoppingRounds: 10}
	want := predict(t, train(t, plain, p, o), valid)
	got := predict(t, train(t, quant, p, o), valid)
	worst := 0.0
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	t.Logf("largest difference of %d predictions: %g", len(want), worst)
	if worst > 1e-6 {
		t.Errorf("predictions differ by up to %g, want <= 1e-6", worst)
	}
}

// The rows go to XGBoost a batch at a time; the batches, with their labels,
// weights and base margins, give the booster of one batch of every row.
func TestQuantileDMatrixCutsTheSameBinsInBatches(t *testing.T) {
	tr := synth(14, 5000, 9, 2, 0.2)
	va := synth(15, 2000, 9, 2, 0.2)
	w, margin := make([]float32, tr.Rows), make([]float32, tr.Rows)
	for i := range w {
		w[i], margin[i] = 1+float32(i%3), float32(i%5)/10-0.2
	}
	o := MatrixOptions{Labels: tr.Y, Weights: w, BaseMargin: margin}
	p := smallParams()
	p.NThread = 2
	valid := va.matrix(t)
	fit := func(batch int) []float32 {
		t.Helper()
		defer func(n int) { quantileBatchRows = n }(quantileBatchRows)
		quantileBatchRows = batch
		m, err := NewQuantileDMatrixFromColumns(tr.columns(), p.MaxBin, o)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		return predict(t, train(t, m, p, TrainOptions{Rounds: 100, Valid: valid, EarlyStoppingRounds: 10}), valid)
	}
	want := fit(tr.Rows)
	for _, batch := range []int{1000, 333} { // 5 whole batches; 16, the last of 5 rows
		got := fit(batch)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("batches of %d rows: prediction %d is %v, one batch gives %v", batch, i, got[i], want[i])
			}
		}
	}
}

func TestQuantileDMatrixRefusesBadInputNamingTheField(t *testing.T) {
	cols := [][]float32{{1, 2, 3}, {4, 5, 6}}
	for _, tc := range []struct {
		name   string
		cols   [][]float32
		maxBin int
		o      MatrixOptions
		field  string
	}{
		{"ragged columns", [][]float32{{1, 2}, {3}}, 256, MatrixOptions{}, "cols"},
		{"no rows", [][]float32{{}, {}}, 256, MatrixOptions{}, "rows"},
		{"one bin", cols, 1, MatrixOptions{}, "max_bin"},
		{"labels of another length", cols, 256, MatrixOptions{Labels: []float32{0, 1}}, "labels"},
		{"negative weight", cols, 256, MatrixOptions{Labels: []float32{0, 1, 0}, Weights: []float32{1, -1, 1}}, "weights"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewQuantileDMatrixFromColumns(tc.cols, tc.maxBin, tc.o)
			if err == nil {
				d.Close()
				t.Fatal("no error")
			}
			wantInvalid(t, err, tc.field)
		})
	}
}

// The quantile matrix is for trees grown by hist; a linear booster, or
// another tree method, reads the values and gets a DMatrix, as Extra says.
func TestFitMatrixFollowsTheBoosterAndTreeMethod(t *testing.T) {
	d := synth(13, 300, 5, 2, 0)
	for _, tc := range []struct {
		name  string
		extra map[string]string
	}{
		{"hist trees", nil},
		{"dart", map[string]string{"booster": "dart"}},
		{"linear booster", map[string]string{"booster": "gblinear"}},
		{"approx", map[string]string{"tree_method": "approx"}},
		{"max_bin with spaces", map[string]string{"max_bin": " 64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := smallParams()
			p.Extra = tc.extra
			m, err := NewFitMatrixFromColumns(p, d.columns(), MatrixOptions{Labels: d.Y})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			b := train(t, m, p, TrainOptions{Rounds: 5})
			if got := predict(t, b, d.matrix(t)); len(got) != d.Rows {
				t.Fatalf("%d predictions for %d rows", len(got), d.Rows)
			}
		})
	}
}
