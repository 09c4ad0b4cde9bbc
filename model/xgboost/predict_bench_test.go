package xgboost

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// predictPairs is how many samples of each side BenchmarkPredictVsPython
// takes, Go and Python alternating.
const predictPairs = 5

// BenchmarkPredictVsPython scores 1,000,000 rows x 50 with a 100-tree depth-6
// model in Go and in python3-xgboost (same libxgboost, same booster, same
// rows, same threads), each side timed from its natural input to the
// predictions: Go from matrix columns as scoring holds them (churn.Matrix.Cols)
// through NewDMatrixFromColumns and Predict, Python from a numpy array through
// xgboost.DMatrix and predict (scripts/xgb_python_bench.py --predict).
//
// The machine may be shared, so the sides alternate predictPairs times. The
// target (<= 1.1) is on go-cpu/python-cpu, the CPU seconds (all threads) of
// the least costly sample of each side: on a machine loaded many times over
// its cores, wall time measures the share of the CPU a sample happened to
// get, CPU time the work it did. go/python, the same on wall time (fastest
// of each), and the rows/s of each side are reported beside it: the issue's
// absolute 1,000,000 rows/s holds only on an idle machine.
func BenchmarkPredictVsPython(b *testing.B) {
	bst := benchModel(b)
	defer bst.Close()
	d := synth(1003, 1_000_000, 50, 1, 0.05)
	cols := d.columns()
	dir, err := writeBenchData(b, d)
	if err != nil {
		b.Fatal(err)
	}
	saved, err := bst.Save("json")
	if err != nil {
		b.Fatal(err)
	}
	modelPath := filepath.Join(dir, "model.json")
	if err := os.WriteFile(modelPath, saved, 0o600); err != nil {
		b.Fatal(err)
	}
	threads := strconv.Itoa(runtime.NumCPU())
	goBest, pyBest := math.Inf(1), math.Inf(1)
	goCPU, pyCPU := math.Inf(1), math.Inf(1)
	var goMatrix, pyMatrix float64
	for b.Loop() {
		for range predictPairs {
			cpu0 := cpuTime(b)
			s, ms, mean := goPredictSeconds(b, bst, cols)
			goCPU = min(goCPU, (cpuTime(b) - cpu0).Seconds())
			if s < goBest {
				goBest, goMatrix = s, ms
			}
			py, err := runBenchScript(dir, d, "--predict", modelPath, "--nthread", threads)
			if err != nil {
				b.Fatal(err)
			}
			if math.Abs(py.MeanPrediction-mean) > 1e-5 {
				b.Fatalf("mean prediction: Go %v, Python %v: the sides did not predict the same", mean, py.MeanPrediction)
			}
			pyCPU = min(pyCPU, py.CPUSeconds)
			if py.Seconds < pyBest {
				pyBest, pyMatrix = py.Seconds, py.DMatrixSeconds
			}
		}
	}
	b.ReportMetric(float64(d.Rows), "rows")
	b.ReportMetric(float64(bst.Rounds()), "trees")
	b.ReportMetric(float64(d.Rows)/goBest, "go-rows/s")
	b.ReportMetric(float64(d.Rows)/pyBest, "python-rows/s")
	b.ReportMetric(goMatrix, "go-dmatrix-s")
	b.ReportMetric(pyMatrix, "python-dmatrix-s")
	b.ReportMetric(goBest/pyBest, "go/python")
	b.ReportMetric(goCPU, "go-cpu-s")
	b.ReportMetric(pyCPU, "python-cpu-s")
	b.ReportMetric(goCPU/pyCPU, "go-cpu/python-cpu")
}

// goPredictSeconds times building the DMatrix from cols and predicting, and
// returns the whole time, the matrix's part and the mean prediction.
func goPredictSeconds(b *testing.B, bst *Booster, cols [][]float32) (total, matrix, mean float64) {
	start := time.Now()
	m, err := NewDMatrixFromColumns(cols, MatrixOptions{})
	if err != nil {
		b.Fatal(err)
	}
	built := time.Now()
	p, err := bst.Predict(m)
	total = time.Since(start).Seconds()
	m.Close()
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	for _, v := range p {
		sum += float64(v)
	}
	return total, built.Sub(start).Seconds(), sum / float64(len(p))
}
