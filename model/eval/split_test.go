package eval

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

func kfoldLabels(n, positives int) []float64 {
	labels := make([]float64, n)
	// Spread the churners so they are not all at the start.
	for i := range positives {
		labels[(i*7)%n] = 1
	}
	return labels
}

func TestStratifiedKFoldPartitionsRowsAndKeepsClassRatios(t *testing.T) {
	tests := []struct{ n, positives, k int }{
		{103, 17, 5},
		{10, 5, 2},
		{1000, 40, 10},
		{9, 3, 3},
	}
	for _, tt := range tests {
		labels := kfoldLabels(tt.n, tt.positives)
		folds, err := StratifiedKFold(labels, tt.k, 42)
		if err != nil {
			t.Fatal(err)
		}
		if len(folds) != tt.k {
			t.Fatalf("%d folds, want %d", len(folds), tt.k)
		}
		inTest := make([]int, tt.n)
		var posCounts, sizes []int
		for f, fold := range folds {
			if !slices.IsSorted(fold.Test) || !slices.IsSorted(fold.Train) {
				t.Errorf("fold %d: rows not in ascending order", f)
			}
			if len(fold.Train)+len(fold.Test) != tt.n {
				t.Errorf("fold %d: %d train + %d test rows, want %d in all", f, len(fold.Train), len(fold.Test), tt.n)
			}
			pos := 0
			for _, r := range fold.Test {
				inTest[r]++
				pos += int(labels[r])
			}
			for _, r := range fold.Train {
				if _, found := slices.BinarySearch(fold.Test, r); found {
					t.Errorf("fold %d: row %d in both train and test", f, r)
				}
			}
			posCounts = append(posCounts, pos)
			sizes = append(sizes, len(fold.Test))
		}
		for r, c := range inTest {
			if c != 1 {
				t.Errorf("n=%d: row %d is in %d test parts, want 1", tt.n, r, c)
			}
		}
		if d := slices.Max(posCounts) - slices.Min(posCounts); d > 1 {
			t.Errorf("n=%d k=%d: churners per fold %v differ by %d", tt.n, tt.k, posCounts, d)
		}
		negCounts := make([]int, len(sizes))
		for i := range sizes {
			negCounts[i] = sizes[i] - posCounts[i]
		}
		if d := slices.Max(negCounts) - slices.Min(negCounts); d > 1 {
			t.Errorf("n=%d k=%d: non-churners per fold %v differ by %d", tt.n, tt.k, negCounts, d)
		}
		if d := slices.Max(sizes) - slices.Min(sizes); d > 1 {
			t.Errorf("n=%d k=%d: fold sizes %v differ by %d", tt.n, tt.k, sizes, d)
		}
	}
}

func TestStratifiedKFoldIsDeterministicForASeed(t *testing.T) {
	labels := kfoldLabels(200, 30)
	a, _ := StratifiedKFold(labels, 5, 7)
	b, _ := StratifiedKFold(labels, 5, 7)
	c, _ := StratifiedKFold(labels, 5, 8)
	same := func(x, y []Fold) bool {
		for i := range x {
			if !slices.Equal(x[i].Test, y[i].Test) {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different folds")
	}
	if same(a, c) {
		t.Error("seeds 7 and 8 gave the same folds: the seed is not used")
	}
}

func TestStratifiedKFoldRejectsTooFewRowsOfAClass(t *testing.T) {
	tests := []struct {
		name   string
		labels []float64
		k      int
		field  string
	}{
		{"k 1", kfoldLabels(20, 5), 1, "k"},
		{"fewer churners than folds", kfoldLabels(20, 2), 3, "labels"},
		{"label not 0 or 1", []float64{0, 1, 0.5, 1}, 2, "labels"},
	}
	for _, tt := range tests {
		if _, err := StratifiedKFold(tt.labels, tt.k, 1); churn.ErrorField(err) != tt.field {
			t.Errorf("%s: err %v, want a %s error", tt.name, err, tt.field)
		}
	}
}

func TestOutOfFoldPutsEachScoreOnItsRow(t *testing.T) {
	labels := kfoldLabels(50, 10)
	folds, err := StratifiedKFold(labels, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OutOfFold(context.Background(), len(labels), folds, func(_ context.Context, f Fold) ([]float64, error) {
		out := make([]float64, len(f.Test))
		for i, r := range f.Test {
			out[i] = float64(r) // the row's own index, to check placement
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, s := range got {
		if s != float64(r) {
			t.Fatalf("row %d got score %v", r, s)
		}
	}
}

func TestOutOfFoldStopsOnErrorsAndCancellation(t *testing.T) {
	folds, _ := StratifiedKFold(kfoldLabels(20, 5), 2, 1)
	boom := churn.Invalid("fit", "label", "bad")
	_, err := OutOfFold(context.Background(), 20, folds, func(context.Context, Fold) ([]float64, error) { return nil, boom })
	if !errors.Is(err, boom) || churn.ErrorKind(err) != churn.KindInvalid {
		t.Errorf("fit error: got %v, want it wrapped with its kind", err)
	}
	_, err = OutOfFold(context.Background(), 20, folds, func(context.Context, Fold) ([]float64, error) { return []float64{1}, nil })
	if err == nil {
		t.Error("wrong number of scores: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	_, err = OutOfFold(ctx, 20, folds, func(context.Context, Fold) ([]float64, error) { calls++; return nil, nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("cancelled: err %v after %d fits, want context.Canceled and none", err, calls)
	}
}

func TestTimeSplitLeavesOutRowsWhoseLabelsOverlapTheHoldout(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	dates := []time.Time{day("2025-01-01"), day("2025-02-01"), day("2025-03-01"), day("2025-03-15"), day("2025-04-01"), day("2025-04-01")}
	cutoff, err := LatestCutoff(dates)
	if err != nil || !cutoff.Equal(day("2025-04-01")) {
		t.Fatalf("LatestCutoff = %v, %v", cutoff, err)
	}
	train, test, err := TimeSplit(dates, cutoff, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// 2025-03-15 + 30 days is after the cutoff: its label would peek into
	// the holdout window, so it is in neither part. 2025-03-01 + 30 days =
	// 2025-03-31 closes in time.
	if !slices.Equal(train, []int{0, 1, 2}) || !slices.Equal(test, []int{4, 5}) {
		t.Errorf("train %v test %v, want [0 1 2] and [4 5]", train, test)
	}
	if _, _, err := TimeSplit(dates, day("2026-01-01"), 0); churn.ErrorField(err) != "cutoff" {
		t.Errorf("cutoff after all rows: err %v, want a cutoff error", err)
	}
	if _, _, err := TimeSplit(dates, day("2025-01-01"), 0); churn.ErrorField(err) != "cutoff" {
		t.Errorf("cutoff at the first row: err %v, want a cutoff error", err)
	}
}
