package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
)

// seed empties the contract tables and loads the synthetic operator, as
// `churn seed` does.
func seed(t testing.TB, c *clickhouse.Client, cfg synth.Config) synth.Summary {
	t.Helper()
	ctx := context.Background()
	if err := c.TruncateContractTables(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := synth.Load(ctx, cfg, c, synth.LoadOptions{BlockRows: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// seededDB is a new test database seeded with synthetic data of that many
// customers and months.
func seededDB(t testing.TB, customers, months int, s uint64) (*clickhouse.Client, clickhouse.Config) {
	t.Helper()
	db, cfg := chtest.NewDB(t)
	sc := synth.DefaultConfig()
	sc.Customers, sc.Months, sc.Seed = customers, months, s
	seed(t, db, sc)
	return db, cfg
}

func checksums(t *testing.T, c *clickhouse.Client) []clickhouse.TableChecksum {
	t.Helper()
	cs, err := c.ContractChecksums(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestSeedWithTheSameSeedGivesTheSameChecksums(t *testing.T) {
	c, _ := chtest.NewDB(t)
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months, cfg.Seed = 2000, 6, 7

	sum := seed(t, c, cfg)
	first := checksums(t, c)
	for i, cs := range first {
		if want := sum.Tables[i]; cs.Table != want.Table || cs.Rows != uint64(want.Rows) || cs.Rows == 0 {
			t.Errorf("%s holds %d rows, generated %s with %d", cs.Table, cs.Rows, want.Table, want.Rows)
		}
	}

	// The second load must replace the first, not add to it, and a
	// different number of workers must not change a row.
	cfg.Workers = 1
	seed(t, c, cfg)
	second := checksums(t, c)
	for i := range first {
		if first[i] != second[i] {
			t.Errorf("same seed, different %s: %+v then %+v", first[i].Table, first[i], second[i])
		}
	}

	cfg.Seed = 8
	seed(t, c, cfg)
	other := checksums(t, c)
	for i := range first {
		if first[i].Sum == other[i].Sum {
			t.Errorf("seeds 7 and 8 give the same %s checksum %d", first[i].Table, first[i].Sum)
		}
	}
}

func TestSeededDataHasConcentratedRevenueAndMonthlyPostpaidChurnOf1To3Percent(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Customers = 10000
	seed(t, c, cfg)
	conn := c.Conn()

	var customers uint64
	var total float64
	if err := conn.QueryRow(ctx, "SELECT count() FROM customers").Scan(&customers); err != nil {
		t.Fatal(err)
	}
	// Revenue is invoices and prepaid top-ups.
	const revenue = "(SELECT customer_id, amount FROM invoices UNION ALL SELECT customer_id, amount FROM topups)"
	if err := conn.QueryRow(ctx, "SELECT sum(amount) FROM "+revenue).Scan(&total); err != nil {
		t.Fatal(err)
	}
	var top float64
	if err := conn.QueryRow(ctx, `SELECT sum(rev) FROM (
    SELECT customer_id, sum(amount) AS rev FROM `+revenue+` GROUP BY customer_id ORDER BY rev DESC LIMIT ?)`,
		customers/5).Scan(&top); err != nil {
		t.Fatal(err)
	}
	share := top / total
	t.Logf("top 20%% of %d customers bring %.1f%% of revenue", customers, 100*share)
	if share < 0.6 {
		t.Errorf("top 20%% of %d customers bring %.1f%% of invoiced revenue, want at least 60%%", customers, 100*share)
	}

	// A postpaid customer is active at a month's start when signed up before
	// it and not gone before it: its last churn event (win-backs have two)
	// is not before it. Prepaid churn is inactivity, checked by the
	// generator's own tests; postpaid lines churn less than the whole base,
	// hence the lower bound of 1%.
	const monthSQL = `SELECT
    countIf(signup_date < toDate(?) AND (churned = 0 OR churned_at >= toDate(?))),
    countIf(signup_date < toDate(?) AND churned = 1 AND churned_at >= toDate(?) AND churned_at < toDate(?))
FROM (SELECT * FROM customers WHERE billing = 'postpaid')
ANY LEFT JOIN (SELECT customer_id, max(churned_at) AS churned_at, toUInt8(1) AS churned FROM churn_events GROUP BY customer_id) USING customer_id`
	for m := range cfg.Months {
		ms := cfg.Start.AddDate(0, m, 0).Format(time.DateOnly)
		me := cfg.Start.AddDate(0, m+1, 0).Format(time.DateOnly)
		var active, left uint64
		if err := conn.QueryRow(ctx, monthSQL, ms, ms, ms, ms, me).Scan(&active, &left); err != nil {
			t.Fatal(err)
		}
		rate := float64(left) / float64(active)
		t.Logf("month from %s: %d of %d churned (%.2f%%)", ms, left, active, 100*rate)
		if rate < 0.01 || rate > 0.03 {
			t.Errorf("month from %s: %d of %d active postpaid customers churned (%.2f%%), want 1%% to 3%%", ms, left, active, 100*rate)
		}
	}
}

// BenchmarkSeedLoad measures generation plus loading into ClickHouse.
func BenchmarkSeedLoad(b *testing.B) {
	c, _ := chtest.NewDB(b)
	cfg := synth.DefaultConfig()
	cfg.Customers, cfg.Months = 10000, 12
	rows := 0
	start := time.Now()
	for b.Loop() {
		rows += seed(b, c, cfg).Rows
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}
