package xgboost

/*
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <xgboost/c_api.h>

// churn_qiter hands one dense row-major batch, held in C memory, to
// XGQuantileDMatrixCreateFromCallback through a proxy DMatrix.
typedef struct {
	DMatrixHandle proxy;
	const float *data;
	unsigned long long rows, cols;
	const float *label, *weight, *margin; // NULL when absent
	int done;   // the batch was handed over since the last reset
	int failed; // a setter failed; XGBGetLastError says why
} churn_qiter;

static void churn_qreset(DataIterHandle h) { ((churn_qiter *)h)->done = 0; }

// churn_qnext returns 1 when it handed over the batch and 0 at the end (or
// when a setter failed: the caller checks failed).
static int churn_qnext(DataIterHandle h) {
	churn_qiter *it = (churn_qiter *)h;
	if (it->done || it->failed) return 0;
	it->done = 1;
	char iface[256];
	snprintf(iface, sizeof iface,
		"{\"data\": [%llu, true], \"shape\": [%llu, %llu], \"typestr\": \"<f4\", \"version\": 3}",
		(unsigned long long)(uintptr_t)it->data, it->rows, it->cols);
	if (XGProxyDMatrixSetDataDense(it->proxy, iface) != 0 ||
		(it->label && XGDMatrixSetFloatInfo(it->proxy, "label", it->label, it->rows) != 0) ||
		(it->weight && XGDMatrixSetFloatInfo(it->proxy, "weight", it->weight, it->rows) != 0) ||
		(it->margin && XGDMatrixSetFloatInfo(it->proxy, "base_margin", it->margin, it->rows) != 0)) {
		it->failed = 1;
		return 0;
	}
	return 1;
}

// churn_quantile_dmatrix builds the quantile DMatrix of it's batch.
static int churn_quantile_dmatrix(churn_qiter *it, const char *config, DMatrixHandle *out) {
	if (XGProxyDMatrixCreate(&it->proxy) != 0) return -1;
	int rc = XGQuantileDMatrixCreateFromCallback(it, it->proxy, NULL, churn_qreset, churn_qnext, config, out);
	if (rc == 0 && it->failed) {
		XGDMatrixFree(*out);
		rc = -1;
	}
	XGDMatrixFree(it->proxy);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/telcoretain/churn"
)

// NewQuantileDMatrixFromColumns builds the matrix the "hist" tree method
// trains on, from column slices as NewDMatrixFromColumns takes them:
// XGBoost's QuantileDMatrix, which keeps each value's histogram bin (one byte
// with up to 256 bins) instead of a copy of the values as (index, value)
// pairs of 8 bytes, as a DMatrix does. At a million rows of 69 features that
// is about 70 MB instead of 550 MB besides the bins, during the whole fit.
//
// maxBin must be the booster's max_bin (Params.MaxBin): the bins are cut
// here. The matrix is for training with tree method "hist" only: XGBoost
// cannot predict from bins, so predictions and evaluation sets take a
// DMatrix.
func NewQuantileDMatrixFromColumns(cols [][]float32, maxBin int, o MatrixOptions) (*DMatrix, error) {
	const op = "new quantile dmatrix"
	rows, err := columnRows("xgboost "+op, cols)
	if err != nil {
		return nil, err
	}
	if err := validateInfo(op, rows, o); err != nil {
		return nil, err
	}
	if maxBin < 2 {
		return nil, churn.Invalid("xgboost "+op, "max_bin", "must be >= 2, got %d", maxBin)
	}
	if rows == 0 {
		return nil, churn.Invalid("xgboost "+op, "rows", "no rows to train on")
	}
	// Everything the iterator hands over lives in C memory: XGBoost reads it
	// from C callbacks, where Go pointers may not be kept.
	it := (*C.churn_qiter)(C.calloc(1, C.size_t(unsafe.Sizeof(C.churn_qiter{}))))
	if it == nil {
		return nil, churn.Errorf(churn.KindInternal, "xgboost "+op, "cannot allocate the iterator")
	}
	defer C.free(unsafe.Pointer(it))
	buf := cFloats(rows * len(cols))
	if buf == nil {
		return nil, churn.Errorf(churn.KindInternal, "xgboost "+op, "cannot allocate %d floats", rows*len(cols))
	}
	defer C.free(unsafe.Pointer(buf))
	interleave(unsafe.Slice((*float32)(unsafe.Pointer(buf)), rows*len(cols)), cols)
	it.data, it.rows, it.cols = buf, C.ulonglong(rows), C.ulonglong(len(cols))
	for _, info := range []struct {
		src []float32
		dst **C.float
	}{{o.Labels, &it.label}, {o.Weights, &it.weight}, {o.BaseMargin, &it.margin}} {
		if info.src == nil {
			continue
		}
		p := cFloats(rows)
		if p == nil {
			return nil, churn.Errorf(churn.KindInternal, "xgboost "+op, "cannot allocate %d floats", rows)
		}
		defer C.free(unsafe.Pointer(p))
		copy(unsafe.Slice((*float32)(unsafe.Pointer(p)), rows), info.src)
		*info.dst = p
	}
	config := C.CString(fmt.Sprintf(`{"missing": NaN, "nthread": %d, "max_bin": %d}`, o.threads(), maxBin))
	defer C.free(unsafe.Pointer(config))
	var h C.DMatrixHandle
	if err := callLocked("XGQuantileDMatrixCreateFromCallback", func() C.int {
		return C.churn_quantile_dmatrix(it, config, &h)
	}); err != nil {
		return nil, wrap(op, churn.KindInvalid, err)
	}
	return ownDMatrix(h, rows, len(cols)), nil
}

// cFloats allocates n floats in C memory (nil when it cannot); the caller
// frees them.
func cFloats(n int) *C.float {
	return (*C.float)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.float(0)))))
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

// NewFitMatrixFromColumns builds the matrix Train fits a booster with
// parameters p on: a quantile matrix (NewQuantileDMatrixFromColumns) when
// it grows trees (booster gbtree or dart) with tree method "hist", with its
// max_bin, and a DMatrix otherwise ("approx" and "exact" read the values,
// and so does gblinear). Parameters set in p.Extra count as they do on the
// booster.
func NewFitMatrixFromColumns(p Params, cols [][]float32, o MatrixOptions) (*DMatrix, error) {
	if b := p.value("booster"); p.value("tree_method") != "hist" || (b != "" && b != "gbtree" && b != "dart") {
		return NewDMatrixFromColumns(cols, o)
	}
	maxBin, err := strconv.Atoi(strings.TrimSpace(p.value("max_bin")))
	if err != nil {
		return nil, churn.Invalid("xgboost new quantile dmatrix", "max_bin", "is not a whole number: %q", p.value("max_bin"))
	}
	return NewQuantileDMatrixFromColumns(cols, maxBin, o)
}
