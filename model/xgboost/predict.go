package xgboost

// #include <stdlib.h>
// #include <xgboost/c_api.h>
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/telcoretain/churn"
)

// Prediction types of XGBoosterPredictFromDMatrix's "type" field.
const (
	predictValue   = 0
	predictMargin  = 1
	predictContrib = 2
	predictApprox  = 3
)

// Predict returns one prediction per row: for binary:logistic, the
// probability of the positive class. After early stopping only rounds
// [0, BestIteration] are used. Models with one output per row (binary and
// regression objectives) are supported.
func (b *Booster) Predict(d *DMatrix) ([]float32, error) {
	return b.predict("predict", d, predictValue, 1)
}

// PredictMargin returns one untransformed score per row: for
// binary:logistic, the log-odds.
func (b *Booster) PredictMargin(d *DMatrix) ([]float32, error) {
	return b.predict("predict margin", d, predictMargin, 1)
}

// Contribs returns the SHAP value of every feature for every row, row-major
// with d.Cols()+1 values per row: one per feature, then the bias. A row's
// values add up to its PredictMargin.
func (b *Booster) Contribs(d *DMatrix) ([]float32, error) {
	return b.predict("feature contributions", d, predictContrib, d.Cols()+1)
}

// ContribsApprox returns per-feature contributions in the layout of
// Contribs, by Saabas' method: each split's change of the expected value is
// credited to its feature along the row's path. They too add up to the
// margin and rank features much like SHAP values, at a small fraction of the
// cost (exact TreeSHAP grows with leaves x depth squared per tree; on two
// cores 100,000 rows of a 100-tree depth-6 model take about 30 s exactly and
// under a second approximately), but they are not consistent: a feature's
// credit depends on where in the tree it splits. XGBoost's cost still grows
// with rows x trees x features; Forest.Contribs computes the same values in
// Go at rows x trees x depth, several times faster.
func (b *Booster) ContribsApprox(d *DMatrix) ([]float32, error) {
	return b.predict("approximate feature contributions", d, predictApprox, d.Cols()+1)
}

// predict runs one prediction of the given type, expecting width values per
// row, and copies the result out of XGBoost's buffer.
func (b *Booster) predict(op string, d *DMatrix, typ, width int) ([]float32, error) {
	if err := b.checkCols(op, d.Cols()); err != nil {
		return nil, err
	}
	dh, err := d.readHandle(op)
	if err != nil {
		return nil, err
	}
	defer d.mu.RUnlock()
	cfg := fmt.Sprintf(`{"type":%d,"training":false,"iteration_begin":0,"iteration_end":%d,"strict_shape":false}`,
		typ, b.iterationEnd())
	ccfg := C.CString(cfg)
	defer C.free(unsafe.Pointer(ccfg))
	var out []float32
	err = b.do(op, func(h C.BoosterHandle) error {
		var shape *C.bst_ulong
		var dim C.bst_ulong
		var res *C.float
		if err := lastError("XGBoosterPredictFromDMatrix",
			C.XGBoosterPredictFromDMatrix(h, dh, ccfg, &shape, &dim, &res)); err != nil {
			return wrap(op, churn.KindInvalid, err)
		}
		var err error
		out, err = copyPredictions(op, shape, dim, res, d.rows, width)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// copyPredictions checks the shape XGBoost returned and copies the values out
// of its thread-local buffer, which the next call on the booster's thread
// overwrites: this copy is the only one.
func copyPredictions(op string, shape *C.bst_ulong, dim C.bst_ulong, res *C.float, rows, width int) ([]float32, error) {
	n := 1
	for _, s := range unsafe.Slice(shape, int(dim)) {
		n *= int(s)
	}
	if n != rows*width {
		return nil, churn.Errorf(churn.KindInternal, "xgboost "+op,
			"XGBoost returned %d values for %d rows, want %d per row (is the objective multi-output?)", n, rows, width)
	}
	out := make([]float32, n)
	if n > 0 {
		copy(out, unsafe.Slice((*float32)(unsafe.Pointer(res)), n))
	}
	return out, nil
}

// PredictDense is Predict on a row-major rows x cols matrix without building
// a DMatrix: XGBoost reads the Go slice in place (NaN is missing), which
// saves the copy and its memory when scoring many rows.
func (b *Booster) PredictDense(data []float32, rows, cols int) ([]float32, error) {
	const op = "predict dense"
	if rows < 0 || cols <= 0 {
		return nil, churn.Invalid("xgboost "+op, "shape", "need rows >= 0 and cols > 0, got %d x %d", rows, cols)
	}
	if len(data) != rows*cols {
		return nil, churn.Invalid("xgboost "+op, "data", "holds %d values, want rows x cols = %d x %d = %d", len(data), rows, cols, rows*cols)
	}
	if err := b.checkCols(op, cols); err != nil {
		return nil, err
	}
	if rows == 0 {
		return []float32{}, nil
	}
	// XGBoost takes the matrix as a NumPy-style array interface, the address
	// written in JSON. Pinning is what lets C hold a Go pointer it was not
	// passed as an argument; the pin lasts until the prediction returns.
	var pin runtime.Pinner
	pin.Pin(&data[0])
	defer pin.Unpin()
	values := fmt.Sprintf(`{"data":[%d,true],"shape":[%d,%d],"typestr":"<f4","version":3}`,
		uintptr(unsafe.Pointer(&data[0])), rows, cols)
	cvalues := C.CString(values)
	defer C.free(unsafe.Pointer(cvalues))
	// Python's json writes NaN for the missing value, and XGBoost reads it.
	cfg := fmt.Sprintf(`{"type":%d,"training":false,"iteration_begin":0,"iteration_end":%d,"strict_shape":false,"missing":NaN,"cache_id":0}`,
		predictValue, b.iterationEnd())
	ccfg := C.CString(cfg)
	defer C.free(unsafe.Pointer(ccfg))
	var out []float32
	err := b.do(op, func(h C.BoosterHandle) error {
		var shape *C.bst_ulong
		var dim C.bst_ulong
		var res *C.float
		if err := lastError("XGBoosterPredictFromDense",
			C.XGBoosterPredictFromDense(h, cvalues, ccfg, nil, &shape, &dim, &res)); err != nil {
			return wrap(op, churn.KindInvalid, err)
		}
		var err error
		out, err = copyPredictions(op, shape, dim, res, rows, 1)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
