package xgboost

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/telcoretain/churn"
)

var update = flag.Bool("update", false, "retrain the golden model and rewrite testdata")

const (
	goldenModel       = "testdata/golden_model.json"
	goldenPredictions = "testdata/golden_predictions.txt"
)

// goldenParams train the golden model; sampling is on so that the seed is
// part of what the golden file pins.
func goldenParams() Params {
	p := smallParams()
	p.MaxDepth = 4
	p.Subsample = 0.8
	p.ColsampleBytree = 0.8
	p.Seed = 42
	return p
}

// TestGoldenModelPredictionsAreStable pins the predictions of a committed
// model on a fixed matrix, so a change of library, wrapper or data layout
// that alters scores shows up. Run with -update to retrain and rewrite.
func TestGoldenModelPredictionsAreStable(t *testing.T) {
	features := []string{"tenure", "fee", "dropped", "tickets", "usage", "roaming"}
	eval := synth(101, 300, 6, 2, 0.2).matrix(t)
	if *update {
		tr := synth(100, 1000, 6, 2, 0.2).matrix(t)
		b := train(t, tr, goldenParams(), TrainOptions{Rounds: 25, FeatureNames: features})
		model, err := b.Save("json")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenModel, model, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPredictions, []byte(formatFloats(predict(t, b, eval))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	model, err := os.ReadFile(goldenModel)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	want, err := os.ReadFile(goldenPredictions)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(model, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if names, err := b.FeatureNames(); err != nil || !slices.Equal(names, features) {
		t.Errorf("FeatureNames() = %v, %v; want %v", names, err, features)
	}
	got := predict(t, b, eval)
	if i := firstDiff(got, parseFloats(t, string(want))); i >= 0 {
		t.Fatalf("row %d differs from %s (len %d): got %v", i, goldenPredictions, len(got), got[min(i, len(got)-1)])
	}
}

func TestSaveAndLoadGiveBitIdenticalPredictions(t *testing.T) {
	tr := synth(11, 800, 6, 1, 0.1).matrix(t)
	va := synth(12, 400, 6, 1, 0.1).matrix(t)
	names := []string{"a", "b", "c", "d", "e", "f"}
	b := train(t, tr, goldenParams(), TrainOptions{Rounds: 100, Valid: va, EarlyStoppingRounds: 3, FeatureNames: names})
	want := predict(t, b, va)
	wantContribs, err := b.Contribs(va)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "ubj"} {
		t.Run(format, func(t *testing.T) {
			model, err := b.Save(format)
			if err != nil {
				t.Fatal(err)
			}
			if isJSON := bytes.HasPrefix(model, []byte("{\"")); isJSON != (format == "json") {
				t.Errorf("%s model starts with %q", format, model[:min(8, len(model))])
			}
			l, err := Load(model, 2)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if l.BestIteration() != b.BestIteration() || l.Rounds() != b.Rounds() {
				t.Errorf("loaded best %d of %d rounds, saved best %d of %d", l.BestIteration(), l.Rounds(), b.BestIteration(), b.Rounds())
			}
			if i := firstDiff(predict(t, l, va), want); i >= 0 {
				t.Errorf("row %d: prediction changed by save and load", i)
			}
			c, err := l.Contribs(va)
			if err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(c, wantContribs); i >= 0 {
				t.Errorf("value %d: contribution changed by save and load", i)
			}
			if got, _ := l.FeatureNames(); !slices.Equal(got, names) {
				t.Errorf("FeatureNames() = %v, want %v", got, names)
			}
		})
	}
}

func TestContribsSumToMarginWithBiasLast(t *testing.T) {
	d := synth(13, 500, 7, 2, 0.2)
	m := d.matrix(t)
	b := train(t, m, smallParams(), TrainOptions{Rounds: 30})
	for _, method := range []struct {
		name     string
		contribs func(*DMatrix) ([]float32, error)
	}{{"exact", b.Contribs}, {"approx", b.ContribsApprox}} {
		t.Run(method.name, func(t *testing.T) {
			c, err := method.contribs(m)
			if err != nil {
				t.Fatal(err)
			}
			checkContribs(t, b, m, d, c)
		})
	}
}

// checkContribs checks that each row's contributions add up to its margin,
// that the bias is last, and that signal features get more credit than noise.
func checkContribs(t *testing.T, b *Booster, m *DMatrix, d dataset, c []float32) {
	t.Helper()
	margin, err := b.PredictMargin(m)
	if err != nil {
		t.Fatal(err)
	}
	w := d.Cols + 1
	if len(c) != d.Rows*w {
		t.Fatalf("%d contributions for %d rows x %d", len(c), d.Rows, w)
	}
	for i := range d.Rows {
		row := c[i*w : (i+1)*w]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		if math.Abs(sum-float64(margin[i])) > 1e-4*math.Max(1, math.Abs(float64(margin[i]))) {
			t.Errorf("row %d: contributions sum to %v, margin is %v", i, sum, margin[i])
		}
		// The bias is the model's expected margin: the same for every row.
		if row[w-1] != c[w-1] {
			t.Errorf("row %d: bias %v differs from row 0's %v", i, row[w-1], c[w-1])
		}
	}
	// Features 4 and up carry no signal: the first four must matter more.
	var strong, weak float64
	for i := range d.Rows {
		for j := range d.Cols {
			if j < 3 {
				strong += math.Abs(float64(c[i*w+j]))
			} else if j >= 4 {
				weak += math.Abs(float64(c[i*w+j]))
			}
		}
	}
	if strong < 3*weak {
		t.Errorf("mean |SHAP| of signal features %v is not well above noise features %v", strong/3, weak/3)
	}
	p := predict(t, b, m)
	for i := range p {
		if want := 1 / (1 + math.Exp(-float64(margin[i]))); math.Abs(float64(p[i])-want) > 1e-6 {
			t.Fatalf("row %d: probability %v is not sigmoid(margin %v) = %v", i, p[i], margin[i], want)
		}
	}
}

func TestNaNIsMissingAndZeroIsNot(t *testing.T) {
	const rows, cols = 400, 3
	r := &rng{s: 21}
	x := make([]float32, rows*cols)
	y := make([]float32, rows)
	nan := 0
	for i := range rows {
		for j := range cols {
			x[i*cols+j] = r.unit()
		}
		switch i % 4 {
		case 0: // missing: churners
			x[i*cols] = float32(math.NaN())
			y[i] = 1
			nan++
		case 1: // zero is a value, and not a churner
			x[i*cols] = 0
		}
	}
	m, err := NewDMatrix(x, rows, cols, MatrixOptions{Labels: y})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n, err := m.NonMissing()
	if err != nil || n != rows*cols-nan {
		t.Fatalf("NonMissing() = %d, %v; want %d (NaN missing, zero kept)", n, err, rows*cols-nan)
	}
	b := train(t, m, smallParams(), TrainOptions{Rounds: 20})
	p := predict(t, b, m)
	for i, v := range p {
		if (y[i] == 1) != (v > 0.5) {
			t.Errorf("row %d (x0=%v): probability %v, label %v: missingness was not learnt", i, x[i*cols], v, y[i])
		}
	}
}

func TestNewDMatrixFromColumnsMatchesRowMajor(t *testing.T) {
	d := synth(31, 120, 5, 1, 0.3)
	cols := d.columns()
	byRow := d.matrix(t)
	byCol, err := NewDMatrixFromColumns(cols, MatrixOptions{Labels: d.Y})
	if err != nil {
		t.Fatal(err)
	}
	defer byCol.Close()
	if byCol.Rows() != d.Rows || byCol.Cols() != d.Cols {
		t.Fatalf("shape %d x %d, want %d x %d", byCol.Rows(), byCol.Cols(), d.Rows, d.Cols)
	}
	b := train(t, byRow, smallParams(), TrainOptions{Rounds: 10})
	if i := firstDiff(predict(t, b, byCol), predict(t, b, byRow)); i >= 0 {
		t.Errorf("row %d: column-built matrix predicts differently", i)
	}
}

func TestConcurrentPredictionsMatchSerial(t *testing.T) {
	m := synth(41, 2000, 6, 1, 0.1).matrix(t)
	b := train(t, m, smallParams(), TrainOptions{Rounds: 20})
	want := predict(t, b, m)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for range 20 {
				// Half of the goroutines interleave SHAP calls, which use the
				// same thread-local output buffer as predictions.
				if g%2 == 1 {
					if _, err := b.Contribs(m); err != nil {
						errs <- err.Error()
						return
					}
				}
				got, err := b.Predict(m)
				if err != nil {
					errs <- err.Error()
					return
				}
				if i := firstDiff(got, want); i >= 0 {
					errs <- fmt.Sprintf("goroutine %d: row %d differs", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestPythonXGBoostReadsSavedModels(t *testing.T) {
	py := pythonXGBoost(t)
	d := synth(51, 500, 5, 1.5, 0.2)
	m := d.matrix(t)
	va := synth(52, 300, 5, 1.5, 0.2).matrix(t)
	names := []string{"tenure", "fee", "dropped", "tickets", "usage"}
	b := train(t, m, goldenParams(), TrainOptions{Rounds: 200, Valid: va, EarlyStoppingRounds: 3, FeatureNames: names})
	if b.BestIteration() < 0 || b.BestIteration() == b.Rounds()-1 {
		t.Fatalf("best round %d of %d: the test needs rounds after the best one", b.BestIteration(), b.Rounds())
	}
	dir := t.TempDir()
	writeFloats(t, filepath.Join(dir, "x.f32"), d.X)
	want := predict(t, b, m)
	for _, format := range []string{"json", "ubj"} {
		t.Run(format, func(t *testing.T) {
			model, err := b.Save(format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "model."+format)
			if err := os.WriteFile(path, model, 0o644); err != nil {
				t.Fatal(err)
			}
			// Python checks the booster's feature names against the matrix's,
			// so this also proves the names were saved; it finds the best
			// round in the attribute that early stopping saved.
			script := `
import sys, numpy as np, xgboost as xgb
x = np.fromfile(sys.argv[2], dtype="<f4").reshape(-1, int(sys.argv[3]))
b = xgb.Booster(model_file=sys.argv[1])
p = b.predict(xgb.DMatrix(x, missing=np.nan, feature_names=sys.argv[4].split(",")),
              iteration_range=(0, b.best_iteration + 1))
print("\n".join(np.format_float_positional(v, unique=True) for v in p.astype(np.float32)))
`
			out, err := runPython(py, script, path, filepath.Join(dir, "x.f32"), "5", strings.Join(names, ","))
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			if i := firstDiff(parseFloats(t, out), want); i >= 0 {
				t.Errorf("row %d: Python predicts differently from Go", i)
			}
		})
	}
}

func TestPredictDenseMatchesDMatrixPrediction(t *testing.T) {
	tr := synth(111, 600, 6, 1, 0.2).matrix(t)
	va := synth(112, 300, 6, 1, 0.2)
	vm := va.matrix(t)
	b := train(t, tr, smallParams(), TrainOptions{Rounds: 40, Valid: vm, EarlyStoppingRounds: 3})
	got, err := b.PredictDense(va.X, va.Rows, va.Cols)
	if err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, predict(t, b, vm)); i >= 0 {
		t.Errorf("row %d: in-place prediction differs from the DMatrix one", i)
	}
	if _, err := b.PredictDense(va.X[1:], va.Rows, va.Cols); churn.ErrorField(err) != "data" {
		t.Errorf("short data: %v, want an error naming data", err)
	}
	if p, err := b.PredictDense(nil, 0, 6); err != nil || len(p) != 0 {
		t.Errorf("no rows: %v, %v", p, err)
	}
}
