package xgboost

// #include <stdlib.h>
// #include <xgboost/c_api.h>
import "C"

import (
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/telcoretain/churn"
)

// MatrixOptions are the optional parts of a DMatrix.
type MatrixOptions struct {
	Labels  []float32 // one per row (0 or 1 for binary:logistic); nil when unlabeled
	Weights []float32 // one per row, finite and >= 0; nil for equal weights
	// BaseMargin is one margin (log-odds for binary:logistic) per row that
	// the trees start from instead of the global bias, so a model learns a
	// correction of another model's prediction; it applies to training and
	// prediction alike. nil for none.
	BaseMargin []float32
	NThread    int // threads used to build the matrix; 0 means runtime.NumCPU()
}

// DMatrix is XGBoost's copy of a dense float32 matrix, with optional labels
// and weights. Its C memory is freed by Close; a cleanup frees it too if the
// DMatrix is dropped without Close, but callers should not rely on that.
//
// A DMatrix may be used by concurrent predictions. Training takes it
// exclusively, because XGBoost builds its histogram index inside the matrix.
type DMatrix struct {
	mu      sync.RWMutex // write-held by Close and by training
	h       C.DMatrixHandle
	rows    int
	cols    int
	cleanup runtime.Cleanup
}

// NewDMatrix copies a row-major rows x cols matrix into XGBoost. NaN marks a
// missing value; zero is an ordinary value. The Go slice is read during the
// call only and not kept.
func NewDMatrix(data []float32, rows, cols int, o MatrixOptions) (*DMatrix, error) {
	const op = "new dmatrix"
	if rows < 0 || cols <= 0 {
		return nil, churn.Invalid("xgboost "+op, "shape", "need rows >= 0 and cols > 0, got %d x %d", rows, cols)
	}
	if len(data) != rows*cols {
		return nil, churn.Invalid("xgboost "+op, "data", "holds %d values, want rows x cols = %d x %d = %d", len(data), rows, cols, rows*cols)
	}
	if err := validateInfo(op, rows, o); err != nil {
		return nil, err
	}
	var ptr *C.float
	if len(data) > 0 {
		// Passing the Go slice directly is allowed by the cgo rules (float
		// data holds no Go pointers, and XGBoost copies it before returning),
		// and saves a copy of a matrix that can be hundreds of megabytes.
		ptr = (*C.float)(unsafe.Pointer(&data[0]))
	}
	return newDMatrix(op, ptr, rows, cols, o)
}

// columnRows returns the number of rows of column slices (cols[j][i] is
// feature j of row i), which every column must hold.
func columnRows(op string, cols [][]float32) (int, error) {
	if len(cols) == 0 {
		return 0, churn.Invalid(op, "cols", "no columns")
	}
	rows := len(cols[0])
	for j, c := range cols {
		if len(c) != rows {
			return 0, churn.Invalid(op, "cols", "column %d holds %d rows, column 0 holds %d", j, len(c), rows)
		}
	}
	return rows, nil
}

// NewDMatrixFromColumns builds a DMatrix from column slices, such as
// churn.Matrix.Cols, where cols[j][i] is feature j of row i. The columns are
// interleaved into one temporary row-major buffer in C memory.
func NewDMatrixFromColumns(cols [][]float32, o MatrixOptions) (*DMatrix, error) {
	const op = "new dmatrix"
	rows, err := columnRows("xgboost "+op, cols)
	if err != nil {
		return nil, err
	}
	if err := validateInfo(op, rows, o); err != nil {
		return nil, err
	}
	n := rows * len(cols)
	if n == 0 {
		return newDMatrix(op, nil, rows, len(cols), o)
	}
	buf := cFloats(n)
	if buf == nil {
		return nil, churn.Errorf(churn.KindInternal, "xgboost "+op, "cannot allocate %d floats", n)
	}
	defer C.free(unsafe.Pointer(buf))
	interleave(unsafe.Slice((*float32)(unsafe.Pointer(buf)), n), cols)
	return newDMatrix(op, buf, rows, len(cols), o)
}

func validateInfo(op string, rows int, o MatrixOptions) error {
	if err := finiteInfo(op, "labels", "label", o.Labels, rows); err != nil {
		return err
	}
	if o.Weights != nil {
		if len(o.Weights) != rows {
			return churn.Invalid("xgboost "+op, "weights", "holds %d values for %d rows", len(o.Weights), rows)
		}
		for i, v := range o.Weights {
			if !(v >= 0) || math.IsInf(float64(v), 0) {
				return churn.Invalid("xgboost "+op, "weights", "row %d: weight %v is not a finite number >= 0", i, v)
			}
		}
	}
	if err := finiteInfo(op, "base_margin", "margin", o.BaseMargin, rows); err != nil {
		return err
	}
	if o.NThread < 0 {
		return churn.Invalid("xgboost "+op, "nthread", "must be >= 0, got %d", o.NThread)
	}
	return nil
}

// finiteInfo checks that v, when given, holds one finite value per row.
func finiteInfo(op, field, what string, v []float32, rows int) error {
	if v == nil {
		return nil
	}
	if len(v) != rows {
		return churn.Invalid("xgboost "+op, field, "holds %d values for %d rows", len(v), rows)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return churn.Invalid("xgboost "+op, field, "row %d: %s %v is not a finite number", i, what, x)
		}
	}
	return nil
}

// threads returns the threads that build the matrix.
func (o MatrixOptions) threads() int {
	if o.NThread == 0 {
		return runtime.NumCPU()
	}
	return o.NThread
}

// ownDMatrix wraps a handle XGBoost just made: Close frees it, and so does a
// cleanup if the DMatrix is dropped without Close.
func ownDMatrix(h C.DMatrixHandle, rows, cols int) *DMatrix {
	d := &DMatrix{h: h, rows: rows, cols: cols}
	d.cleanup = runtime.AddCleanup(d, freeDMatrix, h)
	return d
}

func newDMatrix(op string, data *C.float, rows, cols int, o MatrixOptions) (*DMatrix, error) {
	var h C.DMatrixHandle
	missing := C.float(math.NaN())
	err := callLocked("XGDMatrixCreateFromMat_omp", func() C.int {
		return C.XGDMatrixCreateFromMat_omp(data, C.bst_ulong(rows), C.bst_ulong(cols), missing, &h, C.int(o.threads()))
	})
	if err != nil {
		return nil, wrap(op, churn.KindInvalid, err)
	}
	d := ownDMatrix(h, rows, cols)
	if o.Labels != nil {
		if err := d.setFloatInfo("label", o.Labels); err != nil {
			d.Close()
			return nil, wrap(op, churn.KindInvalid, err)
		}
	}
	if o.Weights != nil {
		if err := d.setFloatInfo("weight", o.Weights); err != nil {
			d.Close()
			return nil, wrap(op, churn.KindInvalid, err)
		}
	}
	if o.BaseMargin != nil {
		if err := d.setFloatInfo("base_margin", o.BaseMargin); err != nil {
			d.Close()
			return nil, wrap(op, churn.KindInvalid, err)
		}
	}
	return d, nil
}

func freeDMatrix(h C.DMatrixHandle) { C.XGDMatrixFree(h) }

func (d *DMatrix) setFloatInfo(field string, v []float32) error {
	cfield := C.CString(field)
	defer C.free(unsafe.Pointer(cfield))
	var ptr *C.float
	if len(v) > 0 {
		ptr = (*C.float)(unsafe.Pointer(&v[0]))
	}
	return callLocked("XGDMatrixSetFloatInfo", func() C.int {
		return C.XGDMatrixSetFloatInfo(d.h, cfield, ptr, C.bst_ulong(len(v)))
	})
}

// Rows returns the number of rows.
func (d *DMatrix) Rows() int { return d.rows }

// Cols returns the number of columns (features).
func (d *DMatrix) Cols() int { return d.cols }

// NonMissing returns how many values XGBoost stores, that is the values that
// are not NaN.
func (d *DMatrix) NonMissing() (int, error) {
	const op = "count non-missing"
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.h == nil {
		return 0, closedError(op, "dmatrix")
	}
	var n C.bst_ulong
	err := callLocked("XGDMatrixNumNonMissing", func() C.int { return C.XGDMatrixNumNonMissing(d.h, &n) })
	if err != nil {
		return 0, wrap(op, churn.KindInternal, err)
	}
	return int(n), nil
}

// Close frees the matrix. It waits for predictions and training that use the
// matrix, and is safe to call more than once.
func (d *DMatrix) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h == nil {
		return nil
	}
	d.cleanup.Stop()
	err := callLocked("XGDMatrixFree", func() C.int { return C.XGDMatrixFree(d.h) })
	d.h = nil
	return wrap("close dmatrix", churn.KindInternal, err)
}

// readHandle locks the matrix against Close for reading and returns its
// handle, or an error when it is closed. The caller must call d.mu.RUnlock.
func (d *DMatrix) readHandle(op string) (C.DMatrixHandle, error) {
	d.mu.RLock()
	if d.h == nil {
		d.mu.RUnlock()
		return nil, closedError(op, "dmatrix")
	}
	return d.h, nil
}

// interleave writes column slices (cols[j][i] is feature j of row i) into
// dst row by row.
func interleave(dst []float32, cols [][]float32) {
	width := len(cols)
	for j, c := range cols {
		for i, v := range c {
			dst[i*width+j] = v
		}
	}
}
