package clickhouse_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/features"
)

// fromDailyRows returns the snapshot's sides with the one that reads the
// usage rollup (usage_monthly) replaced by
// testdata/usage_monthly_from_daily_rows.sql, which computes the same
// columns from usage_daily alone. No other side may read a rollup.
func fromDailyRows(t testing.TB, sides []features.Side) []features.Side {
	t.Helper()
	out := slices.Clone(sides)
	swapped := 0
	for i, s := range out {
		if s.Name != "usage_monthly" {
			if strings.Contains(s.SQL, "FROM usage_monthly") {
				t.Fatalf("side %s reads a rollup: the reference does not replace it", s.Name)
			}
			continue
		}
		ref, err := os.ReadFile(filepath.Join("testdata", s.Name+"_from_daily_rows.sql"))
		if err != nil {
			t.Fatal(err)
		}
		out[i].SQL = string(ref)
		swapped++
	}
	if swapped != 1 {
		t.Fatalf("the snapshot has %d sides named usage_monthly, want 1", swapped)
	}
	return out
}

// sameSnapshots computes the raw snapshot at each as-of date from the rollups
// and from daily rows only, and fails on any value that differs in any bit.
// It returns how many usage values were not zero, so that callers can tell a
// comparison of empty histories.
func sameSnapshots(t *testing.T, c *clickhouse.Client, asOfs ...string) int {
	t.Helper()
	ctx := context.Background()
	nonZero := 0
	for _, a := range asOfs {
		asOf := day(t, a)
		fs := features.WithRegions(features.Registry(), []string{"north", "south"})
		sides, params := features.SnapshotSides(asOf, features.DefaultHorizon, features.DefaultInactivity, fs)
		got, err := features.RawSnapshot(ctx, c, sides, params, nil)
		if err != nil {
			t.Fatalf("as of %s, from the rollups: %v", a, err)
		}
		want, err := features.RawSnapshot(ctx, c, fromDailyRows(t, sides), params, nil)
		if err != nil {
			t.Fatalf("as of %s, from daily rows: %v", a, err)
		}
		for _, d := range matrixDiff(got, want) {
			t.Errorf("as of %s: %s", a, d)
		}
		for j, name := range got.Features {
			if !strings.Contains(usageFeatures, " "+name+" ") {
				continue
			}
			for _, v := range got.Cols[j] {
				if v != 0 && v == v {
					nonZero++
				}
			}
		}
	}
	return nonZero
}

// matrixDiff lists the differences between two raw snapshots: rows,
// columns, labels and every value, compared bit for bit (NaN equals NaN). It
// stops at 20.
func matrixDiff(got, want *churn.Matrix) []string {
	if !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Features, want.Features) {
		return []string{fmt.Sprintf("%d rows and columns %v, want %d rows and %v", len(got.IDs), got.Features, len(want.IDs), want.Features)}
	}
	same := func(g, w float32) bool { return math.Float32bits(g) == math.Float32bits(w) || (g != g && w != w) }
	var out []string
	for i, id := range got.IDs {
		if !same(got.Labels[i], want.Labels[i]) {
			out = append(out, fmt.Sprintf("label of %s = %v, want %v", id, got.Labels[i], want.Labels[i]))
		}
	}
	for j, name := range got.Features {
		for i, id := range got.IDs {
			if g, w := got.Cols[j][i], want.Cols[j][i]; !same(g, w) && len(out) < 20 {
				out = append(out, fmt.Sprintf("%s %s = %v, want %v", id, name, g, w))
			}
		}
	}
	return out
}

// usageFeatures are the features computed from usage_daily, space-separated.
const usageFeatures = " days_since_last_usage active_days_365d voice_minutes_7d voice_minutes_30d voice_minutes_90d " +
	"data_mb_7d data_mb_30d data_mb_90d sms_30d calls_30d active_days_30d active_days_90d voice_trend_30d data_trend_30d " +
	"active_days_trend_30d dropped_calls_30d dropped_call_rate_30d dropped_call_rate_90d intl_share_90d roaming_share_90d "

// randomUsage writes two years of usage (2023-2024) of n customers on about
// two days in three, with arbitrary float32 volumes (not round decimals),
// idle days and tiny values, in several INSERTs so that a rollup bucket is
// summed over parts.
func randomUsage(t *testing.T, r *rand.Rand, n int) featureData {
	var d featureData
	regions := []string{"north", "south"}
	for k := range n {
		id := "r" + string(rune('a'+k/26)) + string(rune('a'+k%26))
		signup := time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(800))
		d.customers = append(d.customers, customerRow{id, signup.Format(time.DateOnly), regions[k%2], "consumer", "cash"})
		for day := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2025; day = day.AddDate(0, 0, 1) {
			if r.IntN(3) == 0 {
				continue
			}
			u := usageRow{id: id, day: day.Format(time.DateOnly)}
			switch r.IntN(10) {
			case 0: // a row without activity
			case 1: // only a tiny volume
				u.voice = float32(r.Float64() * 1e-5)
			default:
				u.voice, u.data = float32(r.Float64()*300), float32(r.Float64()*5000)
				u.sms, u.calls = uint32(r.IntN(20)), uint32(r.IntN(30))
				u.intl, u.roaming, u.dropped = float32(r.Float64()*20), float32(r.Float64()*10), uint32(r.IntN(3))
			}
			d.usage = append(d.usage, u)
		}
	}
	return d
}

// insertInParts inserts the customers, then the usage rows in three INSERTs
// (rows dealt out at random), so that the views write several parts per
// bucket.
func insertInParts(t *testing.T, c *clickhouse.Client, r *rand.Rand, d featureData) {
	t.Helper()
	featureData{customers: d.customers}.insert(t, c)
	parts := make([]featureData, 3)
	for _, u := range d.usage {
		k := r.IntN(len(parts))
		parts[k].usage = append(parts[k].usage, u)
	}
	for _, p := range parts {
		p.insert(t, c)
	}
}

func TestSnapshotFromRollupsEqualsDailyRowsBitForBit(t *testing.T) {
	// Month starts, mid-month and month-end dates, so that each window
	// edge of the monthly masks (t-365, t-90, t-30, t, t+horizon, ...)
	// falls inside a month, on its first day and on a month boundary.
	asOfDates := []string{"2024-01-01", "2024-02-29", "2024-03-13", "2024-05-27", "2024-06-16", "2024-07-31", "2024-10-02", "2024-12-26"}
	c, _ := chtest.NewDB(t)
	r := rand.New(rand.NewPCG(17, 1))
	insertInParts(t, c, r, randomUsage(t, r, 24))
	// Rows dated on or after each as-of date are in the data too: the
	// reference reads only rows before it, so a rollup bucket read past
	// the as-of date shows as a difference.
	if n := sameSnapshots(t, c, asOfDates...); n < 1000 {
		t.Fatalf("only %d usage values were not zero: the comparison covers too little", n)
	}
}

func TestMigrateBackfillsRollupsFromExistingUsage(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	// A database from before migration 0010: usage rows, no rollups.
	for _, q := range []string{"DROP TABLE usage_monthly_mv", "DROP TABLE usage_monthly"} {
		if err := c.Conn().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(5, 9))
	insertInParts(t, c, r, randomUsage(t, r, 8))
	forgetMigration(t, c, 10)

	var log bytes.Buffer
	res, err := clickhouse.Migrate(ctx, cfg, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 || res.Applied[0].Version != 10 {
		t.Fatalf("applied %v, want migration 10 only", res.Applied)
	}
	if !strings.Contains(log.String(), "backfilling the usage rollups") || !strings.Contains(log.String(), "month=202412") {
		t.Errorf("the migration log does not say it backfills each month:\n%s", log.String())
	}
	if n := sameSnapshots(t, c, "2024-03-13", "2024-12-26"); n == 0 {
		t.Fatal("no usage values after the backfill")
	}
	// The views are in place: a later INSERT reaches the rollups.
	featureData{usage: []usageRow{{"raa", "2024-12-24", 7.5, 1, 1, 1, 0, 0, 0}}}.insert(t, c)
	sameSnapshots(t, c, "2024-12-26")
}

// forgetMigration deletes a migration's row from schema_migrations, so that
// the next migrate applies it again, and waits for the delete to run.
func forgetMigration(t *testing.T, c *clickhouse.Client, version int) {
	t.Helper()
	ctx := context.Background()
	if err := c.Conn().Exec(ctx, "ALTER TABLE schema_migrations DELETE WHERE version = ?", uint32(version)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if impCount(t, c, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0") == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the delete from schema_migrations did not run within a minute")
		}
	}
}

func TestStagedImportRebuildsTheRollupsOfTheMonthsItMoves(t *testing.T) {
	c, _ := chtest.NewDB(t)
	impSample(t, c, "customers", clickhouse.ImportOptions{})
	// Earlier rows in the same months, written by INSERT (the views).
	featureData{usage: []usageRow{{"C0002", "2024-01-15", 5, 5, 5, 5, 0, 0, 0}, {"C0003", "2024-02-10", 6, 6, 6, 6, 0, 0, 0}}}.insert(t, c)
	impSample(t, c, "usage_daily", clickhouse.ImportOptions{BlockRows: 2})
	if n := sameSnapshots(t, c, "2024-01-03", "2024-02-12", "2024-03-01"); n == 0 {
		t.Fatal("no usage values after the import")
	}
}

func TestFailedStagedImportTakesItsRowsOutOfTheRollups(t *testing.T) {
	c, _ := chtest.NewDB(t)
	impSample(t, c, "customers", clickhouse.ImportOptions{})
	featureData{usage: []usageRow{{"C0002", "2024-01-15", 5, 5, 5, 5, 0, 0, 0}, {"C0003", "2024-02-10", 6, 6, 6, 6, 0, 0, 0}}}.insert(t, c)
	cols, err := impRead(t, c, "usage_daily", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first month is moved (and its rollups rebuilt), then the import
	// fails: the undo deletes the moved rows and rebuilds the month again.
	err = c.Import(ctx, "usage_daily", cols, clickhouse.ImportOptions{BlockRows: 2, AfterPartition: func(string) { cancel() }})
	if err == nil {
		t.Fatal("interrupted import returned no error")
	}
	if n := impCount(t, c, "SELECT count() FROM usage_daily"); n != 2 {
		t.Fatalf("usage_daily has %d rows after the failed import, want the 2 earlier ones", n)
	}
	if sameSnapshots(t, c, "2024-01-20", "2024-03-01") == 0 {
		t.Fatal("the earlier rows are missing from the snapshots")
	}
	// The days of the two earlier rows only: the 15th of January (bit 14)
	// and the 10th of February (bit 9).
	var mask int64
	if err := c.Conn().QueryRow(context.Background(), "SELECT sum(active_mask) FROM usage_monthly").Scan(&mask); err != nil {
		t.Fatal(err)
	}
	if mask != 1<<14+1<<9 {
		t.Errorf("usage_monthly holds the active days %b, want the earlier rows' %b", mask, 1<<14+1<<9)
	}
}

func TestTruncateContractTablesEmptiesTheRollups(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	if err := c.TruncateContractTables(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"usage_monthly"} {
		if n := impCount(t, c, "SELECT count() FROM "+table); n != 0 {
			t.Errorf("%s has %d rows after TruncateContractTables", table, n)
		}
	}
}

func TestSnapshotOnAnUnmigratedDatabaseSaysToMigrate(t *testing.T) {
	c, _ := chtest.NewDB(t)
	if err := c.Conn().Exec(context.Background(), "DROP TABLE usage_monthly_mv"); err != nil {
		t.Fatal(err)
	}
	if err := c.Conn().Exec(context.Background(), "DROP TABLE usage_monthly"); err != nil {
		t.Fatal(err)
	}
	_, err := features.Compute(context.Background(), c, features.Spec{AsOf: day(t, asOf), DataEnd: day(t, asOf)})
	if err == nil || !strings.Contains(err.Error(), "if database "+c.Database()+" is older than this version, run `churn migrate`") {
		t.Fatalf("snapshot without usage_monthly: %v, want a hint to run churn migrate", err)
	}
}
