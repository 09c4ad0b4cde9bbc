package xgboost

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/telcoretain/churn"
)

// forestBlock is how many rows a worker takes at a time: their values,
// copied row-major (64 x 60 features = 15 KiB), and their contributions stay
// in L1/L2 cache while every tree walks the block, and each tree's nodes are
// read once per block rather than once per row.
const forestBlock = 64

// Contribs returns Saabas contributions for the rows of a column-major
// matrix such as churn.Matrix.Cols (cols[j][i] is feature j of row i, NaN
// missing), row-major with one value per feature: walking a row's path in
// each tree, every split credits the change of the mean value from the node
// to the child taken to its feature. A row's values plus Bias add up to its
// margin (PredictMargin).
//
// They are XGBoost's ContribsApprox without the bias column, up to float32
// rounding: a value differs from XGBoost's by a few units in the last place
// at most, because XGBoost sums each tree's credits before adding them.
// The rows are split over GOMAXPROCS goroutines; the columns are read in
// place, with no DMatrix.
func (f *Forest) Contribs(cols [][]float32) ([]float32, error) {
	const op = "xgboost forest contributions"
	if len(cols) != f.features {
		return nil, churn.Invalid(op, "cols", "matrix has %d columns, the model takes %d features", len(cols), f.features)
	}
	rows := len(cols[0])
	for j, c := range cols {
		if len(c) != rows {
			return nil, churn.Invalid(op, "cols", "column %d holds %d rows, column 0 holds %d", j, len(c), rows)
		}
	}
	out := make([]float32, rows*f.features)
	blocks := (rows + forestBlock - 1) / forestBlock
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), blocks) {
		wg.Go(func() {
			buf := make([]float32, forestBlock*f.features)
			for {
				lo := int(next.Add(1)-1) * forestBlock
				if lo >= rows {
					return
				}
				hi := min(lo+forestBlock, rows)
				f.contribsBlock(cols, lo, hi, buf, out[lo*f.features:hi*f.features])
			}
		})
	}
	wg.Wait()
	return out, nil
}

// contribsBlock adds the contributions of rows [lo, hi) to out, which holds
// exactly those rows; buf is scratch space for forestBlock rows.
func (f *Forest) contribsBlock(cols [][]float32, lo, hi int, buf, out []float32) {
	nf := f.features
	n := hi - lo
	for j, c := range cols {
		for i, v := range c[lo:hi] {
			buf[i*nf+j] = v
		}
	}
	nodes := f.nodes
	for _, root := range f.roots {
		for i := range n {
			x := buf[i*nf : (i+1)*nf]
			acc := out[i*nf : (i+1)*nf]
			nd := &nodes[root]
			for nd.left != 0 {
				v := x[nd.feature]
				next := nd.left
				// XGBoost's rule: a missing value takes the default child,
				// any other goes left iff v < cond. NaN fails every
				// comparison, so it reaches the second test.
				if !(v < nd.cond) && (v == v || nd.missingRight) {
					next++
				}
				child := &nodes[next]
				acc[nd.feature] += child.delta
				nd = child
			}
		}
	}
}
