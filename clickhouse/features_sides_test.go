package clickhouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/features"
)

// TestSnapshotIsTheSameWithOneOrSevenSideQueriesAtOnce computes snapshots with
// the sides run one at a time and all at once (--snapshot-queries): the
// matrices must be identical, and the concurrent run must report progress.
func TestSnapshotIsTheSameWithOneOrSevenSideQueriesAtOnce(t *testing.T) {
	ctx := context.Background()
	one, cfg := seededDB(t, 1500, 8, 11)
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

// tableOnly is the client without its QueryColumns, so that RawSnapshot
// reads every side as a table and copies it into place.
type tableOnly struct{ features.Store }

// TestSidesReadIntoColumnsEqualSidesReadAsTables computes a snapshot whose
// sides are read straight into its columns, in chunks of rows (more
// customers than one chunk), and the same snapshot read as tables and
// copied: they must be identical.
func TestSidesReadIntoColumnsEqualSidesReadAsTables(t *testing.T) {
	ctx := context.Background()
	db, _ := seededDB(t, 6000, 4, 5)
	_, last, err := db.UsageRange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	asOf := features.DataEnd(last).AddDate(0, -1, 0)
	sides, params := features.SnapshotSides(asOf, features.DefaultHorizon, features.DefaultInactivity, features.Registry())
	direct, err := features.RawSnapshot(ctx, db, sides, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := features.RawSnapshot(ctx, tableOnly{db}, sides, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	if direct.Rows() <= 4096 {
		t.Fatalf("only %d customers: the sides' rows fit one chunk", direct.Rows())
	}
	for _, d := range matrixDiff(direct, copied) {
		t.Errorf("read into columns vs read as tables: %s", d)
	}
}

// TestQueryColumnsStoresRowsAtTheirKeysPositions reads a per-customer count
// into a column where only some keys have a position, and rejects a
// destination whose columns are not the query's.
func TestQueryColumnsStoresRowsAtTheirKeysPositions(t *testing.T) {
	ctx := context.Background()
	db, _ := seededDB(t, 300, 2, 3)
	want, err := db.QueryTable(ctx, "SELECT cityHash64(customer_id) AS k, count() AS n FROM usage_daily GROUP BY k", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// every other key gets a position, in reverse order
	pos := map[uint64]int32{}
	for r, k := range want.Keys {
		if r%2 == 0 {
			pos[k] = int32(len(want.Keys)/2 - len(pos))
		}
	}
	n := make([]float64, len(pos)+1)
	dst := &churn.Columns{
		Pos: func(k uint64) int32 {
			if p, ok := pos[k]; ok {
				return p
			}
			return -1
		},
		Nums: map[string][]float64{"n": n},
	}
	err = db.QueryColumns(ctx, "SELECT cityHash64(customer_id) AS k, count() AS n FROM usage_daily GROUP BY k", nil, nil,
		func() (*churn.Columns, error) { return dst, nil })
	if err != nil {
		t.Fatal(err)
	}
	for r, k := range want.Keys {
		if p, ok := pos[k]; ok && n[p] != want.Nums[0][r] {
			t.Errorf("key %d: %v at position %d, want %v", k, n[p], p, want.Nums[0][r])
		}
	}
	if len(want.Keys) < 100 {
		t.Fatalf("only %d keys", len(want.Keys))
	}

	dst.Nums = map[string][]float64{"m": n}
	err = db.QueryColumns(ctx, "SELECT cityHash64(customer_id) AS k, count() AS n FROM usage_daily GROUP BY k", nil, nil,
		func() (*churn.Columns, error) { return dst, nil })
	if err == nil || !strings.Contains(err.Error(), "column n") {
		t.Errorf("a destination without the query's column n: %v, want an error naming n", err)
	}
}
