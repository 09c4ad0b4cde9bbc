package xgboost

/*
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <xgboost/c_api.h>

// churn_qiter hands the rows to XGQuantileDMatrixCreateFromCallback
// through a proxy DMatrix, a batch at a time: each call of next writes the
// next batch's rows, row-major, into buf (C memory, batch x ncols floats)
// from the columns, which stay where they are (Go memory pinned for the
// call). XGBoost reads the rows four times (counts, sketch, bins, column
// index); a batch is read before the next one overwrites it.
typedef struct {
	DMatrixHandle proxy;
	const float *const *cols; // ncols columns of rows floats each
	unsigned long long rows, ncols, batch, pos;
	float *buf;
	const float *label, *weight, *margin; // rows floats each; NULL when absent
	int failed; // a setter failed; XGBGetLastError says why
} churn_qiter;

static void churn_qreset(DataIterHandle h) { ((churn_qiter *)h)->pos = 0; }

// churn_qnext returns 1 when it handed over a batch and 0 at the end (or
// when a setter failed: the caller checks failed).
static int churn_qnext(DataIterHandle h) {
	churn_qiter *it = (churn_qiter *)h;
	if (it->failed || it->pos >= it->rows) return 0;
	unsigned long long from = it->pos, n = it->rows - from;
	if (n > it->batch) n = it->batch;
	for (unsigned long long i = 0; i < n; i++) {
		float *row = it->buf + i * it->ncols;
		for (unsigned long long j = 0; j < it->ncols; j++) row[j] = it->cols[j][from + i];
	}
	char iface[256];
	snprintf(iface, sizeof iface,
		"{\"data\": [%llu, true], \"shape\": [%llu, %llu], \"typestr\": \"<f4\", \"version\": 3}",
		(unsigned long long)(uintptr_t)it->buf, n, it->ncols);
	if (XGProxyDMatrixSetDataDense(it->proxy, iface) != 0 ||
		(it->label && XGDMatrixSetFloatInfo(it->proxy, "label", it->label + from, n) != 0) ||
		(it->weight && XGDMatrixSetFloatInfo(it->proxy, "weight", it->weight + from, n) != 0) ||
		(it->margin && XGDMatrixSetFloatInfo(it->proxy, "base_margin", it->margin + from, n) != 0)) {
		it->failed = 1;
		return 0;
	}
	it->pos = from + n;
	return 1;
}

// churn_quantile_dmatrix builds the quantile DMatrix of it's rows.
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
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/telcoretain/churn"
)

// quantileBatchRows is how many rows NewQuantileDMatrixFromColumns hands
// XGBoost at a time: 65,536 rows of 69 features are an 18 MB batch.
// XGBoost sketches and bins the batches in turn, with the same cuts as one
// batch of every row (TestQuantileDMatrixCutsTheSameBinsInBatches).
var quantileBatchRows = 1 << 16

// NewQuantileDMatrixFromColumns builds the matrix the "hist" tree method
// trains on, from column slices as NewDMatrixFromColumns takes them:
// XGBoost's QuantileDMatrix, which keeps each value's histogram bin (one byte
// with up to 256 bins) instead of a copy of the values as (index, value)
// pairs of 8 bytes, as a DMatrix does. At a million rows of 69 features that
// is about 70 MB instead of 550 MB besides the bins, during the whole fit.
// The rows go to XGBoost a batch of quantileBatchRows at a time, read in
// place from the columns, so that no row-major copy of the matrix is made.
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
	// The iterator is C memory and so is the batch it writes; it reads the
	// columns, labels, weights and margins in place, pinned for the call
	// (a row-major copy of every row at once, as session 30 made, is 276 MB
	// at a million rows of 69 features). The pins go last, after the C
	// memory that holds the pointers is freed.
	var pin runtime.Pinner
	defer pin.Unpin()
	it := (*C.churn_qiter)(C.calloc(1, C.size_t(unsafe.Sizeof(C.churn_qiter{}))))
	if it == nil {
		return nil, churn.Errorf(churn.KindInternal, "xgboost "+op, "cannot allocate the iterator")
	}
	defer C.free(unsafe.Pointer(it))
	batch := max(1, min(rows, quantileBatchRows))
	buf := cFloats(batch * len(cols))
	ptrs := (**C.float)(C.calloc(C.size_t(len(cols)), C.size_t(unsafe.Sizeof((*C.float)(nil)))))
	defer C.free(unsafe.Pointer(buf))
	defer C.free(unsafe.Pointer(ptrs))
	if buf == nil || ptrs == nil {
		return nil, churn.Errorf(churn.KindInternal, "xgboost "+op, "cannot allocate a batch of %d rows", batch)
	}
	pinned := func(v []float32) *C.float {
		if v == nil {
			return nil
		}
		pin.Pin(&v[0])
		return (*C.float)(unsafe.Pointer(&v[0]))
	}
	colPtrs := unsafe.Slice(ptrs, len(cols))
	for j, c := range cols {
		colPtrs[j] = pinned(c)
	}
	it.cols, it.buf = ptrs, buf
	it.rows, it.ncols, it.batch = C.ulonglong(rows), C.ulonglong(len(cols)), C.ulonglong(batch)
	it.label, it.weight, it.margin = pinned(o.Labels), pinned(o.Weights), pinned(o.BaseMargin)
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
