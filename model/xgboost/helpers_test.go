package xgboost

import (
	"context"
	"math"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

// wantInvalid fails the test unless err is an invalid-input error naming
// field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != field {
		t.Errorf("error %q: kind %v field %q, want invalid %q", err, churn.ErrorKind(err), churn.ErrorField(err), field)
	}
}

// rng is splitmix64: tiny, and its output never changes between Go releases,
// which the golden test relies on.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit returns a float32 in [0, 1) with 24 random bits, exact on every
// platform.
func (r *rng) unit() float32 { return float32(r.next()>>40) / (1 << 24) }

// dataset is a synthetic churn-like problem: row-major features and labels
// drawn from a known logistic model.
type dataset struct {
	X          []float32
	Y          []float32
	Logit      []float64 // the true log-odds of each row
	Rows, Cols int
}

// synth draws rows x cols uniform features; the label depends on the first
// four features with the given strength (0 makes labels pure noise). A
// fraction missing of the values of columns 4 and up are NaN.
func synth(seed uint64, rows, cols int, strength, missing float64) dataset {
	r := &rng{s: seed}
	d := dataset{X: make([]float32, rows*cols), Y: make([]float32, rows), Logit: make([]float64, rows), Rows: rows, Cols: cols}
	for i := range rows {
		row := d.X[i*cols : (i+1)*cols]
		for j := range row {
			row[j] = r.unit()
			if j >= 4 && float64(r.unit()) < missing {
				row[j] = float32(math.NaN())
			}
		}
		at := func(j int) float64 {
			if j < cols {
				return float64(row[j]) - 0.5
			}
			return 0
		}
		inter := 1.0
		if at(3) < 0 {
			inter = -1
		}
		logit := strength * (4*at(0) - 3*at(1) + 3*at(2)*inter)
		d.Logit[i] = logit
		if float64(r.unit()) < 1/(1+math.Exp(-logit)) {
			d.Y[i] = 1
		}
	}
	return d
}

// matrix builds a labeled DMatrix of d and closes it when the test ends.
func (d dataset) matrix(t testing.TB) *DMatrix {
	t.Helper()
	m, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{Labels: d.Y})
	if err != nil {
		t.Fatalf("NewDMatrix: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// columns returns d's features column by column, the layout of
// churn.Matrix.Cols: columns()[j][i] is feature j of row i.
func (d dataset) columns() [][]float32 {
	cols := make([][]float32, d.Cols)
	for j := range cols {
		cols[j] = make([]float32, d.Rows)
		for i := range d.Rows {
			cols[j][i] = d.X[i*d.Cols+j]
		}
	}
	return cols
}

// auc is the area under the ROC curve (Mann-Whitney U with tied scores
// sharing their average rank).
func auc[S float32 | float64](scores []S, labels []float32) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if labels[idx[k]] == 1 {
				rankSum += avg
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestAUCOfKnownRankings(t *testing.T) {
	labels := []float32{0, 0, 1, 1}
	tests := []struct {
		name   string
		scores []float64
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, 1},
		{"inverted", []float64{0.9, 0.8, 0.2, 0.1}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, 0.5},
		{"one swap", []float64{0.1, 0.85, 0.8, 0.9}, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auc(tt.scores, labels); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("auc = %v, want %v", got, tt.want)
			}
		})
	}
}

// smallParams is a quick, deterministic configuration for tests.
func smallParams() Params {
	p := DefaultParams()
	p.MaxDepth = 3
	p.Eta = 0.3
	p.NThread = 1
	p.Seed = 1
	return p
}

func train(t testing.TB, d *DMatrix, p Params, o TrainOptions) *Booster {
	t.Helper()
	b, err := Train(context.Background(), d, p, o)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func predict(t testing.TB, b *Booster, d *DMatrix) []float32 {
	t.Helper()
	p, err := b.Predict(d)
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	return p
}

// pythonBin is Debian's Python, where python3-xgboost installs; a pyenv or
// virtualenv python3 first in PATH would not have it.
const pythonBin = "/usr/bin/python3"

// pythonXGBoost returns Debian's python3 when it can import xgboost. Without
// it the test is skipped on a developer's machine and fails when CI=true.
func pythonXGBoost(t testing.TB) string {
	t.Helper()
	py := pythonBin
	out, err := exec.Command(py, "-c", "import xgboost; print(xgboost.__version__)").CombinedOutput()
	if err != nil {
		msg := "python3-xgboost is not installed (apt-get install python3-xgboost): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "1.7.") {
		t.Fatalf("python xgboost is %s, want 1.7.x like the C library", v)
	}
	return py
}

// writeFloats writes v as raw little-endian float32, the layout numpy.fromfile reads.
func writeFloats(t testing.TB, path string, v []float32) {
	t.Helper()
	buf := make([]byte, 0, 4*len(v))
	for _, f := range v {
		b := math.Float32bits(f)
		buf = append(buf, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// formatFloats renders float32 values one per line so that parsing them back
// gives the same bits.
func formatFloats(v []float32) string {
	var sb strings.Builder
	for _, f := range v {
		sb.WriteString(strconv.FormatFloat(float64(f), 'g', -1, 32))
		sb.WriteByte('\n')
	}
	return sb.String()
}

func parseFloats(t testing.TB, s string) []float32 {
	t.Helper()
	var out []float32
	for line := range strings.Lines(s) {
		v, err := strconv.ParseFloat(strings.TrimSpace(line), 32)
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		out = append(out, float32(v))
	}
	return out
}

// firstDiff returns the index of the first differing bit pattern, -1 when the
// slices are bit-identical.
func firstDiff(a, b []float32) int {
	for i := range min(len(a), len(b)) {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// runPython runs script with args and returns its standard output.
func runPython(py, script string, args ...string) (string, error) {
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.String(), err
	}
	return string(out), nil
}
