package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// usageRollup is one pre-aggregation of usage_daily per customer and date
// bucket (migration 0005 creates its table and says why it exists). It is
// the one definition of the rollup's SELECT: the materialized view that
// keeps it up to date on INSERT, the backfill of migrate and the rebuild
// of the months the importer attaches all use it.
type usageRollup struct {
	table  string // SummingMergeTree partitioned by toYYYYMM(bucket), like usage_daily by day
	view   string // the materialized view that feeds it
	bucket string // the bucket column, the second of the sorting key
	// cols are the table's columns in order and exprs the expression of each
	// over usage_daily rows: customer_id, the bucket, then the aggregates.
	cols, exprs []string
}

// micro is the sum of a Float32 volume as integer millionths: integer sums
// are exact, so a sum of weekly sums equals the sum of the days they hold,
// bit for bit.
func micro(col string) string {
	return fmt.Sprintf("sum(toInt64(round(toFloat64(%s) * 1000000)))", col)
}

// usageRollups are the rollups of usage_daily, in the order migrate creates
// their views.
func usageRollups() []usageRollup {
	return []usageRollup{
		{
			table: "usage_monthly", view: "usage_monthly_mv", bucket: "month",
			cols: []string{"customer_id", "month", "active_mask"},
			exprs: []string{"customer_id", "toStartOfMonth(day)",
				// A day counts as active exactly as in features/sql/snapshot.sql.
				"sum(if(voice_minutes > 0 OR data_mb > 0 OR sms > 0 OR calls > 0, bitShiftLeft(toInt64(1), toDayOfMonth(day) - 1), toInt64(0)))"},
		},
		{
			table: "usage_weekly", view: "usage_weekly_mv", bucket: "week",
			cols: []string{"customer_id", "week", "voice_micro", "data_micro", "sms", "calls", "intl_micro", "roaming_micro", "dropped_calls"},
			exprs: []string{"customer_id", "greatest(toMonday(day), toStartOfMonth(day))",
				micro("voice_minutes"), micro("data_mb"), "sum(toInt64(sms))", "sum(toInt64(calls))",
				micro("intl_minutes"), micro("roaming_minutes"), "sum(toInt64(dropped_calls))"},
		},
	}
}

// selectSQL is the rollup's aggregation of usage_daily rows matching where
// ("" for all rows).
func (r usageRollup) selectSQL(where string) string {
	list := make([]string, len(r.cols))
	for i, col := range r.cols {
		list[i] = r.exprs[i] + " AS " + col
		if r.exprs[i] == col {
			list[i] = col
		}
	}
	q := "SELECT " + strings.Join(list, ", ") + " FROM usage_daily"
	if where != "" {
		q += " WHERE " + where
	}
	return q + " GROUP BY customer_id, " + r.bucket
}

// installUsageRollups is migration 0005's work after its SQL: it (re)creates
// the views and backfills the rollups from the rows already in usage_daily.
// Run again after it died half way, it starts over and ends in the same
// state. A write to usage_daily while it runs may be missing from the
// rollups: migrate before loading data.
func (c *Client) installUsageRollups(ctx context.Context) error {
	const op = "install usage rollups"
	for _, r := range usageRollups() {
		// Views first, so that no insert reaches a rollup being emptied.
		if err := c.conn.Exec(ctx, "DROP TABLE IF EXISTS "+r.view); err != nil {
			return wrap(op, c.cfg, err)
		}
		if err := c.conn.Exec(ctx, "TRUNCATE TABLE "+r.table); err != nil {
			return wrap(op, c.cfg, err)
		}
	}
	for _, r := range usageRollups() {
		ddl := fmt.Sprintf("CREATE MATERIALIZED VIEW %s TO %s AS %s", r.view, r.table, r.selectSQL(""))
		if err := c.conn.Exec(ctx, ddl); err != nil {
			return wrap(op, c.cfg, err)
		}
	}
	parts, err := c.partitions(ctx, "usage_daily")
	if err != nil {
		return err
	}
	var rows uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM usage_daily").Scan(&rows); err != nil {
		return wrap(op, c.cfg, err)
	}
	if len(parts) == 0 {
		return nil
	}
	c.log.Info("migration: backfilling the usage rollups from usage_daily with INSERT ... SELECT, one month at a time",
		"months", len(parts), "usage_rows", rows)
	start := time.Now()
	for i, p := range parts {
		t0 := time.Now()
		if err := c.rebuildUsageRollups(ctx, p); err != nil {
			return err
		}
		c.log.Info("progress", "task", "backfill usage rollups", "month", p, "done", i+1, "total", len(parts),
			"month_took", time.Since(t0).Round(time.Millisecond), "elapsed", time.Since(start).Round(time.Second))
	}
	return nil
}

// refreshRollups brings the rollups of table up to date for partitions
// whose rows changed without an INSERT (which is what fires the views):
// partitions attached from a staging table, rows deleted by a mutation. It
// does nothing for tables without rollups. Rebuilding is idempotent, so a
// recovery may run it again for the same partitions.
func (c *Client) refreshRollups(ctx context.Context, table string, partitions ...string) error {
	if table != "usage_daily" {
		return nil
	}
	for _, p := range partitions {
		if err := c.rebuildUsageRollups(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// rebuildUsageRollups recomputes one month (a usage_daily partition literal
// such as 202405) of every usage rollup from usage_daily: each is aggregated
// into a scratch table and swapped in with REPLACE PARTITION, so readers
// see the old month or the new one, never a mix. A month without usage rows
// leaves the rollup's month empty. Rows inserted into the same month while
// it runs may be missing from the result: import into usage_daily one file
// at a time.
func (c *Client) rebuildUsageRollups(ctx context.Context, partition string) error {
	op := "rebuild usage rollups of month " + partition
	if !isMonth(partition) {
		return churn.Errorf(churn.KindInternal, op, "partition %q is not a YYYYMM month", partition)
	}
	for _, r := range usageRollups() {
		var suffix [6]byte
		_, _ = rand.Read(suffix[:])
		scratch := r.table + "_rebuild_" + hex.EncodeToString(suffix[:])
		if err := c.conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s AS %s", scratch, r.table)); err != nil {
			return wrap(op, c.cfg, err)
		}
		err := c.conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) %s", scratch, strings.Join(r.cols, ", "),
			r.selectSQL("toYYYYMM(day) = "+partition)))
		if err == nil {
			err = c.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s REPLACE PARTITION %s FROM %s", r.table, partition, scratch))
		}
		// The scratch table goes even when the context is cancelled.
		if derr := c.conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+scratch); derr != nil {
			c.log.Warn("could not drop a scratch table", "table", scratch, "err", derr)
		}
		if err != nil {
			return wrap(op+" of "+r.table, c.cfg, err)
		}
	}
	return nil
}

// truncateUsageRollups empties the rollups, with usage_daily.
func (c *Client) truncateUsageRollups(ctx context.Context) error {
	for _, r := range usageRollups() {
		if err := c.conn.Exec(ctx, "TRUNCATE TABLE "+r.table); err != nil {
			return wrap("truncate "+r.table, c.cfg, err)
		}
	}
	return nil
}

// isMonth reports whether a partition literal is a toYYYYMM month, the only
// text rebuildUsageRollups splices into its SQL.
func isMonth(p string) bool {
	if len(p) != 6 {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
