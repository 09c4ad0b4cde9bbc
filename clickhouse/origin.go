package clickhouse

import (
	"context"
	"time"
)

// originSeed marks contract tables filled by `churn seed`.
const originSeed = "seed"

// MarkSeeded records that the contract tables hold a synthetic operator made
// with seed; `churn seed` calls it once the load has finished.
func (c *Client) MarkSeeded(ctx context.Context, seed uint64, at time.Time) error {
	return c.insertRow(ctx, "data_origin", []string{"origin", "seed", "at"}, originSeed, seed, at.UTC().Truncate(time.Second))
}

// Seeded says whether the contract tables hold only what `churn seed` loaded:
// seed marked them and nothing was imported since.
func (c *Client) Seeded(ctx context.Context) (bool, error) {
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM data_origin WHERE origin = ?", originSeed).Scan(&n); err != nil {
		return false, wrap("read data_origin", c.cfg, err)
	}
	return n > 0, nil
}

// clearOrigin forgets where the data came from: run before the contract
// tables are emptied for a new seed, and before any import.
func (c *Client) clearOrigin(ctx context.Context) error {
	return wrap("clear data_origin", c.cfg, c.conn.Exec(ctx, "TRUNCATE TABLE data_origin"))
}
