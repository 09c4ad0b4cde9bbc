package clickhouse

import (
	"context"
	"maps"
	"slices"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/telcoretain/churn"
)

// QueryTable runs a per-customer query whose first column is a UInt64 key
// named k and reads its rows into a churn.Table: every other column numeric
// (any integer or float type, or a Date, read as its day number) or a
// String. The parameters are bound client-side like QueryMatrix's, and
// progress, when not nil, receives the rows the server has read so far and
// its estimate of the total.
//
// On a cluster the query runs on every shard at once against its local
// tables and their rows are concatenated, in no particular order. It
// implements features.Store.
func (c *Client) QueryTable(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Table, error) {
	if c.cfg.Cluster != "" {
		return perShard(c, ctx, query, progress, concatTables, func(ctx context.Context, nc *Client, local string, progress func(d, t int64)) (*churn.Table, error) {
			return nc.QueryTable(ctx, local, params, progress)
		})
	}
	return c.queryTable(ctx, query, params, progress)
}

// SnapshotQueries is how many side queries of a feature snapshot run at once
// (Config.SnapshotQueries); features.RawSnapshot asks.
func (c *Client) SnapshotQueries() int { return c.cfg.SnapshotQueries }

// queryTable runs QueryTable's query as one query.
func (c *Client) queryTable(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Table, error) {
	const op = "query feature side"
	rows, err := c.queryRows(ctx, op, query, params, progress)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	cols := rows.Columns()
	types := rows.ColumnTypes()
	if len(cols) < 1 || cols[0] != "k" || types[0].DatabaseTypeName() != "UInt64" {
		return nil, churn.Errorf(churn.KindInternal, op, "the first column must be the UInt64 key k, got %v", cols)
	}
	t := &churn.Table{Names: cols[1:], Nums: make([][]float64, len(cols)-1), Strs: make([][]string, len(cols)-1)}
	dest := make([]any, len(cols))
	var key uint64
	dest[0] = &key
	// read[j] appends the value scanned into dest[j+1] to column j.
	read := make([]func(), len(cols)-1)
	for j, typ := range types[1:] {
		var ok bool
		dest[j+1], read[j], ok = columnReader(t, j, typ.DatabaseTypeName())
		if !ok {
			return nil, churn.Errorf(churn.KindInternal, op, "column %s is %s, want a number, a Date or a String", cols[j+1], typ.DatabaseTypeName())
		}
	}
	for n := 0; rows.Next(); n++ {
		if n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, wrap(op, c.cfg, err)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		t.Keys = append(t.Keys, key)
		for _, r := range read {
			r()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	return t, nil
}

// columnReader returns the scan destination of column j of a ClickHouse type and
// the function that appends the scanned value to the table's column.
func columnReader(t *churn.Table, j int, typ string) (dest any, read func(), ok bool) {
	num := func(dest any, v func() float64) (any, func(), bool) {
		t.Nums[j] = []float64{}
		return dest, func() { t.Nums[j] = append(t.Nums[j], v()) }, true
	}
	switch typ {
	case "String":
		var s string
		t.Strs[j] = []string{}
		return &s, func() { t.Strs[j] = append(t.Strs[j], s) }, true
	case "Date":
		var d time.Time
		return num(&d, func() float64 {
			y, m, dd := d.Date()
			return float64(time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Unix() / 86400)
		})
	case "UInt8":
		var v uint8
		return num(&v, func() float64 { return float64(v) })
	case "UInt16":
		var v uint16
		return num(&v, func() float64 { return float64(v) })
	case "UInt32":
		var v uint32
		return num(&v, func() float64 { return float64(v) })
	case "UInt64":
		var v uint64
		return num(&v, func() float64 { return float64(v) })
	case "Int8":
		var v int8
		return num(&v, func() float64 { return float64(v) })
	case "Int16":
		var v int16
		return num(&v, func() float64 { return float64(v) })
	case "Int32":
		var v int32
		return num(&v, func() float64 { return float64(v) })
	case "Int64":
		var v int64
		return num(&v, func() float64 { return float64(v) })
	case "Float32":
		var v float32
		return num(&v, func() float64 { return float64(v) })
	case "Float64":
		var v float64
		return num(&v, func() float64 { return v })
	}
	return nil, nil, false
}

// concatTables concatenates the tables of a query's shards.
func concatTables(parts []*churn.Table) (*churn.Table, error) {
	out := parts[0]
	for _, p := range parts[1:] {
		if err := out.Append(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// queryRows runs a query with its named parameters bound client-side and its
// progress reported.
func (c *Client) queryRows(ctx context.Context, op, query string, params map[string]any, progress func(done, total int64)) (driver.Rows, error) {
	rows, err := c.conn.Query(withProgress(ctx, progress), query, namedArgs(params)...)
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	return rows, nil
}

// namedArgs binds parameters as the driver's named arguments, in a stable
// order.
func namedArgs(params map[string]any) []any {
	names := slices.Sorted(maps.Keys(params))
	args := make([]any, len(names))
	for i, k := range names {
		args[i] = ch.Named(k, params[k])
	}
	return args
}

// withProgress routes the server's progress packets, which carry
// increments, to progress as running totals.
func withProgress(ctx context.Context, progress func(done, total int64)) context.Context {
	if progress == nil {
		return ctx
	}
	var done, total int64
	return ch.Context(ctx, ch.WithProgress(func(p *ch.Progress) {
		done += int64(p.Rows)
		total += int64(p.TotalRows)
		progress(done, total)
	}))
}
