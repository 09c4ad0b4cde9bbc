package xgboost

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// benchParams is the fixed configuration of the benchmarks: 100 rounds of
// depth-6 hist trees, eta 0.1, on every core.
func benchParams() Params {
	p := DefaultParams()
	p.Eta = 0.1
	p.MaxDepth = 6
	p.NThread = runtime.NumCPU()
	p.Seed = 1
	return p
}

const benchRounds = 100

func benchMatrix(b *testing.B, d dataset) *DMatrix {
	b.Helper()
	m, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{Labels: d.Y})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkTrain100kx50 trains on 100,000 x 50 and, when python3-xgboost is
// installed, trains the same parameters on the same matrix with
// scripts/xgb_python_bench.py, reporting go/python (target <= 1.2).
func BenchmarkTrain100kx50(b *testing.B) {
	d := synth(1001, 100_000, 50, 1, 0.05)
	p := benchParams()
	var total, cpu time.Duration
	for b.Loop() {
		// A fresh matrix each time: XGBoost caches its quantile sketch in the
		// DMatrix, and Python's run builds it too.
		b.StopTimer()
		m := benchMatrix(b, d)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime(b)
		bst, err := Train(context.Background(), m, p, TrainOptions{Rounds: benchRounds})
		total += time.Since(start)
		cpu += cpuTime(b) - cpu0
		if err != nil {
			b.Fatal(err)
		}
		bst.Close()
		m.Close()
	}
	goSec, goCPU := total.Seconds()/float64(b.N), cpu.Seconds()/float64(b.N)
	b.ReportMetric(goSec, "s/train")
	b.ReportMetric(goCPU, "cpu-s/train")
	py, err := pythonTrain(b, d, p)
	if err != nil {
		b.Logf("no Python comparison: %v", err)
		return
	}
	// The machine is shared, so wall time swings with other load; CPU time
	// (all threads of the process) is the steadier comparison.
	b.ReportMetric(py.Seconds, "python-s/train")
	b.ReportMetric(py.CPUSeconds, "python-cpu-s/train")
	b.ReportMetric(goSec/py.Seconds, "go/python")
	b.ReportMetric(goCPU/py.CPUSeconds, "go/python-cpu")
}

// cpuTime returns the CPU time the process has used, all threads included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type pythonResult struct {
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// pythonTrain writes d to files and times the same training in Python.
func pythonTrain(b *testing.B, d dataset, p Params) (pythonResult, error) {
	var res pythonResult
	const py = "/usr/bin/python3"
	script, err := filepath.Abs("../../scripts/xgb_python_bench.py")
	if err != nil {
		return res, err
	}
	if err := exec.Command(py, "-c", "import xgboost").Run(); err != nil {
		return res, err
	}
	dir := b.TempDir()
	writeFloats(b, filepath.Join(dir, "x.f32"), d.X)
	writeFloats(b, filepath.Join(dir, "y.f32"), d.Y)
	params := map[string]string{}
	for _, kv := range p.pairs() {
		params[kv[0]] = kv[1]
	}
	pj, _ := json.Marshal(params)
	cmd := exec.Command(py, script, "--x", filepath.Join(dir, "x.f32"), "--y", filepath.Join(dir, "y.f32"),
		"--rows", strconv.Itoa(d.Rows), "--cols", strconv.Itoa(d.Cols),
		"--params", string(pj), "--rounds", strconv.Itoa(benchRounds))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return res, err
	}
	err = json.Unmarshal(out, &res)
	return res, err
}

// benchModel trains the benchmark configuration on 20,000 rows.
func benchModel(b *testing.B) *Booster {
	b.Helper()
	m := benchMatrix(b, synth(1002, 20_000, 50, 1, 0.05))
	defer m.Close()
	bst, err := Train(context.Background(), m, benchParams(), TrainOptions{Rounds: benchRounds})
	if err != nil {
		b.Fatal(err)
	}
	return bst
}

// BenchmarkPredict scores 1,000,000 rows with a 100-tree depth-6 model
// (target >= 1,000,000 rows/s), the matrix built beforehand. Each iteration
// gets a fresh DMatrix: XGBoost caches predictions per matrix, and a second
// Predict on the same one only copies the cache.
func BenchmarkPredict(b *testing.B) {
	bst := benchModel(b)
	defer bst.Close()
	d := synth(1003, 1_000_000, 50, 1, 0.05)
	var wall, cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		m := benchMatrix(b, d)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime(b)
		if _, err := bst.Predict(m); err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		cpu += cpuTime(b) - cpu0
		m.Close()
	}
	reportRows(b, d.Rows, wall, cpu)
}

// reportRows reports rows/s of wall time and, steadier on a shared machine,
// rows per CPU-second (all threads).
func reportRows(b *testing.B, rows int, wall, cpu time.Duration) {
	n := float64(rows) * float64(b.N)
	b.ReportMetric(n/wall.Seconds(), "rows/s")
	b.ReportMetric(n/cpu.Seconds(), "rows/cpu-s")
}

// BenchmarkPredictDense scores the same 1,000,000 rows in place, without a
// DMatrix: the whole cost of scoring a matrix held in Go.
func BenchmarkPredictDense(b *testing.B) {
	bst := benchModel(b)
	defer bst.Close()
	d := synth(1003, 1_000_000, 50, 1, 0.05)
	cpu0 := cpuTime(b)
	for b.Loop() {
		if _, err := bst.PredictDense(d.X, d.Rows, d.Cols); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, d.Rows, b.Elapsed(), cpuTime(b)-cpu0)
}

// BenchmarkNewDMatrix1M copies 1,000,000 x 50 into XGBoost, the other cost
// of scoring.
func BenchmarkNewDMatrix1M(b *testing.B) {
	d := synth(1003, 1_000_000, 50, 1, 0.05)
	cpu0 := cpuTime(b)
	for b.Loop() {
		m, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{})
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
	reportRows(b, d.Rows, b.Elapsed(), cpuTime(b)-cpu0)
}

// BenchmarkContribs computes exact SHAP values for 100,000 rows (target
// < 10 s) and, as approx, Saabas contributions for the same rows.
func BenchmarkContribs(b *testing.B) {
	bst := benchModel(b)
	defer bst.Close()
	d := synth(1004, 100_000, 50, 1, 0.05)
	m := benchMatrix(b, d)
	defer m.Close()
	for _, bm := range []struct {
		name     string
		contribs func(*DMatrix) ([]float32, error)
	}{{"exact", bst.Contribs}, {"approx", bst.ContribsApprox}} {
		b.Run(bm.name, func(b *testing.B) {
			// Contributions are not cached, so the same matrix can be reused.
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, err := bm.contribs(m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/100k-rows")
			reportRows(b, d.Rows, b.Elapsed(), cpuTime(b)-cpu0)
		})
	}
}
