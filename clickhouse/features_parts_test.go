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

func TestSnapshotInPartsEqualsTheSnapshotInOneQuery(t *testing.T) {
	ctx := context.Background()
	one, cfg := chtest.NewDB(t)
	sc := synth.DefaultConfig()
	sc.Customers, sc.Months, sc.Seed = 1500, 8, 11
	seed(t, one, sc)
	if cfg.SnapshotParts != 0 {
		t.Fatalf("the test database's client runs snapshots in %d parts; the default must be automatic", cfg.SnapshotParts)
	}
	// 1,500 customers are too few for the automatic choice to split.
	cfg.SnapshotParts = 1
	single, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	cfg.SnapshotParts = 3
	three, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer three.Close()

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
		split := computeAt(t, three, spec)
		if whole.Matrix.Rows() < 1000 {
			t.Fatalf("as of %s only %d customers: too few to compare", asOf.Format(time.DateOnly), whole.Matrix.Rows())
		}
		for _, d := range matrixDiff(split.Matrix, whole.Matrix) {
			t.Errorf("as of %s, three parts vs one query: %s", asOf.Format(time.DateOnly), d)
		}
		if whole.Labeled != split.Labeled {
			t.Errorf("as of %s labelled %v in one query, %v in parts", asOf.Format(time.DateOnly), whole.Labeled, split.Labeled)
		}
		if progressed == 0 {
			t.Errorf("as of %s the parts reported no progress", asOf.Format(time.DateOnly))
		}
	}
}
