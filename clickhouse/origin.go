package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
)

// originSeed marks contract tables filled by `churn seed`.
const originSeed = "seed"

// MarkSeeded records that the contract tables hold a synthetic operator made
// with seed; `churn seed` calls it once the load has finished.
func (c *Client) MarkSeeded(ctx context.Context, seed uint64, at time.Time) error {
	err := c.insertRow(ctx, "data_origin", []string{"origin", "seed", "at"}, originSeed, seed, at.UTC().Truncate(time.Second))
	return c.unmigrated("mark the data as seeded", "data_origin", err)
}

// Seeded says whether the contract tables hold only what `churn seed` loaded:
// seed marked them and nothing was imported since.
func (c *Client) Seeded(ctx context.Context) (bool, error) {
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM data_origin WHERE origin = ?", originSeed).Scan(&n); err != nil {
		return false, c.unmigrated("read data_origin", "data_origin", wrap("read data_origin", c.cfg, err))
	}
	return n > 0, nil
}

// clearOrigin forgets where the data came from: run before the contract
// tables are emptied for a new seed, and before any import.
func (c *Client) clearOrigin(ctx context.Context) error {
	// On a cluster data_origin is replicated to every node, and TRUNCATE
	// goes to its leader replica.
	err := retryLeaderChange(ctx, func() error { return c.conn.Exec(ctx, "TRUNCATE TABLE data_origin") })
	return c.unmigrated("clear data_origin", "data_origin", wrap("clear data_origin", c.cfg, err))
}

// unmigrated turns the error of a table that does not exist yet into advice
// to migrate: databases made before the table's migration lack it.
func (c *Client) unmigrated(op, table string, err error) error {
	var ex *ch.Exception
	if errors.As(err, &ex) && ex.Code == 60 { // UNKNOWN_TABLE
		return &churn.Error{Op: op, Kind: churn.KindNotFound,
			Msg: fmt.Sprintf("database %s has no table %s: its schema is older than this churn; run `churn migrate`", c.cfg.Database, table)}
	}
	return err
}
