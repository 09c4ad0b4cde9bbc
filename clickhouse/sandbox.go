package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// Sandbox is a scratch database holding copies of some tables of the
// client's database, for `churn features check`: rows dated on or after an
// as-of date are added to the copies, never to the operator's tables.
type Sandbox struct {
	*Client          // connected to the scratch database (single node)
	tables  []string // the copied tables
}

// futureOffsets are the days after the as-of date T at which AddFutureRows
// dates its copies: T itself (the first day a point-in-time query must not
// see), the day after and a later month.
const futureOffsets = "0, 1, 40"

// maxFutureRows bounds the future copies of one table.
const maxFutureRows = 100000

// NewSandbox creates a scratch database next to the client's and copies
// into it the given tables of the client's database that exist (others,
// such as table functions or subquery aliases, are skipped): of a table
// with a customer_id column only the rows of up to customers customers
// (picked by hash, so the same ones each time); of other tables every row.
// Drop removes it.
func (c *Client) NewSandbox(ctx context.Context, tables []string, customers int) (*Sandbox, error) {
	const op = "create scratch database"
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := c.cfg.Database + "_check_" + hex.EncodeToString(b[:])
	if !identRE.MatchString(name) {
		return nil, churn.Invalid(op, "database", "%q is not a valid database name", name)
	}
	cfg := c.cfg
	cfg.Cluster = "" // the copies live on the one server this client talks to
	cfg.Database = name
	if err := c.conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	sc, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		_ = c.conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name)
		return nil, err
	}
	s := &Sandbox{Client: sc}
	if err := s.copyTables(ctx, c, tables, customers); err != nil {
		_ = s.Drop(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) copyTables(ctx context.Context, src *Client, tables []string, customers int) error {
	for _, t := range tables {
		if strings.Contains(t, ".") {
			return churn.Invalid("copy tables", "features-dir", "%s names another database: a family reads tables of %s only", t, src.cfg.Database)
		}
		cols, err := src.columnTypes(ctx, t)
		if err != nil {
			return err
		}
		if cols == nil {
			continue // not a table of the database
		}
		// Names come from system.columns and are quoted; the count is an int.
		q := fmt.Sprintf("CREATE TABLE %s ENGINE = Log AS SELECT * FROM %s.%s", quoteName(t), src.cfg.Database, quoteName(t))
		if _, ok := cols["customer_id"]; ok {
			// One sample for every table, so that joins on the customer
			// still meet: from customers when the database has it.
			from := "customers"
			if c, _ := src.columnTypes(ctx, from); c["customer_id"] == "" {
				from = t
			}
			q += fmt.Sprintf(" WHERE customer_id IN (SELECT customer_id FROM %s.%s GROUP BY customer_id ORDER BY cityHash64(customer_id) LIMIT %d)",
				src.cfg.Database, quoteName(from), customers)
		}
		if err := s.conn.Exec(ctx, q); err != nil {
			return wrap("copy "+t+" into "+s.cfg.Database, s.cfg, err)
		}
		s.tables = append(s.tables, t)
	}
	return nil
}

// Tables returns the tables the sandbox copied.
func (s *Sandbox) Tables() []string { return slices.Clone(s.tables) }

// AddFutureRows adds to every copied table that has a Date or DateTime
// column copies of its rows with every such column set on or after asOf
// (asOf, the day after, 40 days later) and every number that is not an id
// changed (x*2+1), so that a family reading them would see other values. It
// returns the rows added.
func (s *Sandbox) AddFutureRows(ctx context.Context, asOf time.Time) (int64, error) {
	const op = "add future rows"
	t := asOf.Format(time.DateOnly)
	var added int64
	for _, table := range s.tables {
		cols, order, err := s.columnList(ctx, table)
		if err != nil {
			return 0, err
		}
		var exprs, names []string
		dated := false
		for _, name := range order {
			typ := strings.TrimSuffix(strings.TrimPrefix(cols[name], "Nullable("), ")")
			q := quoteName(name)
			names = append(names, q)
			switch {
			case typ == "Date":
				exprs, dated = append(exprs, fmt.Sprintf("toDate('%s') + _k", t)), true
			case typ == "DateTime":
				exprs, dated = append(exprs, fmt.Sprintf("toDateTime(toDate('%s') + _k)", t)), true
			case isNumber(typ) && !strings.HasSuffix(name, "_id") && name != "id":
				exprs = append(exprs, q+" * 2 + 1")
			default:
				exprs = append(exprs, q)
			}
		}
		if !dated {
			continue
		}
		for i := range exprs {
			exprs[i] += fmt.Sprintf(" AS _c%d", i) // two dates would share a name
		}
		// Staged through a second table: a Log table is not read and
		// written by one statement.
		stage := quoteName("_future_" + table)
		if err := s.conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s ENGINE = Log AS SELECT %s FROM %s ARRAY JOIN [%s] AS _k LIMIT %d",
			stage, strings.Join(exprs, ", "), quoteName(table), futureOffsets, maxFutureRows)); err != nil {
			return 0, wrap(op+" to "+table, s.cfg, err)
		}
		var n uint64
		err = s.conn.QueryRow(ctx, "SELECT count() FROM "+stage).Scan(&n)
		if err == nil {
			err = s.conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM %s", quoteName(table), strings.Join(names, ", "), stage))
		}
		if err == nil {
			err = s.conn.Exec(ctx, "DROP TABLE "+stage)
		}
		if err != nil {
			return 0, wrap(op+" to "+table, s.cfg, err)
		}
		added += int64(n)
	}
	return added, nil
}

// Drop removes the scratch database and closes its connections.
func (s *Sandbox) Drop(ctx context.Context) error {
	err := s.DropDatabase(ctx)
	s.Close()
	return err
}

// columnTypes returns a table's columns and their types, nil when the
// database has no such table.
func (c *Client) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	cols, _, err := c.columnList(ctx, table)
	if len(cols) == 0 {
		cols = nil
	}
	return cols, err
}

// columnList returns a table's column types by name and the names (in the
// order system.columns lists them, which INSERTs name explicitly); none when
// the database has no such table.
func (c *Client) columnList(ctx context.Context, table string) (map[string]string, []string, error) {
	op := "read columns of " + table
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", c.cfg.Database, table).Scan(&n); err != nil {
		return nil, nil, wrap(op, c.cfg, err)
	}
	cols := map[string]string{}
	if n == 0 {
		return cols, nil, nil
	}
	var order []string
	err := c.each(ctx, op, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", func(r scanner) error {
		var name, typ string
		if err := r.Scan(&name, &typ); err != nil {
			return err
		}
		cols[name] = typ
		order = append(order, name)
		return nil
	}, c.cfg.Database, table)
	return cols, order, err
}

func isNumber(typ string) bool {
	return strings.HasPrefix(typ, "Int") || strings.HasPrefix(typ, "UInt") || strings.HasPrefix(typ, "Float")
}

// quoteName quotes an identifier with backquotes.
func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }
