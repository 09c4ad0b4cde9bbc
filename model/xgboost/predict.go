package xgboost

// #include <stdlib.h>
// #include <xgboost/c_api.h>
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/telcoretain/churn"
)

// Prediction types of XGBoosterPredictFromDMatrix's "type" field.
const (
	predictValue   = 0
	predictMargin  = 1
	predictContrib = 2
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

// predict runs one prediction of the given type, expecting width values per
// row, and copies the result out of XGBoost's buffer.
func (b *Booster) predict(op string, d *DMatrix, typ, width int) ([]float32, error) {
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
		n := 1
		for _, s := range unsafe.Slice(shape, int(dim)) {
			n *= int(s)
		}
		if n != d.rows*width {
			return churn.Errorf(churn.KindInternal, "xgboost "+op,
				"XGBoost returned %d values for %d rows, want %d per row (is the objective multi-output?)", n, d.rows, width)
		}
		// res points into the booster's thread-local buffer, which the next
		// call on this thread overwrites: this copy is the only one.
		out = make([]float32, n)
		if n > 0 {
			copy(out, unsafe.Slice((*float32)(unsafe.Pointer(res)), n))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
