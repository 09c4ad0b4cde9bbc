package xgboost

// #include <stdlib.h>
// #include <xgboost/c_api.h>
import "C"

import (
	"encoding/json"
	"math"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"github.com/telcoretain/churn"
)

// Booster is a trained XGBoost model.
//
// A Booster is safe for concurrent use. Its C calls run one at a time on an
// OS thread of its own (see osThread for why); each prediction is itself
// parallel over NThread cores, so serialising calls costs little throughput.
// Close frees the model and its thread; a cleanup does the same if a Booster
// is dropped without Close, but callers should not rely on that.
type Booster struct {
	mu      sync.RWMutex // write-held by Close only
	res     *boosterRes  // nil after Close
	cleanup runtime.Cleanup

	// Set while the Booster is built and read-only afterwards.
	rounds    int       // boosted rounds (trees per output group)
	features  int       // number of features (columns) the model takes
	best      int       // best iteration from early stopping; -1 when every round is used
	bestScore float64   // validation metric at best; NaN when there was none
	metric    string    // name of the validation metric, "" without one
	evals     []float64 // validation metric after each round

	// The trees in Go memory for Contribs in Go, built on first use by
	// Forest; a trained Booster's trees never change.
	forestOnce sync.Once
	forest     *Forest
	forestErr  error
}

// boosterRes is what a Booster's cleanup frees; it must not point back to
// the Booster, or the Booster would never become unreachable.
type boosterRes struct {
	t *osThread
	h C.BoosterHandle
}

func freeBooster(r *boosterRes) {
	r.t.run(func() { C.XGBoosterFree(r.h) })
	r.t.stop()
}

// newBooster starts the booster's thread and creates the handle on it, with
// the given matrices in its prediction cache.
func newBooster(op string, cache []C.DMatrixHandle) (*Booster, error) {
	t := startOSThread()
	var h C.BoosterHandle
	var err error
	t.run(func() {
		var ptr *C.DMatrixHandle
		if len(cache) > 0 {
			ptr = &cache[0]
		}
		err = lastError("XGBoosterCreate", C.XGBoosterCreate(ptr, C.bst_ulong(len(cache)), &h))
	})
	if err != nil {
		t.stop()
		return nil, wrap(op, churn.KindInternal, err)
	}
	res := &boosterRes{t: t, h: h}
	b := &Booster{res: res, best: -1}
	b.cleanup = runtime.AddCleanup(b, freeBooster, res)
	return b, nil
}

// do runs f with the handle on the booster's thread. Calls from several
// goroutines queue there; Close waits for them.
func (b *Booster) do(op string, f func(h C.BoosterHandle) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.res == nil {
		return closedError(op, "booster")
	}
	var err error
	b.res.t.run(func() { err = f(b.res.h) })
	return err
}

// Close frees the model and ends its thread. It waits for calls in progress
// and is safe to call more than once.
func (b *Booster) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.res == nil {
		return nil
	}
	b.cleanup.Stop()
	var err error
	r := b.res
	r.t.run(func() { err = lastError("XGBoosterFree", C.XGBoosterFree(r.h)) })
	r.t.stop()
	b.res = nil
	return wrap("close booster", churn.KindInternal, err)
}

// Rounds returns the number of boosting rounds in the model.
func (b *Booster) Rounds() int { return b.rounds }

// BestIteration returns the 0-based round with the best validation metric
// when training stopped early, and -1 otherwise. Predictions use rounds
// [0, BestIteration] only; later rounds stay in the saved model, as in the
// Python package. The saved "best_iteration" attribute restores this on Load;
// Python reads it into Booster.best_iteration, but its Booster.predict uses
// every round unless given iteration_range=(0, best_iteration+1).
func (b *Booster) BestIteration() int { return b.best }

// BestScore returns the validation metric at BestIteration, NaN without one.
func (b *Booster) BestScore() float64 { return b.bestScore }

// Metric returns the name of the validation metric ("logloss", "auc", ...),
// "" when the model was trained without a validation set.
func (b *Booster) Metric() string { return b.metric }

// EvalHistory returns the validation metric after each round of training,
// nil for a loaded model.
func (b *Booster) EvalHistory() []float64 { return append([]float64(nil), b.evals...) }

// iterationEnd is the iteration_end of a prediction: 0 means every tree.
func (b *Booster) iterationEnd() int {
	if b.best < 0 {
		return 0
	}
	return b.best + 1
}

// Load reads a model saved by Save (or by Python's save_model/save_raw, in
// JSON or UBJSON) and sets nthread, 0 meaning runtime.NumCPU().
func Load(model []byte, nthread int) (*Booster, error) {
	const op = "load model"
	if len(model) == 0 {
		return nil, churn.Invalid("xgboost "+op, "model", "is empty")
	}
	if nthread < 0 {
		return nil, churn.Invalid("xgboost "+op, "nthread", "must be >= 0, got %d", nthread)
	}
	if nthread == 0 {
		nthread = runtime.NumCPU()
	}
	b, err := newBooster(op, nil)
	if err != nil {
		return nil, err
	}
	err = b.do(op, func(h C.BoosterHandle) error {
		// XGBoost parses the buffer during the call and keeps nothing of it.
		if err := lastError("XGBoosterLoadModelFromBuffer",
			C.XGBoosterLoadModelFromBuffer(h, unsafe.Pointer(&model[0]), C.bst_ulong(len(model)))); err != nil {
			return wrap(op, churn.KindInvalid, err)
		}
		if err := setParam(h, "nthread", strconv.Itoa(nthread)); err != nil {
			return wrap(op, churn.KindInternal, err)
		}
		var rounds C.int
		if err := lastError("XGBoosterBoostedRounds", C.XGBoosterBoostedRounds(h, &rounds)); err != nil {
			return wrap(op, churn.KindInternal, err)
		}
		b.rounds = int(rounds)
		var nf C.bst_ulong
		if err := lastError("XGBoosterGetNumFeature", C.XGBoosterGetNumFeature(h, &nf)); err != nil {
			return wrap(op, churn.KindInternal, err)
		}
		b.features = int(nf)
		return b.loadBest(op, h)
	})
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// loadBest restores the early-stopping result from the model's attributes.
func (b *Booster) loadBest(op string, h C.BoosterHandle) error {
	b.bestScore = math.NaN()
	it, ok, err := getAttr(h, "best_iteration")
	if err != nil || !ok {
		return wrap(op, churn.KindInternal, err)
	}
	best, perr := strconv.Atoi(it)
	if perr != nil || best < 0 || best >= b.rounds {
		return churn.Invalid("xgboost "+op, "best_iteration", "attribute %q is not a round of a %d-round model", it, b.rounds)
	}
	b.best = best
	if s, ok, err := getAttr(h, "best_score"); err != nil {
		return wrap(op, churn.KindInternal, err)
	} else if ok {
		if v, perr := strconv.ParseFloat(s, 64); perr == nil {
			b.bestScore = v
		}
	}
	return nil
}

// Save returns the model in format "json" or "ubj" (universal binary JSON,
// smaller). Both load with Load and with Python's xgboost 1.7.
func (b *Booster) Save(format string) ([]byte, error) {
	const op = "save model"
	if format != "json" && format != "ubj" {
		return nil, churn.Invalid("xgboost "+op, "format", "must be json or ubj, got %q", format)
	}
	cfg, _ := json.Marshal(map[string]string{"format": format})
	ccfg := C.CString(string(cfg))
	defer C.free(unsafe.Pointer(ccfg))
	var out []byte
	err := b.do(op, func(h C.BoosterHandle) error {
		var n C.bst_ulong
		var p *C.char
		if err := lastError("XGBoosterSaveModelToBuffer", C.XGBoosterSaveModelToBuffer(h, ccfg, &n, &p)); err != nil {
			return wrap(op, churn.KindInternal, err)
		}
		// The buffer is XGBoost's thread-local storage: copy before the next call.
		out = C.GoBytes(unsafe.Pointer(p), C.int(n))
		return nil
	})
	return out, err
}

// SetFeatureNames names the model's features; they are saved with the model
// and Python checks them against a DMatrix's feature names. Names must be
// non-empty and unique, one per feature.
func (b *Booster) SetFeatureNames(names []string) error {
	const op = "set feature names"
	return b.do(op, func(h C.BoosterHandle) error {
		return setFeatureNames(op, h, b.features, names)
	})
}

func setFeatureNames(op string, h C.BoosterHandle, numFeatures int, names []string) error {
	if len(names) != numFeatures {
		return churn.Invalid("xgboost "+op, "feature_names", "has %d names for %d features", len(names), numFeatures)
	}
	seen := make(map[string]int, len(names))
	for i, n := range names {
		if n == "" {
			return churn.Invalid("xgboost "+op, "feature_names", "name %d is empty", i)
		}
		if j, dup := seen[n]; dup {
			return churn.Invalid("xgboost "+op, "feature_names", "%q is both name %d and name %d", n, j, i)
		}
		seen[n] = i
	}
	field := C.CString("feature_name")
	defer C.free(unsafe.Pointer(field))
	// A Go slice of C pointers may be passed to C: it holds no Go pointers.
	cnames := make([]*C.char, len(names))
	for i, n := range names {
		cnames[i] = C.CString(n)
	}
	defer func() {
		for _, p := range cnames {
			C.free(unsafe.Pointer(p))
		}
	}()
	var ptr **C.char
	if len(cnames) > 0 {
		ptr = &cnames[0]
	}
	err := lastError("XGBoosterSetStrFeatureInfo", C.XGBoosterSetStrFeatureInfo(h, field, ptr, C.bst_ulong(len(cnames))))
	return wrap(op, churn.KindInvalid, err)
}

// FeatureNames returns the names set on the model, nil when it has none.
func (b *Booster) FeatureNames() ([]string, error) {
	const op = "get feature names"
	field := C.CString("feature_name")
	defer C.free(unsafe.Pointer(field))
	var names []string
	err := b.do(op, func(h C.BoosterHandle) error {
		var n C.bst_ulong
		var out **C.char
		if err := lastError("XGBoosterGetStrFeatureInfo", C.XGBoosterGetStrFeatureInfo(h, field, &n, &out)); err != nil {
			return wrap(op, churn.KindInternal, err)
		}
		if n == 0 {
			return nil
		}
		for _, p := range unsafe.Slice(out, int(n)) {
			names = append(names, C.GoString(p))
		}
		return nil
	})
	return names, err
}

// NumFeatures returns the number of features the model was trained on;
// predictions take matrices with exactly that many columns.
func (b *Booster) NumFeatures() int { return b.features }

// checkCols rejects a matrix whose width is not the model's: XGBoost would
// fail on a wider one and silently treat the missing columns of a narrower
// one as missing values.
func (b *Booster) checkCols(op string, cols int) error {
	if cols != b.features {
		return churn.Invalid("xgboost "+op, "cols", "matrix has %d columns, the model takes %d features", cols, b.features)
	}
	return nil
}

func setParam(h C.BoosterHandle, name, value string) error {
	cn, cv := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cv))
	return lastError("XGBoosterSetParam", C.XGBoosterSetParam(h, cn, cv))
}

func setAttr(h C.BoosterHandle, key, value string) error {
	ck, cv := C.CString(key), C.CString(value)
	defer C.free(unsafe.Pointer(ck))
	defer C.free(unsafe.Pointer(cv))
	return lastError("XGBoosterSetAttr", C.XGBoosterSetAttr(h, ck, cv))
}

func getAttr(h C.BoosterHandle, key string) (string, bool, error) {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	var out *C.char
	var ok C.int
	if err := lastError("XGBoosterGetAttr", C.XGBoosterGetAttr(h, ck, &out, &ok)); err != nil {
		return "", false, err
	}
	if ok == 0 {
		return "", false, nil
	}
	return C.GoString(out), true, nil
}
