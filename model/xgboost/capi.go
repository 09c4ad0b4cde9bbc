package xgboost

// #cgo LDFLAGS: -lxgboost
// #include <stdlib.h>
// #include <xgboost/c_api.h>
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/telcoretain/churn"
)

// Error is a failure reported by the XGBoost C library: the C function that
// failed and the message XGBGetLastError gave for it (without the C++ stack
// trace). It is the cause inside the *churn.Error that every function of this
// package returns, so errors.As finds it.
type Error struct {
	Func string // C function, e.g. "XGBoosterUpdateOneIter"
	Msg  string // XGBoost's own message
}

// Error returns "Func: Msg".
func (e *Error) Error() string { return e.Func + ": " + e.Msg }

// ErrClosed is the cause of the error returned when a DMatrix or Booster is
// used after Close.
var ErrClosed = errors.New("xgboost: handle used after Close")

// Version returns the version of the linked XGBoost library, e.g. "1.7.4".
// Model files record it so a model can be traced to the library that built it.
func Version() string {
	var major, minor, patch C.int
	C.XGBoostVersion(&major, &minor, &patch)
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}

// lastError turns a non-zero return code of fn into an *Error. XGBoost keeps
// the message in thread-local storage, so it must be read on the OS thread
// that made the failing call: callers are either on a Booster's locked thread
// or use callLocked.
func lastError(fn string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	msg := C.GoString(C.XGBGetLastError())
	// The message is followed by a C++ stack trace that helps nobody reading
	// our logs; keep XGBoost's sentence, drop the frames.
	if i := strings.Index(msg, "Stack trace:"); i >= 0 {
		msg = msg[:i]
	}
	return &Error{Func: fn, Msg: trimLocation(strings.TrimSpace(msg))}
}

// trimLocation drops the "[17:08:28] ./src/learner.cc:1510: " that XGBoost's
// logger puts before a message: the time and the C++ source line mean
// nothing to the people who read our errors.
func trimLocation(msg string) string {
	rest, ok := strings.CutPrefix(msg, "[")
	if !ok {
		return msg
	}
	_, rest, ok = strings.Cut(rest, "] ")
	if !ok {
		return msg
	}
	file, rest, ok := strings.Cut(rest, ": ")
	if !ok || strings.ContainsAny(file, " \n") || !strings.Contains(file, ":") {
		return msg
	}
	return rest
}

// callLocked runs one C call with the goroutine pinned to its OS thread, so
// that the error message is read on the thread that set it.
func callLocked(fn string, call func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return lastError(fn, call())
}

// wrap puts a C error into the project's error type: op names what we were
// doing, kind says whose fault it most likely is.
func wrap(op string, kind churn.Kind, err error) error {
	if err == nil {
		return nil
	}
	return &churn.Error{Op: "xgboost " + op, Kind: kind, Err: err}
}

// closedError is returned for any use of a closed handle; using a closed
// handle is a bug in the caller, hence KindInternal.
func closedError(op, what string) error {
	return &churn.Error{Op: "xgboost " + op, Kind: churn.KindInternal, Msg: what + " is closed", Err: ErrClosed}
}

// osThread runs functions one at a time on a single, locked OS thread.
//
// XGBoost 1.7 keeps per-thread state keyed by booster: the prediction cache
// (predictions already accumulated per DMatrix, reused incrementally), the
// buffers that returned strings and predictions point into, and the last
// error. A booster's destructor only clears the entries of the thread it runs
// on, and a new booster allocated at the same address would pick up a stale
// cache left on another thread. Go moves goroutines between OS threads, so
// each Booster does all of its C calls, from creation to free, on its own
// thread.
type osThread struct {
	calls chan func()
}

func startOSThread() *osThread {
	t := &osThread{calls: make(chan func())}
	go t.loop()
	return t
}

func (t *osThread) loop() {
	// Never unlocked: when the goroutine returns, Go ends the thread, and with
	// it XGBoost's thread-local state and the OpenMP team it started.
	runtime.LockOSThread()
	for f := range t.calls {
		f()
	}
}

// run executes f on the thread and waits for it.
func (t *osThread) run(f func()) {
	done := make(chan struct{})
	t.calls <- func() {
		defer close(done)
		f()
	}
	<-done
}

// stop ends the thread once the calls already sent have run.
func (t *osThread) stop() { close(t.calls) }
