package liblinear

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// linearProblem has rows whose log-odds are 2*x0 - x1 + 0.5 (x2 is noise).
func linearProblem(rows int, seed uint64) Problem {
	return Problem{Rows: rows, Cols: 3, Row: func(i int, dst []float64) bool {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		for k := range dst {
			dst[k] = r.NormFloat64()
		}
		z := 2*dst[0] - dst[1] + 0.5
		return r.Float64() < 1/(1+math.Exp(-z))
	}}
}

func TestFitRecoversKnownWeights(t *testing.T) {
	w, err := Fit(context.Background(), linearProblem(20000, 1), Params{C: 10, Eps: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{2, -1, 0}
	for k, v := range w.Coef {
		if math.Abs(v-want[k]) > 0.1 {
			t.Errorf("coef %d = %.3f, want about %g", k, v, want[k])
		}
	}
	if math.Abs(w.Bias-0.5) > 0.1 {
		t.Errorf("bias = %.3f, want about 0.5", w.Bias)
	}
}

func TestFitGivesTheSameWeightsTwice(t *testing.T) {
	p, params := linearProblem(1000, 2), Params{C: 1, Eps: 1e-4}
	a, err := Fit(context.Background(), p, params)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), p, params)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Coef, b.Coef) || a.Bias != b.Bias {
		t.Fatalf("two fits differ: %v %v and %v %v", a.Coef, a.Bias, b.Coef, b.Bias)
	}
}

// wideProblem is a deterministic problem of rows x 10 columns, big enough
// for liblinear to take a while.
func wideProblem(rows int) Problem {
	return Problem{Rows: rows, Cols: 10, Row: func(i int, dst []float64) bool {
		for k := range dst {
			dst[k] = float64((i*(k+3))%17) - 8
		}
		return (i*7)%11 < 4+int(dst[0])%3
	}}
}

// TestFitStreamsRowsWithoutCopyingTheMatrix checks that the parent's
// allocations do not grow with the matrix: 60k rows x 10 columns are 4.8 MB
// as a dense float64 matrix.
func TestFitStreamsRowsWithoutCopyingTheMatrix(t *testing.T) {
	const rows = 60_000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Fit(context.Background(), wideProblem(rows), Params{C: 1, Eps: 1e-2}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("parent allocated %d bytes for a %d-byte matrix, want under 1 MiB", grew, rows*10*8)
	}
}

func TestFitKillsTheChildWhenTheContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := Launcher{Env: []string{helperEnv + "=hang"}}
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := l.Fit(ctx, linearProblem(100, 3), Params{C: 1, Eps: 1e-4})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Fit returned %v after the cancel, want promptly", d)
	}
}

func TestFitReportsTheChildsStderr(t *testing.T) {
	l := Launcher{Env: []string{helperEnv + "=fail"}}
	_, err := l.Fit(context.Background(), linearProblem(100, 4), Params{C: 1, Eps: 1e-4})
	if err == nil || !strings.Contains(err.Error(), "helper: out of luck") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err %v, want the exit status and the child's stderr", err)
	}
}

func TestFitRejectsAnAnswerThatIsNotWeights(t *testing.T) {
	l := Launcher{Env: []string{helperEnv + "=garbage"}}
	_, err := l.Fit(context.Background(), linearProblem(100, 5), Params{C: 1, Eps: 1e-4})
	if err == nil || !strings.Contains(err.Error(), "child answer") {
		t.Fatalf("err %v, want a complaint about the child's answer", err)
	}
}

func TestFitRefusesToStartAChildFromAChild(t *testing.T) {
	t.Setenv(ChildEnv, "1")
	_, err := Fit(context.Background(), linearProblem(100, 6), Params{C: 1, Eps: 1e-4})
	if err == nil || !strings.Contains(err.Error(), "RunChild") {
		t.Fatalf("err %v, want a hint to dispatch to RunChild", err)
	}
}

func TestFitRejectsBadProblems(t *testing.T) {
	good := linearProblem(100, 7)
	nan := good
	nan.Row = func(i int, dst []float64) bool {
		good.Row(i, dst)
		if i == 42 {
			dst[1] = math.NaN()
		}
		return i%2 == 0
	}
	oneClass := good
	oneClass.Row = func(i int, dst []float64) bool { good.Row(i, dst); return true }
	for _, tc := range []struct {
		name   string
		p      Problem
		params Params
		want   string
	}{
		{"no rows", Problem{Cols: 3, Row: good.Row}, Params{C: 1, Eps: 1e-4}, "rows: 0"},
		{"no row function", Problem{Rows: 10, Cols: 3}, Params{C: 1, Eps: 1e-4}, "Row: nil"},
		{"negative C", good, Params{C: -1, Eps: 1e-4}, "params.C: -1"},
		{"NaN C", good, Params{C: math.NaN(), Eps: 1e-4}, "params.C: NaN"},
		{"zero eps", good, Params{C: 1}, "params.Eps: 0"},
		{"NaN value", nan, Params{C: 1, Eps: 1e-4}, "row 42 column 1: NaN"},
		{"one class", oneClass, Params{C: 1, Eps: 1e-4}, "all 100 rows are in one class"},
	} {
		_, err := Fit(context.Background(), tc.p, tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

// request encodes p as Fit sends it.
func encodeRequest(t *testing.T, p Problem, params Params) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := writeRequest(context.Background(), &b, p, params); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestChildRefusesBadRequests(t *testing.T) {
	good := encodeRequest(t, linearProblem(10, 8), Params{C: 1, Eps: 1e-4})
	rowLen := 1 + 8*3
	patch := func(off int, b ...byte) []byte {
		out := slices.Clone(good)
		copy(out[off:], b)
		return out
	}
	huge := patch(len(requestMagic), 0xff, 0xff, 0xff, 0x7f) // rows = 2^31-1
	bigCount := patch(len(requestMagic), 0, 0, 0, 0x10)      // rows = 2^28, far more than follow
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "request header: EOF"},
		{"wrong magic", patch(0, 'X'), "starts with"},
		{"too many rows", huge, "want 1 to"},
		{"more rows promised than sent", bigCount, "request row 10 of 268435456: unexpected EOF"},
		{"truncated row", good[:len(good)-5], "request row 9 of 10: unexpected EOF"},
		{"label 7", patch(headerLen+rowLen, 7), "request row 1: label byte 7"},
		{"infinite value", patch(headerLen+1, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f), "row 0 column 0: +Inf"},
		{"negative C", patch(len(requestMagic)+16, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf), "params.C: -1"},
	} {
		_, err := readRequest(bytes.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

// runChild starts the test binary as a child with env added and in on stdin.
func runChild(t *testing.T, in []byte, env ...string) (stderr string, code int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(in)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return errb.String(), cmd.ProcessState.ExitCode()
}

func TestChildProcessExitsWithStatus2OnBadInput(t *testing.T) {
	stderr, code := runChild(t, []byte("not a request at all, not at all"), ChildEnv+"=1", "GODEBUG=cgocheck=0")
	if code != exitBadInput || !strings.Contains(stderr, "request header") {
		t.Fatalf("exit %d, stderr %q; want %d and a complaint about the header", code, stderr, exitBadInput)
	}
}

func TestChildProcessRefusesToRunWithTheCgoCheckOn(t *testing.T) {
	in := encodeRequest(t, linearProblem(10, 9), Params{C: 1, Eps: 1e-4})
	stderr, code := runChild(t, in, ChildEnv+"=1", "GODEBUG=cgocheck=0,cgocheck=1")
	if code != exitFailed || !strings.Contains(stderr, "GODEBUG lacks cgocheck=0") {
		t.Fatalf("exit %d, stderr %q; want %d and a hint about GODEBUG", code, stderr, exitFailed)
	}
}

func TestChildKillsItselfWhenItsStdinClosesBeforeItAnswers(t *testing.T) {
	// exec closes the child's stdin right after the request, as happens
	// when the parent dies; the fit takes far longer than noticing.
	in := encodeRequest(t, wideProblem(60_000), Params{C: 1, Eps: 1e-6})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = childEnv(os.Environ(), nil)
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	err = cmd.Run()
	if err == nil || !strings.Contains(err.Error(), "killed") || out.Len() != 0 {
		t.Fatalf("child ended with %v and wrote %d bytes, want it killed before answering", err, out.Len())
	}
}

func TestChildEnvTurnsTheCheckOffOnlyForTheChild(t *testing.T) {
	env := childEnv([]string{"HOME=/h", "GODEBUG=http2debug=1", ChildEnv + "=0"}, []string{"X=1"})
	want := []string{"HOME=/h", ChildEnv + "=1", "GODEBUG=http2debug=1,cgocheck=0", "X=1"}
	if !slices.Equal(env, want) {
		t.Fatalf("child env %q, want %q", env, want)
	}
	if strings.Contains(os.Getenv("GODEBUG"), "cgocheck=0") {
		t.Fatalf("the test process itself runs with GODEBUG=%s", os.Getenv("GODEBUG"))
	}
}
