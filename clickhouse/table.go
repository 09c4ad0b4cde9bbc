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

	cols, scan, err := keyedScanners(op, rows)
	if err != nil {
		return nil, err
	}
	t := scanTable(cols, scan, 0)
	if err := c.eachRow(ctx, op, rows, scan, func(key uint64) { appendRow(t, scan, key) }); err != nil {
		return nil, err
	}
	return t, nil
}

// scanTable is an empty table of the columns scan reads, with room for n
// rows.
func scanTable(cols []string, scan []colScanner, n int) *churn.Table {
	t := &churn.Table{Names: cols, Keys: make([]uint64, 0, n), Nums: make([][]float64, len(cols)), Strs: make([][]string, len(cols))}
	for j, sc := range scan {
		if sc.num != nil {
			t.Nums[j] = make([]float64, 0, n)
		} else {
			t.Strs[j] = make([]string, 0, n)
		}
	}
	return t
}

// appendRow appends the row just scanned, its key and scan's values, to t.
func appendRow(t *churn.Table, scan []colScanner, key uint64) {
	t.Keys = append(grown(t.Keys), key)
	for j, sc := range scan {
		if sc.num != nil {
			t.Nums[j] = append(grown(t.Nums[j]), sc.num())
		} else {
			t.Strs[j] = append(grown(t.Strs[j]), *sc.str)
		}
	}
}

// grown returns s with room for one more element, doubling its capacity
// when it is full: append alone grows a large slice by a quarter at a
// time, which allocates and copies about five times its final size.
func grown[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	return slices.Grow(s, max(len(s), 1024))
}

// QueryColumns runs a per-customer query like QueryTable's and stores its
// rows straight into the columns dst returns (churn.Columns), without a
// table in between: a snapshot's sides are large, and growing tables row by
// row and then copying them into customer order allocated and wrote about
// three times their size, on a machine where fresh memory is slow to touch
// (docs/scaling.md, session 25).
// dst is called once the query's columns are known, before its first row is
// stored; what it returns must have exactly the query's columns after k.
//
// On a cluster every shard's rows go into dst at once. A replica that fails
// part way leaves the rows it stored, which the next replica of its shard
// stores again, with the same values.
func (c *Client) QueryColumns(ctx context.Context, query string, params map[string]any, progress func(done, total int64), dst func() (*churn.Columns, error)) error {
	if c.cfg.Cluster != "" {
		_, err := perShard(c, ctx, query, progress, func([]struct{}) (struct{}, error) { return struct{}{}, nil },
			func(ctx context.Context, nc *Client, local string, progress func(d, t int64)) (struct{}, error) {
				return struct{}{}, nc.queryColumns(ctx, local, params, progress, dst)
			})
		return err
	}
	return c.queryColumns(ctx, query, params, progress, dst)
}

// queryColumns runs QueryColumns's query as one query.
func (c *Client) queryColumns(ctx context.Context, query string, params map[string]any, progress func(done, total int64), dst func() (*churn.Columns, error)) error {
	const op = "query feature side"
	rows, err := c.queryRows(ctx, op, query, params, progress)
	if err != nil {
		return err
	}
	defer rows.Close()

	cols, scan, err := keyedScanners(op, rows)
	if err != nil {
		return err
	}
	d, err := dst()
	if err != nil {
		return err
	}
	// Rows are stored a chunk at a time (churn.Columns.Put).
	const chunk = 4096
	part := scanTable(cols, scan, chunk)
	if err := d.Check(part); err != nil {
		return churn.Errorf(churn.KindInternal, op, "the query returned %v", err)
	}
	flush := func() {
		d.Put(part)
		part.Keys = part.Keys[:0]
		for j := range scan {
			if part.Nums[j] != nil {
				part.Nums[j] = part.Nums[j][:0]
			} else {
				part.Strs[j] = part.Strs[j][:0]
			}
		}
	}
	err = c.eachRow(ctx, op, rows, scan, func(key uint64) {
		if appendRow(part, scan, key); len(part.Keys) == chunk {
			flush()
		}
	})
	flush()
	return err
}

// eachRow scans every row of rows into scan's destinations and calls row
// with its key.
func (c *Client) eachRow(ctx context.Context, op string, rows driver.Rows, scan []colScanner, row func(key uint64)) error {
	var key uint64
	dest := make([]any, len(scan)+1)
	dest[0] = &key
	for j, sc := range scan {
		dest[j+1] = sc.dest
	}
	for n := 0; rows.Next(); n++ {
		if n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return wrap(op, c.cfg, err)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return wrap(op, c.cfg, err)
		}
		row(key)
	}
	if err := rows.Err(); err != nil {
		return wrap(op, c.cfg, err)
	}
	return nil
}

// keyedScanners checks that the first column of rows is the UInt64 key k
// and returns the names of the others and their scanners.
func keyedScanners(op string, rows driver.Rows) ([]string, []colScanner, error) {
	cols := rows.Columns()
	types := rows.ColumnTypes()
	if len(cols) < 1 || cols[0] != "k" || types[0].DatabaseTypeName() != "UInt64" {
		return nil, nil, churn.Errorf(churn.KindInternal, op, "the first column must be the UInt64 key k, got %v", cols)
	}
	scan := make([]colScanner, len(cols)-1)
	for j, typ := range types[1:] {
		var ok bool
		if scan[j], ok = newColScanner(typ.DatabaseTypeName()); !ok {
			return nil, nil, churn.Errorf(churn.KindInternal, op, "column %s is %s, want a number, a Date or a String", cols[j+1], typ.DatabaseTypeName())
		}
	}
	return cols[1:], scan, nil
}

// colScanner is the scan destination of a column of a ClickHouse type and how
// to read the value scanned into it: num for a number or a Date (its day
// number), else str for a String.
type colScanner struct {
	typ  string
	dest any
	num  func() float64
	str  *string
}

func newColScanner(typ string) (colScanner, bool) {
	num := func(dest any, v func() float64) (colScanner, bool) {
		return colScanner{typ: typ, dest: dest, num: v}, true
	}
	switch typ {
	case "String":
		s := new(string)
		return colScanner{typ: typ, dest: s, str: s}, true
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
	return colScanner{}, false
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
