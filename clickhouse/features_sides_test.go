package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/features"
)

// TestSnapshotIsTheSameWithOneOrSevenSideQueriesAtOnce computes snapshots with
// the sides run one at a time and all at once (--snapshot-queries): the
// matrices must be identical, and the concurrent run must report progress.
func TestSnapshotIsTheSameWithOneOrSevenSideQueriesAtOnce(t *testing.T) {
	ctx := context.Background()
	one, cfg := chtest.NewDB(t)
	sc := synth.DefaultConfig()
	sc.Customers, sc.Months, sc.Seed = 1500, 8, 11
	seed(t, one, sc)
	if cfg.SnapshotQueries != 0 {
		t.Fatalf("the test database's client runs %d side queries at once; the default must be features.DefaultSnapshotQueries", cfg.SnapshotQueries)
	}
	cfg.SnapshotQueries = 1
	single, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	cfg.SnapshotQueries = 7
	all, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()

	_, last, err := one.UsageRange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	end := features.DataEnd(last)
	// A labelled snapshot in the middle of the data and the unlabelled one
	// at its end, as training and scoring compute them.
	for _, asOf := range []time.Time{end.AddDate(0, -3, 0), end} {
		spec := features.Spec{AsOf: asOf, DataEnd: end}
		var progressed int64
		whole := computeAt(t, single, spec)
		spec.Progress = func(done, _ int64) { progressed = done }
		split := computeAt(t, all, spec)
		if whole.Matrix.Rows() < 1000 {
			t.Fatalf("as of %s only %d customers: too few to compare", asOf.Format(time.DateOnly), whole.Matrix.Rows())
		}
		for _, d := range matrixDiff(split.Matrix, whole.Matrix) {
			t.Errorf("as of %s, seven side queries at once vs one: %s", asOf.Format(time.DateOnly), d)
		}
		if whole.Labeled != split.Labeled {
			t.Errorf("as of %s labelled %v one at a time, %v all at once", asOf.Format(time.DateOnly), whole.Labeled, split.Labeled)
		}
		if progressed == 0 {
			t.Errorf("as of %s the sides reported no progress", asOf.Format(time.DateOnly))
		}
	}
}
