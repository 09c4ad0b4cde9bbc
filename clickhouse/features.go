package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
)

// labelColumn is the result column that QueryMatrix reads into Labels.
const labelColumn = "label"

// QueryMatrix runs a query that returns one row per customer and streams the
// rows into a columnar matrix: the first column is the String row id, a
// Float32 column named "label" (optional) fills Labels, and every other
// column must be Float32 and becomes a feature named after the column. The
// parameters are bound client-side by the driver as @name placeholders (the
// value is escaped into a literal; 18.16 has no server-side parameters).
// progress, when not nil, receives the rows the server has read so far and
// its estimate of the total.
//
// On a cluster the query runs on every shard at once against its local
// tables (cluster_query.go). It implements features.Store.
func (c *Client) QueryMatrix(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Matrix, error) {
	if c.cfg.Cluster != "" {
		return c.queryMatrixPerShard(ctx, query, params, progress)
	}
	return c.queryMatrix(ctx, query, params, progress)
}

// queryMatrix runs QueryMatrix's query as one query.
func (c *Client) queryMatrix(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Matrix, error) {
	const op = "query feature matrix"
	rows, err := c.queryRows(ctx, op, query, params, progress)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	cols := rows.Columns()
	types := rows.ColumnTypes()
	if len(cols) < 1 || types[0].DatabaseTypeName() != "String" {
		return nil, churn.Errorf(churn.KindInternal, op, "the first column must be a String id, got %v", cols)
	}
	m := &churn.Matrix{}
	dest := make([]any, len(cols))
	var id string
	var label float32
	dest[0] = &id
	vals := make([]float32, len(cols))
	colOf := make([]int, len(cols)) // result column -> matrix column, -1 for the label
	for i := 1; i < len(cols); i++ {
		if t := types[i].DatabaseTypeName(); t != "Float32" {
			return nil, churn.Errorf(churn.KindInternal, op, "column %s is %s, want Float32", cols[i], t)
		}
		if cols[i] == labelColumn {
			dest[i] = &label
			colOf[i] = -1
			m.Labels = []float32{}
			continue
		}
		if slices.Contains(m.Features, cols[i]) {
			return nil, churn.Errorf(churn.KindInternal, op, "column %s appears twice", cols[i])
		}
		dest[i] = &vals[i]
		colOf[i] = len(m.Features)
		m.Features = append(m.Features, cols[i])
	}
	m.Cols = make([][]float32, len(m.Features))
	for n := 0; rows.Next(); n++ {
		if n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, wrap(op, c.cfg, err)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		m.IDs = append(m.IDs, id)
		for i := 1; i < len(cols); i++ {
			if colOf[i] < 0 {
				m.Labels = append(m.Labels, label)
			} else {
				m.Cols[colOf[i]] = append(m.Cols[colOf[i]], vals[i])
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	return m, nil
}

// UsageRange returns the first and the latest day in usage_daily: the data's
// time span, from which commands take their default as-of date (never from
// the wall clock). An empty table is a KindNotFound error.
func (c *Client) UsageRange(ctx context.Context) (first, last time.Time, err error) {
	const op = "read usage date range"
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count(), min(day), max(day) FROM usage_daily").Scan(&n, &first, &last); err != nil {
		return time.Time{}, time.Time{}, wrap(op, c.cfg, err)
	}
	if n == 0 {
		return time.Time{}, time.Time{}, churn.Errorf(churn.KindNotFound, op,
			"usage_daily in database %s is empty: load data with `churn import` or `churn seed`", c.cfg.Database)
	}
	return first, last, nil
}

// Regions returns the distinct regions of the customers who signed up before
// the given date, sorted: the categories of the region feature.
func (c *Client) Regions(ctx context.Context, before time.Time) ([]string, error) {
	const op = "read regions"
	rows, err := c.conn.Query(ctx, "SELECT DISTINCT region FROM customers WHERE signup_date < toDate(?) ORDER BY region",
		before.Format(time.DateOnly))
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		out = append(out, r)
	}
	return out, wrap(op, c.cfg, rows.Err())
}

// CustomerDates returns a customer's signup date and its first churn date
// after its latest return (reactivation) before asOf: the departure in force
// at asOf or the next one; zero when there is none or the customer is prepaid
// (whose churn is inactivity, which the snapshot judges), so that callers can say why a customer is
// missing from a snapshot. An unknown id is a KindNotFound error.
func (c *Client) CustomerDates(ctx context.Context, customerID string, asOf time.Time) (signup, churned time.Time, err error) {
	const op = "read customer"
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count(), min(signup_date) FROM customers WHERE customer_id = ?", customerID).Scan(&n, &signup); err != nil {
		return time.Time{}, time.Time{}, wrap(op, c.cfg, err)
	}
	if n == 0 {
		return time.Time{}, time.Time{}, &churn.Error{Op: op, Kind: churn.KindNotFound, Field: "customer_id",
			Msg: fmt.Sprintf("no customer %q in database %s", customerID, c.cfg.Database)}
	}
	// The first churn event after the customer's latest return before asOf
	// (win-backs leave and come back): the departure in force at asOf, or
	// the next one.
	var k uint64
	if err := c.conn.QueryRow(ctx, `SELECT count(), min(churned_at) FROM churn_events WHERE customer_id = @id
  AND churned_at > (SELECT max(reactivated_at) FROM reactivations WHERE customer_id = @id AND reactivated_at < toDate(@as_of))
  AND customer_id NOT IN (SELECT customer_id FROM customers WHERE customer_id = @id AND billing = 'prepaid')`,
		ch.Named("id", customerID), ch.Named("as_of", asOf.UTC().Format(time.DateOnly))).Scan(&k, &churned); err != nil {
		return time.Time{}, time.Time{}, wrap(op, c.cfg, err)
	}
	if k == 0 {
		churned = time.Time{}
	}
	return signup, churned, nil
}
