package xgboost

import (
	"context"
	"math"
	"runtime"
	"testing"
	"time"
)

// saabasPairs is how many samples of each side BenchmarkSaabasGoVsXGBoost
// takes, the two sides alternating.
const saabasPairs = 3

// BenchmarkSaabasGoVsXGBoost computes the reason-code contributions of
// 200,000 rows x 60 features with a 300-tree depth-6 model (eta 0.1) both
// ways, from matrix columns as scoring holds them (churn.Matrix.Cols): in Go
// with Forest.Contribs (the forest built once beforehand, as a loaded model
// keeps it), and in XGBoost with NewDMatrixFromColumns and ContribsApprox,
// which batch scoring used before. The sides alternate saabasPairs times on
// the same booster and rows and must agree within 1e-5.
//
// It reports ns per row of each side (fastest sample, wall time, all cores),
// xgboost/go on wall time and, steadier on a shared machine, on CPU time
// (all threads, least costly sample): the target of `make bench`.
func BenchmarkSaabasGoVsXGBoost(b *testing.B) {
	const rows, cols, trees = 200_000, 60, 300
	p := benchParams()
	train := benchMatrix(b, synth(1011, 20_000, cols, 1, 0.05))
	bst, err := Train(context.Background(), train, p, TrainOptions{Rounds: trees})
	train.Close()
	if err != nil {
		b.Fatal(err)
	}
	defer bst.Close()
	start := time.Now()
	f, err := bst.Forest()
	if err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	x := synth(1012, rows, cols, 1, 0.05).columns()
	goBest, xgbBest := math.Inf(1), math.Inf(1)
	goCPU, xgbCPU := math.Inf(1), math.Inf(1)
	for b.Loop() {
		for range saabasPairs {
			runtime.GC()
			cpu0, t0 := cpuTime(b), time.Now()
			got, err := f.Contribs(context.Background(), x)
			if err != nil {
				b.Fatal(err)
			}
			goBest = min(goBest, time.Since(t0).Seconds())
			goCPU = min(goCPU, (cpuTime(b) - cpu0).Seconds())

			runtime.GC()
			cpu0, t0 = cpuTime(b), time.Now()
			want := xgboostContribsApprox(b, bst, x)
			xgbBest = min(xgbBest, time.Since(t0).Seconds())
			xgbCPU = min(xgbCPU, (cpuTime(b) - cpu0).Seconds())
			for i := range rows {
				for j := range cols {
					if math.Abs(float64(got[i*cols+j]-want[i*(cols+1)+j])) > 1e-5 {
						b.Fatalf("row %d feature %d: Go %v, XGBoost %v: the sides did not compute the same", i, j, got[i*cols+j], want[i*(cols+1)+j])
					}
				}
			}
		}
	}
	ns := func(s float64) float64 { return s * 1e9 / rows }
	b.ReportMetric(rows, "rows")
	b.ReportMetric(float64(f.Trees()), "trees")
	b.ReportMetric(float64(build.Milliseconds()), "forest-build-ms")
	b.ReportMetric(ns(goBest), "go-ns/row")
	b.ReportMetric(ns(xgbBest), "xgboost-ns/row")
	b.ReportMetric(ns(goCPU), "go-cpu-ns/row")
	b.ReportMetric(ns(xgbCPU), "xgboost-cpu-ns/row")
	b.ReportMetric(xgbBest/goBest, "xgboost/go")
	b.ReportMetric(xgbCPU/goCPU, "xgboost-cpu/go-cpu")
}

// xgboostContribsApprox is the former path of batch scoring: the columns
// copied into a DMatrix, then XGBoost's Saabas contributions.
func xgboostContribsApprox(b *testing.B, bst *Booster, cols [][]float32) []float32 {
	m, err := NewDMatrixFromColumns(cols, MatrixOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	c, err := bst.ContribsApprox(m)
	if err != nil {
		b.Fatal(err)
	}
	return c
}
