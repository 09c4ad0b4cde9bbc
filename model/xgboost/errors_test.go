package xgboost

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestVersionIsTheLinkedLibrary(t *testing.T) {
	if v := Version(); !strings.HasPrefix(v, "1.7.") {
		t.Errorf("Version() = %q, want 1.7.x (Debian's libxgboost)", v)
	}
}

// TestCErrorsCarryXGBoostMessage checks that failures inside the C library
// come back as errors with XGBoost's own words, not as crashes or codes.
func TestCErrorsCarryXGBoostMessage(t *testing.T) {
	d := synth(61, 100, 4, 1, 0)
	m := d.matrix(t)
	good := train(t, m, smallParams(), TrainOptions{Rounds: 3})
	withParam := func(k, v string) Params {
		p := smallParams()
		p.Extra = map[string]string{k: v}
		return p
	}
	nope := smallParams()
	nope.Objective = "nope"
	badLabels := d
	badLabels.Y = make([]float32, d.Rows)
	badLabels.Y[3] = 7 // not a probability

	tests := []struct {
		name string
		run  func() error
		want string // part of XGBoost's message
		fn   string // the failing C function
	}{
		{"unknown objective", func() error {
			_, err := Train(context.Background(), m, nope, TrainOptions{Rounds: 2})
			return err
		}, "nope", "XGBoosterUpdateOneIter"},
		{"parameter that is not a number", func() error {
			_, err := Train(context.Background(), m, withParam("max_leaves", "many"), TrainOptions{Rounds: 2})
			return err
		}, "max_leaves", "XGBoosterUpdateOneIter"},
		{"label outside [0, 1] for logistic", func() error {
			_, err := Train(context.Background(), badLabels.matrix(t), smallParams(), TrainOptions{Rounds: 2})
			return err
		}, "label", "XGBoosterUpdateOneIter"},
		{"truncated model bytes", func() error {
			model, err := good.Save("ubj")
			if err != nil {
				return err
			}
			_, err = Load(model[:len(model)/2], 1)
			return err
		}, "", "XGBoosterLoadModelFromBuffer"},
		{"infinite value", func() error {
			x := []float32{1, float32(math.Inf(1)), 3, 4}
			_, err := NewDMatrix(x, 1, 4, MatrixOptions{})
			return err
		}, "inf", "XGDMatrixCreateFromMat_omp"},
		{"model bytes that are not a model", func() error {
			_, err := Load([]byte("{\"not\": \"a model\"}"), 1)
			return err
		}, "", "XGBoosterLoadModelFromBuffer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("error %v (%T) carries no *xgboost.Error", err, err)
			}
			t.Logf("%v", err)
			if xe.Func != tt.fn || !strings.Contains(strings.ToLower(xe.Msg), tt.want) || xe.Msg == "" {
				t.Errorf("C error %s: %q; want %s with a message containing %q", xe.Func, xe.Msg, tt.fn, tt.want)
			}
			if strings.Contains(xe.Msg, "Stack trace") {
				t.Errorf("message keeps the C++ stack trace: %q", xe.Msg)
			}
			if churn.ErrorKind(err) != churn.KindInvalid {
				t.Errorf("kind %v, want invalid", churn.ErrorKind(err))
			}
		})
	}
}

func TestNewDMatrixRejectsBadInputNamingTheField(t *testing.T) {
	x := make([]float32, 6)
	tests := []struct {
		name  string
		data  []float32
		rows  int
		cols  int
		o     MatrixOptions
		field string
	}{
		{"data shorter than rows x cols", x[:5], 2, 3, MatrixOptions{}, "data"},
		{"data longer than rows x cols", x, 1, 3, MatrixOptions{}, "data"},
		{"no columns", nil, 0, 0, MatrixOptions{}, "shape"},
		{"negative rows", nil, -1, 3, MatrixOptions{}, "shape"},
		{"labels for other rows", x, 2, 3, MatrixOptions{Labels: []float32{1}}, "labels"},
		{"NaN label", x, 2, 3, MatrixOptions{Labels: []float32{1, float32(math.NaN())}}, "labels"},
		{"negative weight", x, 2, 3, MatrixOptions{Weights: []float32{1, -1}}, "weights"},
		{"weights for other rows", x, 2, 3, MatrixOptions{Weights: []float32{1, 1, 1}}, "weights"},
		{"negative threads", x, 2, 3, MatrixOptions{NThread: -1}, "nthread"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewDMatrix(tt.data, tt.rows, tt.cols, tt.o)
			if err == nil {
				m.Close()
				t.Fatal("NewDMatrix succeeded")
			}
			wantInvalid(t, err, tt.field)
		})
	}
	if _, err := NewDMatrixFromColumns([][]float32{{1, 2}, {3}}, MatrixOptions{}); churn.ErrorField(err) != "cols" {
		t.Errorf("ragged columns: %v, want an error naming cols", err)
	}
}

func TestWeightsChangeTheModel(t *testing.T) {
	d := synth(71, 300, 4, 1, 0)
	w := make([]float32, d.Rows)
	for i := range w {
		w[i] = 1 + 9*d.Y[i] // positives count ten times
	}
	plain := d.matrix(t)
	weighted, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{Labels: d.Y, Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	defer weighted.Close()
	p0 := predict(t, train(t, plain, smallParams(), TrainOptions{Rounds: 5}), plain)
	p1 := predict(t, train(t, weighted, smallParams(), TrainOptions{Rounds: 5}), plain)
	var m0, m1 float64
	for i := range p0 {
		m0 += float64(p0[i])
		m1 += float64(p1[i])
	}
	if m1 <= m0 {
		t.Errorf("mean probability %v with positives weighted 10x, %v without: weights were ignored", m1/float64(len(p1)), m0/float64(len(p0)))
	}
}

func TestUseAfterCloseReturnsErrClosed(t *testing.T) {
	d := synth(81, 60, 4, 1, 0)
	closedM, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{Labels: d.Y})
	if err != nil {
		t.Fatal(err)
	}
	m := d.matrix(t)
	closedB, err := Train(context.Background(), m, smallParams(), TrainOptions{Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := train(t, m, smallParams(), TrainOptions{Rounds: 2})
	for _, c := range []interface{ Close() error }{closedM, closedB, closedM, closedB} {
		if err := c.Close(); err != nil {
			t.Fatalf("Close (again): %v", err)
		}
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"predict with closed booster", func() error { _, err := closedB.Predict(m); return err }},
		{"contributions with closed booster", func() error { _, err := closedB.Contribs(m); return err }},
		{"save closed booster", func() error { _, err := closedB.Save("json"); return err }},
		{"names of closed booster", func() error { _, err := closedB.FeatureNames(); return err }},
		{"set names on closed booster", func() error { return closedB.SetFeatureNames([]string{"a", "b", "c", "d"}) }},
		{"predict on closed matrix", func() error { _, err := b.Predict(closedM); return err }},
		{"train on closed matrix", func() error {
			_, err := Train(context.Background(), closedM, smallParams(), TrainOptions{Rounds: 1})
			return err
		}},
		{"validate on closed matrix", func() error {
			_, err := Train(context.Background(), m, smallParams(), TrainOptions{Rounds: 1, Valid: closedM})
			return err
		}},
		{"count closed matrix", func() error { _, err := closedM.NonMissing(); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, ErrClosed) {
				t.Errorf("got %v, want ErrClosed", err)
			}
		})
	}
	if _, err := b.Predict(m); err != nil {
		t.Errorf("open booster on open matrix: %v", err)
	}
}

func TestSetFeatureNamesChecksCountAndUniqueness(t *testing.T) {
	m := synth(91, 60, 3, 1, 0).matrix(t)
	b := train(t, m, smallParams(), TrainOptions{Rounds: 2})
	for _, names := range [][]string{{"a", "b"}, {"a", "b", "a"}, {"a", "", "c"}} {
		if err := b.SetFeatureNames(names); churn.ErrorField(err) != "feature_names" {
			t.Errorf("SetFeatureNames(%q) = %v, want an error naming feature_names", names, err)
		}
	}
	if err := b.SetFeatureNames([]string{"x", "y", "z"}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.FeatureNames(); err != nil || strings.Join(got, ",") != "x,y,z" {
		t.Errorf("FeatureNames() = %v, %v", got, err)
	}
	if n := b.NumFeatures(); n != 3 {
		t.Errorf("NumFeatures() = %d, want 3", n)
	}
}

func TestTrimLocationKeepsOnlyXGBoostsSentence(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[17:08:28] ./src/learner.cc:1510: Check failed: x", "Check failed: x"},
		{"[17:08:28] ../include/xgboost/json.h:81: Invalid cast, from Null to Object", "Invalid cast, from Null to Object"},
		{"Invalid Parameter format for max_leaves", "Invalid Parameter format for max_leaves"},
		{"[odd] no location here", "[odd] no location here"},
	}
	for _, tt := range tests {
		if got := trimLocation(tt.in); got != tt.want {
			t.Errorf("trimLocation(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPredictRejectsMatricesOfAnotherWidth(t *testing.T) {
	m := synth(121, 80, 5, 1, 0).matrix(t)
	b := train(t, m, smallParams(), TrainOptions{Rounds: 3})
	model, err := b.Save("json")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(model, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	for _, cols := range []int{4, 6} {
		other := synth(122, 10, cols, 1, 0)
		om := other.matrix(t)
		for name, bst := range map[string]*Booster{"trained": b, "loaded": loaded} {
			calls := map[string]func() error{
				"Predict":        func() error { _, err := bst.Predict(om); return err },
				"PredictMargin":  func() error { _, err := bst.PredictMargin(om); return err },
				"Contribs":       func() error { _, err := bst.Contribs(om); return err },
				"ContribsApprox": func() error { _, err := bst.ContribsApprox(om); return err },
				"PredictDense":   func() error { _, err := bst.PredictDense(other.X, other.Rows, other.Cols); return err },
			}
			for call, run := range calls {
				if err := run(); churn.ErrorField(err) != "cols" {
					t.Errorf("%s %s on %d columns: %v, want an error naming cols", name, call, cols, err)
				}
			}
		}
	}
}

func TestEmptyMatrixPredictsNothing(t *testing.T) {
	m := synth(131, 80, 4, 1, 0).matrix(t)
	b := train(t, m, smallParams(), TrainOptions{Rounds: 3})
	empty, err := NewDMatrix(nil, 0, 4, MatrixOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if p, err := b.Predict(empty); err != nil || len(p) != 0 {
		t.Errorf("Predict on 0 rows = %v, %v", p, err)
	}
	if c, err := b.Contribs(empty); err != nil || len(c) != 0 {
		t.Errorf("Contribs on 0 rows = %v, %v", c, err)
	}
}
