package clickhouse

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// qualifyingConn names the database of every table a query reads (FROM and
// JOIN) before sending it. On a cluster, a distributed query sends its
// subqueries to the other shards as written, where an unqualified table
// (score_runs in `run_id IN (SELECT run_id FROM score_runs)`) would be looked
// up in the remote connection's default database.
type qualifyingConn struct {
	driver.Conn
	layout *clusterLayout
	db     string
}

func (q qualifyingConn) fix(query string) string { return q.layout.qualify(query, q.db, false) }

func (q qualifyingConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	return q.Conn.Query(ctx, q.fix(query), args...)
}

func (q qualifyingConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return q.Conn.QueryRow(ctx, q.fix(query), args...)
}

func (q qualifyingConn) Exec(ctx context.Context, query string, args ...any) error {
	return q.Conn.Exec(ctx, q.fix(query), args...)
}

func (q qualifyingConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	return q.Conn.Select(ctx, dest, q.fix(query), args...)
}

// migrationsLayout says which tables are sharded by customer, from the
// embedded migrations: the translation migrate runs, without executing it.
func migrationsLayout(db, cluster string) (*clusterLayout, error) {
	l := newClusterLayout()
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	stmts := []string{schemaMigrationsDDL}
	for _, m := range all {
		stmts = append(stmts, m.Statements...)
	}
	for _, s := range stmts {
		if _, err := l.translate(s, db, cluster); err != nil {
			return nil, err
		}
	}
	return l, nil
}
