package model

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/telcoretain/churn/model/xgboost"
)

// xgboostModel trains a small XGBoost model on synthetic data.
func xgboostModel(t *testing.T) *Model {
	t.Helper()
	m := synthMatrix(2000, 41)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	res, err := TrainCV(context.Background(), m, cats, Options{Folds: 3, Seed: 3, Candidates: Candidates(2)[5:6]})
	if err != nil {
		t.Fatal(err)
	}
	if res.Best.Algorithm != AlgoXGBoost {
		t.Fatalf("candidate is %s, want xgboost", res.Best.Algorithm)
	}
	t.Cleanup(func() { res.Best.Close() })
	return res.Best
}

// TestMarginsInChunksEqualOnePrediction predicts more rows than a chunk
// holds: the chunks' margins are those of one XGBoost call over every row.
func TestMarginsInChunksEqualOnePrediction(t *testing.T) {
	mdl := xgboostModel(t)
	small := synthMatrix(997, 43)
	idx := make([]int, 2*predictChunk+123)
	for i := range idx {
		idx[i] = (i * 7) % small.Rows()
	}
	x := Subset(small, idx)
	got, err := mdl.Margins(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	d, err := xgboost.NewDMatrixFromColumns(x.Cols, xgboost.MatrixOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want, err := mdl.booster.PredictMargin(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d margins, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != float64(want[i]) {
			t.Fatalf("row %d: margin %v in chunks, %v in one call", i, got[i], want[i])
		}
	}
}

// stopAfter is a context that ends after its Err has answered nil n times:
// a cancellation that arrives between two chunks.
type stopAfter struct {
	context.Context
	n atomic.Int32
}

func (s *stopAfter) Err() error {
	if s.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestPredictionAndReasonsStopWhenTheContextEnds: scoring a million
// customers spends seconds in prediction and in the reasons' walk, and a
// stopped run must end within 5 s, so both stop once their context ends.
func TestPredictionAndReasonsStopWhenTheContextEnds(t *testing.T) {
	mdl := xgboostModel(t)
	x := Subset(synthMatrix(500, 47), make([]int, 3*predictChunk))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	if _, err := mdl.Predict(&stopAfter{Context: context.Background()}, x); !errors.Is(err, context.Canceled) {
		t.Errorf("predict with a context ended before the first chunk: %v", err)
	}
	s := &stopAfter{Context: context.Background()}
	s.n.Store(2)
	if _, err := mdl.Predict(s, x); !errors.Is(err, context.Canceled) {
		t.Errorf("predict with a context ended after two of three chunks: %v", err)
	}
	if _, err := mdl.Contributions(cancelled, x, false); !errors.Is(err, context.Canceled) {
		t.Errorf("the reasons' walk with an ended context: %v", err)
	}
	if _, err := mdl.Contributions(cancelled, x, true); !errors.Is(err, context.Canceled) {
		t.Errorf("exact contributions with an ended context: %v", err)
	}
	s = &stopAfter{Context: context.Background()}
	s.n.Store(3)
	if p, err := mdl.Predict(s, x); err != nil || len(p) != x.Rows() {
		t.Errorf("predict with a context that lasts three chunks: %d rows, %v", len(p), err)
	}
}

// BenchmarkMarginsChunkedVsOneCall prices the chunks that make prediction
// stoppable: 300,000 rows in predictChunk chunks against one XGBoost call.
func BenchmarkMarginsChunkedVsOneCall(b *testing.B) {
	m := synthMatrix(2000, 41)
	res, err := TrainCV(context.Background(), m, map[string][]string{"plan": {"basic", "standard", "unlimited"}},
		Options{Folds: 3, Seed: 3, Candidates: Candidates(2)[5:6]})
	if err != nil {
		b.Fatal(err)
	}
	defer res.Best.Close()
	mdl := res.Best
	small := synthMatrix(997, 43)
	idx := make([]int, 300_000)
	for i := range idx {
		idx[i] = (i * 7) % small.Rows()
	}
	x := Subset(small, idx)
	b.Run("chunks", func(b *testing.B) {
		for b.Loop() {
			if _, err := mdl.Margins(context.Background(), x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-call", func(b *testing.B) {
		for b.Loop() {
			d, err := xgboost.NewDMatrixFromColumns(x.Cols, xgboost.MatrixOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := mdl.booster.PredictMargin(d); err != nil {
				b.Fatal(err)
			}
			d.Close()
		}
	})
}
