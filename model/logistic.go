package model

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/sjwhitworth/golearn/base"
	lm "github.com/sjwhitworth/golearn/linear_models"

	"github.com/telcoretain/churn"
)

// Logistic is an L2-regularised logistic regression fitted by golearn's
// liblinear binding. golearn only predicts labels, so the model keeps the
// learned weights and computes probabilities itself; the weights, on
// standardised inputs, are also what people read to see what drives churn.
type Logistic struct {
	Encoder   *Encoder  `json:"encoder"`
	Coef      []float64 `json:"coef"` // one per encoded column (Encoder.Outputs)
	Intercept float64   `json:"intercept"`
	C         float64   `json:"c"` // inverse regularisation strength used
}

// liblinearMu serialises training: golearn's liblinear binding routes its
// log output through a package-level hook.
var liblinearMu sync.Mutex

// CgocheckOff reports whether the process runs with GODEBUG=cgocheck=0.
// golearn's liblinear binding hands C a Go-allocated problem that holds Go
// pointers (harmless with Go's non-moving collector, but the default runtime
// check panics on it), so training needs the check off; cmd/churn sets it at
// start.
func CgocheckOff() bool {
	for _, kv := range strings.Split(os.Getenv("GODEBUG"), ",") {
		if strings.TrimSpace(kv) == "cgocheck=0" {
			return true
		}
	}
	return false
}

// TrainLogistic fits the model on the labelled rows of m. cats names the
// categorical features and their categories; c is liblinear's C (inverse
// regularisation strength; 1 is a sensible default on standardised inputs).
func TrainLogistic(m *churn.Matrix, cats map[string][]string, c float64) (*Logistic, error) {
	const op = "train logistic regression"
	if !CgocheckOff() {
		return nil, &churn.Error{Op: op, Kind: churn.KindInternal,
			Msg: "golearn's liblinear binding needs GODEBUG=cgocheck=0 in the environment (the churn binary sets it; for go test use `make test`)"}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if m.Labels == nil || m.Rows() == 0 {
		return nil, errf(op, "no labelled rows")
	}
	if c <= 0 {
		return nil, churn.Invalid(op, "C", "must be positive, got %g", c)
	}
	y := make([]float64, m.Rows())
	var pos int
	for i, l := range m.Labels {
		switch l {
		case 0:
		case 1:
			y[i] = 1
			pos++
		default:
			return nil, churn.Invalid(op, "label", "row %d has label %v, want 0 or 1", i, l)
		}
	}
	if pos == 0 || pos == len(y) {
		return nil, churn.Invalid(op, "label", "all %d rows have the same label; need both classes", len(y))
	}
	enc := FitEncoder(m, cats)
	x, err := enc.Encode(m)
	if err != nil {
		return nil, err
	}
	// liblinear in golearn fits no intercept: a constant column stands in
	// for it (the usual liblinear "bias" feature).
	for i := range x {
		x[i] = append(x[i], 1)
	}
	w, err := fitLiblinear(x, y, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	names, _ := enc.Outputs()
	if len(w) < len(names)+1 {
		return nil, fmt.Errorf("%s: liblinear returned %d weights for %d columns", op, len(w), len(names)+1)
	}
	return &Logistic{Encoder: enc, Coef: w[:len(names)], Intercept: w[len(names)], C: c}, nil
}

// fitLiblinear trains and reads the weights back from liblinear's model file,
// the one place golearn exposes them. The returned weights favour label 1.
func fitLiblinear(x [][]float64, y []float64, c float64) ([]float64, error) {
	liblinearMu.Lock()
	defer liblinearMu.Unlock()
	base.SetLogger(log.New(io.Discard, "", 0))
	param := lm.NewParameter(lm.L2R_LR, c, 1e-4)
	prob := lm.NewProblem(x, y, 0)
	mdl := lm.Train(prob, param)
	f, err := os.CreateTemp("", "churn-liblinear-*.txt")
	if err != nil {
		return nil, err
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	if err := lm.Export(mdl, path); err != nil {
		return nil, err
	}
	return readLiblinearWeights(path)
}

// readLiblinearWeights parses liblinear's text model. For two classes it
// holds one weight vector whose positive side is the first label listed.
func readLiblinearWeights(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sign := 1.0
	var w []float64
	inW := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if inW {
			if line == "" {
				continue
			}
			v, err := strconv.ParseFloat(strings.Fields(line)[0], 64)
			if err != nil {
				return nil, fmt.Errorf("liblinear model: weight %q: %w", line, err)
			}
			w = append(w, sign*v)
			continue
		}
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case fields[0] == "label":
			if len(fields) != 3 {
				return nil, fmt.Errorf("liblinear model: want two labels, got %q", line)
			}
			if fields[1] == "0" {
				sign = -1
			}
		case fields[0] == "w":
			inW = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(w) == 0 {
		return nil, fmt.Errorf("liblinear model: no weights")
	}
	return w, nil
}

// Margins returns the log-odds of churn for every row of m.
func (l *Logistic) Margins(m *churn.Matrix) ([]float64, error) {
	if err := l.Encoder.check(m); err != nil {
		return nil, err
	}
	names, _ := l.Encoder.Outputs()
	row := make([]float64, len(names))
	out := make([]float64, m.Rows())
	for i := range out {
		l.Encoder.EncodeRow(m, i, row)
		z := l.Intercept
		for k, v := range row {
			z += l.Coef[k] * v
		}
		out[i] = z
	}
	return out, nil
}

// Contributions returns, for row i of m, each input feature's contribution
// to the log-odds relative to an average customer (coefficient x
// standardised value, summed over a categorical feature's one-hot columns).
func (l *Logistic) Contributions(m *churn.Matrix, i int, dst []float64) []float64 {
	names, source := l.Encoder.Outputs()
	row := make([]float64, len(names))
	l.Encoder.EncodeRow(m, i, row)
	for j := range dst {
		dst[j] = 0
	}
	for k, v := range row {
		dst[source[k]] += l.Coef[k] * v
	}
	return dst
}

// Sigmoid maps log-odds to a probability.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// ReexecWithCgocheckOff restarts the current process with cgocheck=0 added to
// GODEBUG when it is not there yet (the runtime reads it only at start). It is
// for main and TestMain, before anything else runs; on success it does not
// return.
func ReexecWithCgocheckOff() error {
	if CgocheckOff() {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	gd := os.Getenv("GODEBUG")
	if gd != "" {
		gd += ","
	}
	env := append(os.Environ(), "GODEBUG="+gd+"cgocheck=0")
	return syscall.Exec(exe, os.Args, env)
}

// RunTests is the TestMain of packages whose tests train logistic models:
// it restarts the test binary with cgocheck off, then runs the tests and
// exits with their status. m is the *testing.M.
func RunTests(m interface{ Run() int }) {
	if err := ReexecWithCgocheckOff(); err != nil {
		fmt.Fprintln(os.Stderr, "re-exec with GODEBUG=cgocheck=0:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
