package xgboost

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/telcoretain/churn"
)

// forestCase is a trained model and rows to explain with it.
type forestCase struct {
	name string
	b    *Booster
	eval dataset
	em   *DMatrix
}

// withMissingSignal marks every seventh row's first feature, which carries
// signal, as missing, so that the trees learn default directions on the
// splits that matter (synth leaves signal features complete).
func withMissingSignal(d dataset) dataset {
	for i := 0; i < d.Rows; i += 7 {
		d.X[i*d.Cols] = float32(math.NaN())
	}
	return d
}

// forestCases trains the models the Forest tests explain: several depths,
// missing values, early stopping (so that later rounds must be left out),
// sampling, a loaded model, another base score and objective, leaf-wise
// growth and trees that are a single leaf.
func forestCases(t *testing.T) []forestCase {
	t.Helper()
	const cols = 8
	tr := withMissingSignal(synth(201, 2000, cols, 1.5, 0.2)).matrix(t)
	va := withMissingSignal(synth(202, 800, cols, 1.5, 0.2)).matrix(t)
	eval := withMissingSignal(synth(203, 1000, cols, 1.5, 0.2))
	em := eval.matrix(t)
	early := TrainOptions{Rounds: 300, Valid: va, EarlyStoppingRounds: 5}
	params := func(depth int, extra map[string]string) Params {
		p := smallParams()
		p.MaxDepth = depth
		p.Extra = extra
		return p
	}
	var out []forestCase
	add := func(name string, b *Booster) { out = append(out, forestCase{name, b, eval, em}) }
	for _, depth := range []int{2, 4, 6} {
		b := train(t, tr, params(depth, nil), early)
		if b.BestIteration() < 0 || b.BestIteration() == b.Rounds()-1 {
			t.Fatalf("depth %d: best round %d of %d: the test needs rounds after the best one", depth, b.BestIteration(), b.Rounds())
		}
		add("depth "+string(rune('0'+depth))+", early stopping", b)
	}
	sampled := params(6, nil)
	sampled.Subsample, sampled.ColsampleBytree, sampled.Eta = 0.7, 0.7, 0.1
	b := train(t, tr, sampled, early)
	add("depth 6, eta 0.1, sampled", b)
	saved, err := b.Save("ubj")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(saved, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loaded.Close() })
	add("the same saved and loaded", loaded)
	add("base_score 0.3", train(t, tr, params(4, map[string]string{"base_score": "0.3"}), early))
	raw := params(4, nil)
	raw.Objective = "binary:logitraw"
	add("binary:logitraw", train(t, tr, raw, TrainOptions{Rounds: 40}))
	add("leaf-wise, no depth limit", train(t, tr, params(0, map[string]string{"grow_policy": "lossguide", "max_leaves": "48"}), TrainOptions{Rounds: 30}))
	add("single-leaf trees", train(t, tr, params(4, map[string]string{"gamma": "1e9"}), TrainOptions{Rounds: 5}))
	return out
}

// forestContribs returns the Forest's contributions for c's rows.
func forestContribs(t *testing.T, c forestCase) (*Forest, []float32) {
	t.Helper()
	f, err := c.b.Forest()
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Contribs(context.Background(), c.eval.columns())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != c.eval.Rows*c.eval.Cols {
		t.Fatalf("%d contributions for %d rows x %d features", len(got), c.eval.Rows, c.eval.Cols)
	}
	return f, got
}

// forestAndXGBoostContribs returns the Forest's contributions for c's rows
// and XGBoost's ContribsApprox of the same rows.
func forestAndXGBoostContribs(t *testing.T, c forestCase) (f *Forest, got, want []float32) {
	t.Helper()
	f, got = forestContribs(t, c)
	want, err := c.b.ContribsApprox(c.em)
	if err != nil {
		t.Fatal(err)
	}
	return f, got, want
}

// compareContribs fails unless the Forest's contributions got (one value
// per feature) and bias equal XGBoost's want (bias last) within 1e-5, float32
// rounding of sums in another order; it returns the largest difference.
func compareContribs(t *testing.T, f *Forest, got, want []float32) float64 {
	t.Helper()
	nf, w := f.Features(), f.Features()+1
	if len(got)/nf != len(want)/w {
		t.Fatalf("%d contributions from Go, %d from XGBoost", len(got), len(want))
	}
	var worst float64
	for i := range len(got) / nf {
		for j := range nf {
			d := math.Abs(float64(got[i*nf+j] - want[i*w+j]))
			worst = max(worst, d)
			if d > 1e-5 {
				t.Fatalf("row %d feature %d: Go %v, XGBoost %v", i, j, got[i*nf+j], want[i*w+j])
			}
		}
		if bias := want[i*w+nf]; math.Abs(float64(f.Bias()-bias)) > 1e-5 {
			t.Fatalf("row %d: bias Go %v, XGBoost %v", i, f.Bias(), bias)
		}
	}
	return worst
}

func TestForestContribsMatchContribsApprox(t *testing.T) {
	for _, c := range forestCases(t) {
		t.Run(c.name, func(t *testing.T) {
			f, got, want := forestAndXGBoostContribs(t, c)
			if end := c.b.iterationEnd(); end > 0 && f.Trees() != end {
				t.Errorf("forest walks %d trees, predictions use %d", f.Trees(), end)
			}
			worst := compareContribs(t, f, got, want)
			t.Logf("%d trees, largest difference %.3g", f.Trees(), worst)
		})
	}
}

// TestForestSendsValuesEqualToTheConditionRight explains rows whose values
// sit exactly on split conditions, where XGBoost's rule (left iff value <
// condition, in float32) decides: random rows almost never hit a condition.
func TestForestSendsValuesEqualToTheConditionRight(t *testing.T) {
	for _, c := range forestCases(t) {
		t.Run(c.name, func(t *testing.T) {
			f, err := c.b.Forest()
			if err != nil {
				t.Fatal(err)
			}
			// One row per split: an evaluation row with the split's feature
			// set to its condition.
			d := dataset{Cols: c.eval.Cols}
			for k, nd := range f.nodes {
				if nd.left == int32(k) { // a leaf
					continue
				}
				i := k % c.eval.Rows
				row := slices.Clone(c.eval.X[i*d.Cols : (i+1)*d.Cols])
				row[nd.feature] = nd.cond
				d.X = append(d.X, row...)
				d.Rows++
			}
			if d.Rows == 0 {
				t.Skip("the model has no splits")
			}
			m, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			want, err := c.b.ContribsApprox(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Contribs(context.Background(), d.columns())
			if err != nil {
				t.Fatal(err)
			}
			compareContribs(t, f, got, want)
		})
	}
}

func TestForestContribsAndBiasAddUpToMargin(t *testing.T) {
	for _, c := range forestCases(t) {
		t.Run(c.name, func(t *testing.T) {
			f, got := forestContribs(t, c)
			margin, err := c.b.PredictMargin(c.em)
			if err != nil {
				t.Fatal(err)
			}
			nf := c.eval.Cols
			for i, m := range margin {
				sum := float64(f.Bias())
				for _, v := range got[i*nf : (i+1)*nf] {
					sum += float64(v)
				}
				if math.Abs(sum-float64(m)) > 1e-4*math.Max(1, math.Abs(float64(m))) {
					t.Fatalf("row %d: contributions plus bias %v, margin %v", i, sum, m)
				}
			}
		})
	}
}

// topReasons returns the features with the largest positive contributions
// (at most three, ties to the lower index), as model.Reasons picks them.
func topReasons(c []float32) []int {
	var idx []int
	for j, v := range c {
		if v > 0 {
			idx = append(idx, j)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return c[idx[a]] > c[idx[b]] })
	return idx[:min(3, len(idx))]
}

func TestForestTopReasonsRankLikeContribsApprox(t *testing.T) {
	for _, c := range forestCases(t) {
		t.Run(c.name, func(t *testing.T) {
			_, got, want := forestAndXGBoostContribs(t, c)
			nf, w := c.eval.Cols, c.eval.Cols+1
			ties := 0
			for i := range c.eval.Rows {
				x := want[i*w : i*w+nf]
				g, wa := topReasons(got[i*nf:(i+1)*nf]), topReasons(x)
				if slices.Equal(g, wa) {
					continue
				}
				// Rounding may only reorder values XGBoost itself has within
				// rounding of each other (or of zero).
				if len(g) == len(wa) {
					near := true
					for k := range g {
						if g[k] != wa[k] && math.Abs(float64(x[g[k]]-x[wa[k]])) > 1e-5 {
							near = false
						}
					}
					if near {
						ties++
						continue
					}
				}
				t.Errorf("row %d: top reasons Go %v, XGBoost %v (XGBoost's values %v)", i, g, wa, x)
			}
			if ties > c.eval.Rows/100 {
				t.Errorf("%d of %d rows reorder near-ties: more than rounding explains", ties, c.eval.Rows)
			}
		})
	}
}

func TestForestRejectsModelsItCannotWalk(t *testing.T) {
	d := synth(211, 600, 5, 1, 0.1)
	m := d.matrix(t)
	p := func(extra map[string]string, objective string) Params {
		q := smallParams()
		q.Extra = extra
		if objective != "" {
			q.Objective = objective
		}
		return q
	}
	multi := p(map[string]string{"num_class": "3"}, "multi:softprob")
	for _, tt := range []struct {
		name string
		p    Params
	}{
		{"dart booster", p(map[string]string{"booster": "dart"}, "")},
		{"several classes", multi},
		{"unknown base margin", p(nil, "count:poisson")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := train(t, m, tt.p, TrainOptions{Rounds: 3})
			if _, err := b.Forest(); !errors.Is(err, ErrForestUnsupported) {
				t.Errorf("Forest() error %v, want ErrForestUnsupported", err)
			}
		})
	}
	t.Run("categorical split", func(t *testing.T) {
		b := train(t, m, smallParams(), TrainOptions{Rounds: 3})
		model, err := b.Save("json")
		if err != nil {
			t.Fatal(err)
		}
		// Our matrices never declare categorical features, so XGBoost cannot
		// train such a split here: mark the first split of the first tree.
		i := bytes.Index(model, []byte(`"split_type":[0`))
		if i < 0 {
			t.Fatalf("no split_type array in the model JSON")
		}
		model[i+len(`"split_type":[`)] = '1'
		if _, err := parseForest(model, 0); !errors.Is(err, ErrForestUnsupported) {
			t.Errorf("parseForest error %v, want ErrForestUnsupported", err)
		}
	})
}

func TestForestIsBuiltOnceAndShared(t *testing.T) {
	m := synth(221, 300, 4, 1, 0.1).matrix(t)
	b := train(t, m, smallParams(), TrainOptions{Rounds: 4})
	f1, err := b.Forest()
	if err != nil {
		t.Fatal(err)
	}
	if f2, _ := b.Forest(); f2 != f1 {
		t.Error("second Forest() built a new copy")
	}
}

func TestForestContribsRejectMatricesOfTheWrongShape(t *testing.T) {
	d := synth(231, 300, 4, 1, 0.1)
	b := train(t, d.matrix(t), smallParams(), TrainOptions{Rounds: 4})
	f, err := b.Forest()
	if err != nil {
		t.Fatal(err)
	}
	cols := d.columns()
	ragged := slices.Clone(cols)
	ragged[2] = ragged[2][1:]
	for name, c := range map[string][][]float32{"too few columns": cols[:3], "ragged columns": ragged} {
		if _, err := f.Contribs(context.Background(), c); churn.ErrorField(err) != "cols" {
			t.Errorf("%s: error %v, want one naming cols", name, err)
		}
	}
	if c, err := f.Contribs(context.Background(), [][]float32{{}, {}, {}, {}}); err != nil || len(c) != 0 {
		t.Errorf("no rows: %v, %v", c, err)
	}
}
