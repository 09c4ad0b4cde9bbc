package liblinear

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Problem is a two-class problem, produced row by row as it is sent to the
// child so that the caller need not build the dense design matrix.
type Problem struct {
	Rows, Cols int
	// Row writes the features of row i into dst (Cols values, all finite)
	// and reports whether the row is in the positive class.
	Row func(i int, dst []float64) (positive bool)
}

// Params are liblinear's settings for L2-regularised logistic regression.
type Params struct {
	C   float64 // inverse regularisation strength
	Eps float64 // stopping tolerance
}

// Weights is a fitted linear model: the log-odds of the positive class are
// Bias + sum of Coef[k]*x[k].
type Weights struct {
	Coef []float64
	Bias float64
}

// Launcher starts the child process. The zero value runs the current
// executable, which must dispatch to RunChild (see the package doc).
type Launcher struct {
	// Path is the executable to run; empty means os.Executable().
	Path string
	// Env holds extra environment entries for the child, after the
	// parent's; tests use it to select helper behaviour.
	Env []string
	// WaitDelay bounds how long Fit waits for the child's output after it
	// was killed; zero means one second.
	WaitDelay time.Duration
}

// stderrLimit caps how much of the child's stderr an error carries.
const stderrLimit = 8 << 10

// Fit fits p in a child process with the zero Launcher.
func Fit(ctx context.Context, p Problem, params Params) (Weights, error) {
	return Launcher{}.Fit(ctx, p, params)
}

// Fit streams p to a new child process, waits for it to fit liblinear's
// L2-regularised logistic regression and returns the weights. Cancelling ctx
// kills the child.
func (l Launcher) Fit(ctx context.Context, p Problem, params Params) (Weights, error) {
	const op = "liblinear fit"
	if err := check(p, params); err != nil {
		return Weights{}, fmt.Errorf("%s: %w", op, err)
	}
	if p.Row == nil {
		return Weights{}, fmt.Errorf("%s: Row: nil, want a function producing the rows", op)
	}
	if IsChild() {
		// A child that did not dispatch to RunChild is running the whole
		// program again; starting another would recurse.
		return Weights{}, fmt.Errorf("%s: this process is itself a liblinear child (%s=1): its main or TestMain must call liblinear.RunChild before anything else", op, ChildEnv)
	}
	path := l.Path
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return Weights{}, fmt.Errorf("%s: locate the executable to run as the child: %w", op, err)
		}
		path = exe
	}
	cmd := exec.CommandContext(ctx, path, "liblinear-child")
	cmd.Env = childEnv(os.Environ(), l.Env)
	cmd.WaitDelay = l.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = time.Second
	}
	var stdout bytes.Buffer
	stderr := &capped{limit: stderrLimit}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return Weights{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := cmd.Start(); err != nil {
		return Weights{}, fmt.Errorf("%s: start child %s: %w", op, path, err)
	}
	// stdin stays open until the child exits (Wait closes it): the child
	// takes its closing to mean the parent died.
	werr := writeRequest(ctx, stdin, p, params)
	var perr problemError
	if errors.As(werr, &perr) {
		_ = cmd.Process.Kill()
	}
	// A write error other than a bad problem means the child closed the
	// pipe by exiting; its exit status and stderr say why.
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		// Keep ctx.Err() in the chain for errors.Is, and the cause (such
		// as the signal) for people.
		if cause := context.Cause(ctx); cause != ctx.Err() {
			return Weights{}, fmt.Errorf("%s: child %s stopped: %w: %w", op, path, ctx.Err(), cause)
		}
		return Weights{}, fmt.Errorf("%s: child %s stopped: %w", op, path, ctx.Err())
	case perr.error != nil:
		return Weights{}, fmt.Errorf("%s: %w", op, perr.error)
	case err != nil:
		return Weights{}, fmt.Errorf("%s: child %s (pid %d) failed: %w; its stderr: %s", op, path, cmd.Process.Pid, err, stderr.text())
	case werr != nil:
		return Weights{}, fmt.Errorf("%s: send the problem to child %s: %w; its stderr: %s", op, path, werr, stderr.text())
	}
	wt, err := readResult(stdout.Bytes(), p.Cols)
	if err != nil {
		return Weights{}, fmt.Errorf("%s: child %s: %w; its stderr: %s", op, path, err, stderr.text())
	}
	return wt, nil
}

// childEnv is the parent's environment with the child marker set and
// cgocheck=0 appended to GODEBUG, the last setting of a key winning; extra
// entries come last.
func childEnv(parent, extra []string) []string {
	env := make([]string, 0, len(parent)+len(extra)+2)
	godebug := ""
	for _, kv := range parent {
		switch {
		case strings.HasPrefix(kv, ChildEnv+"="):
		case strings.HasPrefix(kv, "GODEBUG="):
			godebug = strings.TrimPrefix(kv, "GODEBUG=")
		default:
			env = append(env, kv)
		}
	}
	if godebug != "" {
		godebug += ","
	}
	env = append(env, ChildEnv+"=1", "GODEBUG="+godebug+"cgocheck=0")
	return append(env, extra...)
}

// capped keeps the first limit bytes written to it and counts the rest.
type capped struct {
	limit   int
	buf     bytes.Buffer
	dropped int
}

func (c *capped) Write(b []byte) (int, error) {
	keep := min(len(b), c.limit-c.buf.Len())
	c.buf.Write(b[:keep])
	c.dropped += len(b) - keep
	return len(b), nil
}

// text returns what was kept, trimmed, noting how much was dropped.
func (c *capped) text() string {
	s := strings.TrimSpace(c.buf.String())
	if s == "" {
		s = "(empty)"
	}
	if c.dropped > 0 {
		s += fmt.Sprintf(" [%d more bytes]", c.dropped)
	}
	return s
}
