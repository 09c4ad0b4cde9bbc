package liblinear

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/sjwhitworth/golearn/base"
	lm "github.com/sjwhitworth/golearn/linear_models"
)

// ChildEnv is the environment variable that makes an executable act as the
// liblinear child (see IsChild).
const ChildEnv = "CHURN_LIBLINEAR_CHILD"

// Exit statuses of the child.
const (
	exitFailed   = 1 // liblinear or the host failed
	exitBadInput = 2 // the request was malformed
)

// IsChild reports whether this process was started by Fit as the liblinear
// child; main (or TestMain) then calls RunChild and exits with its status.
func IsChild() bool { return os.Getenv(ChildEnv) == "1" }

// RunChild is the whole life of the child process: it reads one problem from
// stdin, fits it with liblinear, writes the weights to stdout and returns the
// exit status (0 done, 1 fit failed, 2 bad input), having told stderr why.
func RunChild() int {
	if err := cgocheckOff(); err != nil {
		fmt.Fprintln(os.Stderr, "liblinear child:", err)
		return exitFailed
	}
	req, err := readRequest(bufio.NewReaderSize(os.Stdin, 1<<16))
	if err != nil {
		fmt.Fprintln(os.Stderr, "liblinear child:", err)
		return exitBadInput
	}
	go dieWithParent(os.Stdin)
	wt, err := fit(req)
	if err == nil {
		err = writeResult(os.Stdout, wt)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "liblinear child:", err)
		return exitFailed
	}
	return 0
}

// RunChildOr is the body of a TestMain (or main) whose process may be started
// as the liblinear child: it returns RunChild's status when IsChild, and
// otherwise run's, such as testing.M.Run's.
func RunChildOr(run func() int) int {
	if IsChild() {
		return RunChild()
	}
	return run()
}

// dieWithParent kills this process when r, the parent's end of the request
// pipe, closes: Fit keeps it open until the child exits, so a close means the
// parent is gone and the fit would be wasted memory and CPU. liblinear runs
// in C and cannot be interrupted any other way.
func dieWithParent(r io.Reader) {
	var b [1]byte
	_, _ = r.Read(b[:])
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
}

// cgocheckOff checks that the runtime's cgo pointer check is off in this
// process: golearn hands C a Go-allocated problem holding Go pointers, which
// the check rejects with a panic. The launcher appends cgocheck=0 to GODEBUG;
// the last setting of a key wins.
func cgocheckOff() error {
	off := false
	for _, kv := range strings.Split(os.Getenv("GODEBUG"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "cgocheck="); ok {
			off = v == "0"
		}
	}
	if !off {
		return errors.New("GODEBUG lacks cgocheck=0, which golearn's liblinear binding needs (Fit sets it for the child)")
	}
	return nil
}

// fit trains liblinear's L2-regularised logistic regression on req and reads
// the weights back from its model file, the one place golearn exposes them.
func fit(req *request) (Weights, error) {
	base.SetLogger(log.New(io.Discard, "", 0))
	param := lm.NewParameter(lm.L2R_LR, req.params.C, req.params.Eps)
	mdl := lm.Train(lm.NewProblem(req.x, req.y, 0), param)
	f, err := os.CreateTemp("", "churn-liblinear-*.txt")
	if err != nil {
		return Weights{}, err
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	if err := lm.Export(mdl, path); err != nil {
		return Weights{}, err
	}
	w, err := readModelWeights(path)
	if err != nil {
		return Weights{}, err
	}
	// golearn declares one more column than the rows hold (the last
	// weight stays 0); the bias column is the one before it.
	if len(w) < req.cols+1 {
		return Weights{}, fmt.Errorf("liblinear model %s: %d weights for %d columns and the bias", path, len(w), req.cols)
	}
	return Weights{Coef: w[:req.cols], Bias: w[req.cols]}, nil
}

// readModelWeights parses liblinear's text model. For two classes it holds
// one weight vector whose positive side is the first label listed; the
// result is signed so that it favours label 1.
func readModelWeights(path string) ([]float64, error) {
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
		return nil, errors.New("liblinear model: no weights")
	}
	return w, nil
}
