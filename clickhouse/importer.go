package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset"
)

// DefaultImportBlockRows is the largest import written as a single INSERT
// block. A usage_daily block of two million rows is about 100 MB on the wire.
const DefaultImportBlockRows = 2_000_000

// ImportData is validated rows ready to write, handed out in blocks of
// driver-ready column slices; *dataset.Columns implements it.
type ImportData interface {
	Names() []string
	Len() int
	Block(from, to int) []any
}

// ImportOptions tunes Import.
type ImportOptions struct {
	BlockRows int // rows per INSERT block; 0 means DefaultImportBlockRows
	// AfterBlock, when set, is told the rows of each block written (for
	// progress). To stop an import, cancel its context.
	AfterBlock func(rows int)
	// AfterPartition, when set, is told each partition moved from the
	// staging table into the target table.
	AfterPartition func(partition string)
	// UndoWait bounds how long a failed import waits for ClickHouse to delete
	// the rows it already moved; 0 means five minutes.
	UndoWait time.Duration
}

// Import writes validated rows into a contract table, all or nothing.
//
// Up to BlockRows rows go in as one INSERT block straight into the table: a
// send that is interrupted or refused leaves nothing behind. (The server
// commits a block one partition after another, so a server fault between two
// of them, a full disk say, could keep part of a block that spans months; we
// accept that window rather than stage every small file.)
//
// Larger imports are loaded block by block into a staging table (a plain
// MergeTree with the target's columns, partitioning and sort order), then
// moved over one partition at a time with ALTER TABLE ... ATTACH PARTITION ...
// FROM, which links the staged parts into the table without copying them. A
// failure while loading only has to drop the staging table; readers never see
// a half-loaded file. If moving a later partition fails, the partitions
// already moved are taken out again by deleting the rows whose keys are in the
// staging table (a mutation, which 18.16 runs asynchronously, so Import waits
// for it). Deleting by key is exact because validation refused every key that
// was already stored. We chose staging over deleting blocks written straight
// into the table because the undo then rarely runs at all (moves are cheap
// metadata operations, loads are long), and because a delete by key of
// millions of rows would have to name them in the query.
//
// ATTACH fires no materialized view, so each partition moved into
// usage_daily is then rebuilt in its rollups (refreshRollups), and an undo
// rebuilds them again once the delete has run.
//
// Cleanup runs even when ctx is cancelled. If the undo cannot finish, the
// error says so and names the staging table kept for it.
func (c *Client) Import(ctx context.Context, table string, data ImportData, opts ImportOptions) error {
	op := "import into " + table
	t, ok := dataset.TableByName(table)
	if !ok {
		return churn.Invalid(op, "table", "%q is not a contract table", table)
	}
	n := data.Len()
	if n == 0 {
		return nil
	}
	if opts.BlockRows <= 0 {
		opts.BlockRows = DefaultImportBlockRows
	}
	if opts.UndoWait <= 0 {
		opts.UndoWait = 5 * time.Minute
	}
	if n <= opts.BlockRows {
		if err := c.InsertColumns(ctx, t.Name, data.Names(), data.Block(0, n)); err != nil {
			return err
		}
		if opts.AfterBlock != nil {
			opts.AfterBlock(n)
		}
		return nil
	}
	return c.importStaged(ctx, t, data, opts)
}

func (c *Client) importStaged(ctx context.Context, t dataset.Table, data ImportData, opts ImportOptions) (err error) {
	op := "import into " + t.Name
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	stage := t.Name + "_import_" + hex.EncodeToString(suffix[:])
	if err := c.createStaging(ctx, t.Name, stage); err != nil {
		return err
	}
	// Cleanup must run after a cancellation too: that is when it matters.
	cleanup := context.WithoutCancel(ctx)
	keep := false
	defer func() {
		if keep {
			return
		}
		if derr := c.conn.Exec(cleanup, "DROP TABLE IF EXISTS "+stage); derr != nil {
			c.log.Warn("import: could not drop the staging table", "table", stage, "err", derr)
		}
	}()

	names := data.Names()
	for from := 0; from < data.Len(); from += opts.BlockRows {
		to := min(from+opts.BlockRows, data.Len())
		if err := c.InsertColumns(ctx, stage, names, data.Block(from, to)); err != nil {
			return err
		}
		if opts.AfterBlock != nil {
			opts.AfterBlock(to - from)
		}
	}

	parts, err := c.partitions(ctx, stage)
	if err != nil {
		return err
	}
	for i, p := range parts {
		// The partition literal comes from system.parts, not from input.
		q := fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FROM %s", t.Name, p, stage)
		moved := i
		err := c.conn.Exec(ctx, q)
		if err == nil {
			// Attached rows bypass the materialized views of the rollups.
			moved = i + 1
			err = c.refreshRollups(ctx, t.Name, p)
		}
		if err != nil {
			err = wrap(op+": move partition "+p, c.cfg, err)
			if moved == 0 {
				return err
			}
			uerr := c.undoMoved(cleanup, t, stage, opts.UndoWait)
			if uerr == nil {
				uerr = c.refreshRollups(cleanup, t.Name, parts[:moved]...)
			}
			if uerr != nil {
				keep = true
				return &churn.Error{Op: op, Kind: churn.KindInternal,
					Msg: fmt.Sprintf("%d of %d partitions were moved before the import failed, and taking them out again failed too; "+
						"the staging table %s is kept for the pending delete, drop it once system.mutations shows it done", moved, len(parts), stage),
					Err: errors.Join(err, uerr)}
			}
			return err
		}
		if opts.AfterPartition != nil {
			opts.AfterPartition(p)
		}
	}
	return nil
}

// createStaging makes an empty MergeTree table shaped like target. It is
// plain MergeTree even when the target is replicated, so it never clashes
// with the target's replication path.
func (c *Client) createStaging(ctx context.Context, target, stage string) error {
	op := "create staging table for " + target
	var partition, sorting, primary string
	q := "SELECT partition_key, sorting_key, primary_key FROM system.tables WHERE database = currentDatabase() AND name = ?"
	if err := c.conn.QueryRow(ctx, q, target).Scan(&partition, &sorting, &primary); err != nil {
		return wrap(op, c.cfg, err)
	}
	ddl := fmt.Sprintf("CREATE TABLE %s AS %s ENGINE = MergeTree", stage, target)
	if partition != "" {
		ddl += " PARTITION BY " + partition
	}
	if sorting == "" {
		sorting = "tuple()"
	}
	ddl += " ORDER BY (" + sorting + ")"
	if primary != "" && primary != sorting {
		ddl += " PRIMARY KEY (" + primary + ")"
	}
	return wrap(op, c.cfg, c.conn.Exec(ctx, ddl))
}

// partitions lists the partitions of table as SQL literals.
func (c *Client) partitions(ctx context.Context, table string) ([]string, error) {
	rows, err := c.conn.Query(ctx, `SELECT DISTINCT partition FROM system.parts
WHERE database = currentDatabase() AND table = ? AND active ORDER BY partition`, table)
	if err != nil {
		return nil, wrap("list partitions of "+table, c.cfg, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, wrap("list partitions of "+table, c.cfg, err)
		}
		out = append(out, p)
	}
	return out, wrap("list partitions of "+table, c.cfg, rows.Err())
}

// undoMoved deletes from t the rows whose keys are in stage and waits until
// the delete has run: the mutation reads stage, which must outlive it.
func (c *Client) undoMoved(ctx context.Context, t dataset.Table, stage string, wait time.Duration) error {
	op := "undo import into " + t.Name
	key := strings.Join(t.Key, ", ")
	q := fmt.Sprintf("ALTER TABLE %s DELETE WHERE (%s) IN (SELECT %s FROM %s)", t.Name, key, key, stage)
	if len(t.Key) == 1 {
		q = fmt.Sprintf("ALTER TABLE %s DELETE WHERE %s IN (SELECT %s FROM %s)", t.Name, key, key, stage)
	}
	if err := c.conn.Exec(ctx, q); err != nil {
		return wrap(op, c.cfg, err)
	}
	deadline := time.Now().Add(wait)
	for {
		var pending uint64
		err := c.conn.QueryRow(ctx, `SELECT count() FROM system.mutations
WHERE database = currentDatabase() AND table = ? AND is_done = 0`, t.Name).Scan(&pending)
		if err != nil {
			return wrap(op, c.cfg, err)
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return churn.Errorf(churn.KindUnavailable, op, "the delete of the moved rows is still running after %s", wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ScanKeys implements dataset.KeyLookup: it streams the stored values of some
// columns of a contract table in the canonical text of a CSV cell, so the
// importer compares them with the file without holding the table in memory.
func (c *Client) ScanKeys(ctx context.Context, s dataset.KeyScan, fn func(vals []string) error) error {
	op := "read keys of " + s.Table
	t, ok := dataset.TableByName(s.Table)
	if !ok || len(s.Columns) == 0 {
		return churn.Invalid(op, "table", "%q is not a contract table", s.Table)
	}
	exprs := make([]string, len(s.Columns))
	for i, col := range s.Columns {
		if _, ok := t.Column(col.Name); !ok {
			return churn.Invalid(op, "column", "%s has no column %q", s.Table, col.Name)
		}
		exprs[i] = textExpr(col)
	}
	// Names are checked against the contract above; values are bound.
	q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(exprs, ", "), s.Table)
	var args []any
	if r := s.Range; r != nil {
		if _, ok := t.Column(r.Column.Name); !ok {
			return churn.Invalid(op, "column", "%s has no column %q", s.Table, r.Column.Name)
		}
		lit := "?"
		switch r.Column.Type {
		case dataset.Date:
			lit = "toDate(?)"
		case dataset.DateTime:
			lit = "toDateTime(?, 'UTC')"
		}
		q += fmt.Sprintf(" WHERE %[1]s >= %[2]s AND %[1]s <= %[2]s", r.Column.Name, lit)
		args = append(args, r.From, r.To)
	}
	rows, err := c.conn.Query(ctx, q, args...)
	if err != nil {
		return wrap(op, c.cfg, err)
	}
	defer rows.Close()
	vals := make([]string, len(s.Columns))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return wrap(op, c.cfg, err)
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return wrap(op, c.cfg, rows.Err())
}

// textExpr renders a column as the CSV importer writes its values: Date as
// YYYY-MM-DD, DateTime in UTC whatever the server's time zone, NULL as "".
func textExpr(col dataset.Column) string {
	e := col.Name
	switch col.Type {
	case dataset.String:
	case dataset.DateTime:
		e = "toString(" + e + ", 'UTC')"
	default:
		e = "toString(" + e + ")"
	}
	if col.Nullable {
		e = "ifNull(" + e + ", '')"
	}
	return e
}
