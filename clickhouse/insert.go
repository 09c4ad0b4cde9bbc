package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// insertSQL builds "INSERT INTO table (a, b, c)". ClickHouse 18.16 needs the
// explicit column list for batch inserts over the native protocol. Table and
// column names come from code, never from user input.
func insertSQL(table string, columns []string) string {
	return fmt.Sprintf("INSERT INTO %s (%s)", table, strings.Join(columns, ", "))
}

// insertRow writes one row as a batch of one. (An INSERT ... VALUES sent
// through Exec hangs on 18.16 over the native protocol, so every insert is a
// batch.)
func (c *Client) insertRow(ctx context.Context, table string, columns []string, values ...any) error {
	op := "insert into " + table
	b, err := c.conn.PrepareBatch(ctx, insertSQL(table, columns))
	if err != nil {
		return wrap(op, c.cfg, err)
	}
	if err := b.Append(values...); err != nil {
		_ = b.Abort()
		return wrap(op, c.cfg, err)
	}
	return wrap(op, c.cfg, b.Send())
}

// InsertColumns writes one block of rows given column by column: data[i] is a
// slice ([]string, []time.Time, []float32, []float64, []uint32, []*uint8, ...)
// holding the values of columns[i]; all slices have the same length. The block
// is sent as one INSERT, which ClickHouse writes as a whole or not at all per
// partition.
func (c *Client) InsertColumns(ctx context.Context, table string, columns []string, data []any) error {
	op := "insert into " + table
	if err := checkColumns(columns, data); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	b, err := c.conn.PrepareBatch(ctx, insertSQL(table, columns))
	if err != nil {
		return wrap(op, c.cfg, err)
	}
	if err := appendColumns(b, columns, data); err != nil {
		_ = b.Abort()
		return wrap(op, c.cfg, err)
	}
	return wrap(op, c.cfg, b.Send())
}

// checkColumns says whether data has one slice per column.
func checkColumns(columns []string, data []any) error {
	if len(columns) != len(data) {
		return fmt.Errorf("%d columns but %d data slices", len(columns), len(data))
	}
	return nil
}

// appendColumns appends one block given column by column (InsertColumns'
// data) to b.
func appendColumns(b driver.Batch, columns []string, data []any) error {
	for i, col := range data {
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("column %s: %w", columns[i], err)
		}
	}
	return nil
}

// insertChunks writes rows rows as one INSERT sent in blocks of at most
// chunk rows: fill returns the columns of rows [start, end), as for
// InsertColumns. The driver keeps one block's buffers and refills them, so
// the string columns are not regrown for every block. The blocks are not
// one whole: only writes that become visible afterwards (a scoring run,
// published by its finished row) may use it.
func (c *Client) insertChunks(ctx context.Context, table string, columns []string, rows, chunk int, fill func(start, end int) ([]any, error)) error {
	op := "insert into " + table
	b, err := c.conn.PrepareBatch(ctx, insertSQL(table, columns))
	if err != nil {
		return wrap(op, c.cfg, err)
	}
	for start := 0; start < rows; start += chunk {
		// a cancelled run stops between blocks, not after the last
		if err := ctx.Err(); err != nil {
			_ = b.Abort()
			return wrap(op, c.cfg, err)
		}
		data, err := fill(start, min(start+chunk, rows))
		if err == nil {
			err = checkColumns(columns, data)
		}
		if err == nil {
			err = appendColumns(b, columns, data)
		}
		if err == nil {
			err = b.Flush()
		}
		if err != nil {
			_ = b.Abort()
			return wrap(op, c.cfg, err)
		}
	}
	return wrap(op, c.cfg, b.Send())
}
