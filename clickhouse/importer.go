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
	// AfterStaged, when set, is called once every block is in the staging
	// table, before anything moves; fault tests stop ClickHouse here.
	AfterStaged func()
	// AfterPartition, when set, is told each partition moved from the
	// staging table into the target table (and its rollups rebuilt).
	AfterPartition func(partition string)
	// UndoWait bounds how long a failed import waits for ClickHouse to delete
	// the rows it already moved; 0 means five minutes.
	UndoWait time.Duration
	// Now stamps the journal rows; nil means time.Now.
	Now func() time.Time
	// Owner names the importing process in the journal (host:pid, say), so
	// that RecoverImports can leave alone an import that is still running.
	Owner string
	// Running, when set, tells RecoverImports whether the process named by
	// an Owner is still running; nil treats every import as stopped.
	Running func(owner string) bool
}

// Import writes validated rows into a contract table, all or nothing, and
// empties data_origin: the tables no longer hold only synthetic data.
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
// a half-loaded file. Every step is written to import_journal first, with the
// import's id (also the suffix of its staging table), so that an import cut
// short while partitions move, by a crash of ClickHouse or of this process,
// is found again: RecoverImports takes its rows out, by the keys in its
// staging table, and drops the table. Deleting by key is exact because
// validation refused every key that was already stored. If moving a
// partition fails while ClickHouse still answers, Import undoes the import
// itself (a mutation, which 18.16 runs asynchronously, so Import waits for it).
// We chose staging over deleting blocks written straight into the table
// because the undo then rarely runs at all (moves are cheap metadata
// operations, loads are long), and because a delete by key of millions of
// rows would have to name them in the query.
//
// ATTACH fires no materialized view, so each month attached to usage_daily
// is rebuilt in the rollups (refreshRollups) right after its move, before
// the next one and before the journal says done (a cluster's moves are
// INSERTs, which fire the views); an undo, by Import or by a recovery,
// rebuilds the staged months again once the delete has run, so the rollups
// end equal to usage_daily either way.
//
// On a cluster the same steps run shard by shard (import_stage.go): rows are
// staged on the shard and replicas that will hold them, each shard's
// partitions move on one of its replicas and replicate from there, and the
// undo deletes on every shard and waits for every replica. The undo needs
// every node to answer; until it has run, a re-run of the import runs it
// first (RecoverImports).
//
// Cleanup runs even when ctx is cancelled. If the undo cannot finish, the
// error says to run the import again, which recovers it first; an error
// caused by ClickHouse being unreachable is always KindUnavailable.
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := c.clearOrigin(ctx); err != nil {
		return err
	}
	if n <= opts.BlockRows {
		if err := c.InsertColumns(ctx, t.Name, data.Names(), data.Block(0, n)); err != nil {
			return err
		}
		if opts.AfterBlock != nil {
			opts.AfterBlock(n)
		}
		// The Distributed insert wrote one replica of each shard; the
		// checks of the next import read any replica.
		c.syncReplicas(context.WithoutCancel(ctx), t.Name)
		return nil
	}
	return c.importStaged(ctx, t, data, opts)
}

func (c *Client) importStaged(ctx context.Context, t dataset.Table, data ImportData, opts ImportOptions) (err error) {
	op := "import into " + t.Name
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	id := hex.EncodeToString(suffix[:])
	imp := PendingImport{ID: id, Table: t.Name, Stage: stageName(t.Name, id), Rows: uint64(data.Len()), Owner: opts.Owner}
	// Journal first: a staging table is then never anonymous, even when the
	// process dies right after creating it.
	if err := c.journal(ctx, imp, stepStaging, opts.Now()); err != nil {
		return err
	}
	if err := c.createStage(ctx, t.Name, imp.Stage); err != nil {
		c.dropStage(context.WithoutCancel(ctx), imp.Stage)
		return err
	}
	// Cleanup must run after a cancellation too: that is when it matters.
	cleanup := context.WithoutCancel(ctx)
	keep := false
	defer func() {
		if !keep {
			c.dropStage(cleanup, imp.Stage)
		}
	}()

	names := data.Names()
	for from := 0; from < data.Len(); from += opts.BlockRows {
		to := min(from+opts.BlockRows, data.Len())
		if err := c.InsertColumns(ctx, imp.Stage, names, data.Block(from, to)); err != nil {
			return err
		}
		if opts.AfterBlock != nil {
			opts.AfterBlock(to - from)
		}
	}
	if opts.AfterStaged != nil {
		opts.AfterStaged()
	}

	moves, err := c.planMoves(ctx, t.Name, imp.Stage)
	if err != nil {
		return err
	}
	defer moves.close()
	// From here on rows may be in the table: the journal says so before the
	// first move, and the staging table must outlive any failure until the
	// moved rows are out again.
	if err := c.journal(ctx, imp, stepMoving, opts.Now()); err != nil {
		keep = true // the row may have been written even though the reply was lost
		return halfDone(op, imp, 0, len(moves.moves), err)
	}
	for i, m := range moves.moves {
		moved := i
		err := moves.run(ctx, m)
		if err == nil && m.addr == "" {
			// Attached rows bypass the materialized views of the rollups; a
			// cluster's INSERT ... SELECT moves fire them.
			moved = i + 1
			err = c.refreshRollups(ctx, t.Name, m.partition)
		}
		if err != nil {
			err = wrap(op+": move partition "+m.partition, c.cfg, err)
			if _, uerr := c.undoImport(cleanup, t, imp, opts); uerr != nil {
				keep = true
				return halfDone(op, imp, moved, len(moves.moves), errors.Join(err, uerr))
			}
			return err
		}
		if opts.AfterPartition != nil {
			opts.AfterPartition(m.partition)
		}
	}
	if err := c.journal(ctx, imp, stepDone, opts.Now()); err != nil {
		// Every row is in, but without the journal row a re-run takes them out
		// again before it loads the file: keep what that needs.
		keep = true
		return halfDone(op, imp, len(moves.moves), len(moves.moves), err)
	}
	c.syncReplicas(cleanup, t.Name)
	return nil
}

// halfDone is the error of an import stopped after it may have moved some of
// its partitions and before it could take them out again.
func halfDone(op string, imp PendingImport, moved, parts int, err error) error {
	kind := churn.KindInternal
	if unreachable(err) {
		kind = churn.KindUnavailable
	}
	return &churn.Error{Op: op, Kind: kind,
		Msg: fmt.Sprintf("import %s stopped after moving %d of %d partitions and could not take them out again; "+
			"run the same import again once ClickHouse answers: it takes this import's rows out (they are listed in "+
			"the staging table %s, which was kept) before it loads the file", imp.ID, moved, parts, imp.Stage),
		Err: err}
}

// unreachable tells whether err, or any error joined into it, says
// ClickHouse could not be reached.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	if churn.ErrorKind(err) == churn.KindUnavailable {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if unreachable(e) {
				return true
			}
		}
	}
	return false
}

// createStaging makes an empty table of the given MergeTree engine shaped
// like target: its columns, partitioning and sort order, which ATTACH
// PARTITION ... FROM requires.
func (c *Client) createStaging(ctx context.Context, target, stage, engine string) error {
	op := "create staging table for " + target
	var partition, sorting, primary string
	q := "SELECT partition_key, sorting_key, primary_key FROM system.tables WHERE database = currentDatabase() AND name = ?"
	if err := c.conn.QueryRow(ctx, q, target).Scan(&partition, &sorting, &primary); err != nil {
		return wrap(op, c.cfg, err)
	}
	ddl := fmt.Sprintf("CREATE TABLE %s AS %s ENGINE = %s", stage, target, engine)
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
