package xgboost

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
)

// rss returns the resident set size of the process in bytes, after a GC so
// that Go garbage does not count.
func rss(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := bytes.Fields(b)
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// threads returns the number of OS threads of the process.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Threads:")); ok {
			n, _ := strconv.Atoi(string(bytes.TrimSpace(v)))
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// checkNoGrowth runs step warmup times, then n times, and fails when the
// resident memory grew by more than limit bytes or the thread count grew
// by more than a few over the n steps. XGBoost handles are small (a 50-row
// booster is a few kilobytes of C memory), so leaking one per step would
// add tens of megabytes over 10,000 steps.
func checkNoGrowth(t *testing.T, warmup, n int, limit int64, step func(i int)) {
	t.Helper()
	for i := range warmup {
		step(i)
	}
	before, threadsBefore := rss(t), threads(t)
	for i := range n {
		step(i)
	}
	after, threadsAfter := rss(t), threads(t)
	t.Logf("%d steps: RSS %.1f -> %.1f MiB, threads %d -> %d", n, float64(before)/(1<<20), float64(after)/(1<<20), threadsBefore, threadsAfter)
	if after-before > limit {
		t.Errorf("RSS grew by %.1f MiB over %d steps, limit %.1f MiB", float64(after-before)/(1<<20), n, float64(limit)/(1<<20))
	}
	if threadsAfter > threadsBefore+16 {
		t.Errorf("threads grew from %d to %d: booster threads are not ending", threadsBefore, threadsAfter)
	}
}

func TestPredictionLoopDoesNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 predictions")
	}
	tr := synth(201, 500, 8, 1, 0.1).matrix(t)
	b := train(t, tr, smallParams(), TrainOptions{Rounds: 20})
	d := synth(202, 64, 8, 1, 0.1)
	checkNoGrowth(t, 500, 10_000, 4<<20, func(i int) {
		// A fresh matrix each time, so DMatrix handles are covered too.
		m, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []float32
		switch i % 10 {
		case 0:
			out, err = b.Contribs(m)
		case 5:
			out, err = b.PredictDense(d.X, d.Rows, d.Cols)
		default:
			out, err = b.Predict(m)
		}
		if err != nil || len(out) == 0 {
			t.Fatalf("step %d: %d values, %v", i, len(out), err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTrainingLoopDoesNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 trainings")
	}
	d := synth(203, 50, 4, 1, 0)
	p := smallParams()
	p.NThread = 2 // each booster thread starts and must end its own OpenMP team
	checkNoGrowth(t, 300, 10_000, 8<<20, func(i int) {
		m, err := NewDMatrix(d.X, d.Rows, d.Cols, MatrixOptions{Labels: d.Y})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Train(context.Background(), m, p, TrainOptions{Rounds: 2, Valid: m, EarlyStoppingRounds: 1})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if _, err := b.Predict(m); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if i%100 == 0 {
			model, err := b.Save("ubj")
			if err != nil {
				t.Fatal(err)
			}
			l, err := Load(model, 1)
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// The quantile matrix frees its proxy, its C copies of the rows, labels
// and weights, and itself on Close; a failed build frees them too.
func TestQuantileMatrixLoopDoesNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 quantile matrices")
	}
	d := synth(204, 200, 6, 1, 0.1)
	cols := d.columns()
	w := make([]float32, d.Rows)
	for i := range w {
		w[i] = 1
	}
	p := smallParams()
	checkNoGrowth(t, 300, 5_000, 8<<20, func(i int) {
		m, err := NewQuantileDMatrixFromColumns(cols, p.MaxBin, MatrixOptions{Labels: d.Y, Weights: w})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if i%10 == 0 {
			b, err := Train(context.Background(), m, p, TrainOptions{Rounds: 2})
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			b.Close()
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
