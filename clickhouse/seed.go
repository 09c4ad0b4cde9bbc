package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/telcoretain/churn/dataset"
)

// TruncateContractTables empties the input contract tables, nps_surveys and the
// rollups of usage_daily, as `churn seed` does before it loads a synthetic
// operator. The output tables (models, scores, actions) are left alone. The
// tables lose their seed mark first, so that a load cut short is never taken
// for a synthetic operator.
func (c *Client) TruncateContractTables(ctx context.Context) error {
	if err := c.clearOrigin(ctx); err != nil {
		return err
	}
	for _, t := range dataset.Tables {
		// Names come from the contract in code, not from input.
		if err := c.mutateSharded(ctx, "TRUNCATE TABLE %s", t.Name); err != nil {
			return wrap("truncate "+t.Name, c.cfg, err)
		}
	}
	// The synthetic operator's extra table (migration 0014) goes with them.
	if err := c.mutateSharded(ctx, "TRUNCATE TABLE %s", "nps_surveys"); err != nil {
		return wrap("truncate nps_surveys", c.cfg, err)
	}
	// TRUNCATE fires no view: the rollups are emptied by hand.
	return c.truncateUsageRollups(ctx)
}

// TableChecksum is a fingerprint of a table's contents: its row count and the
// sum of a hash of every row. The sum does not depend on row order or on how
// the rows were split into parts, so two loads of the same data agree.
type TableChecksum struct {
	Table string
	Rows  uint64
	Sum   uint64
}

// ContractChecksums fingerprints each input contract table, in load order.
func (c *Client) ContractChecksums(ctx context.Context) ([]TableChecksum, error) {
	out := make([]TableChecksum, 0, len(dataset.Tables))
	for _, t := range dataset.Tables {
		cs, err := c.TableChecksum(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}

// TableChecksum fingerprints one contract table inside ClickHouse, so only
// two numbers cross the wire however large the table.
func (c *Client) TableChecksum(ctx context.Context, t dataset.Table) (TableChecksum, error) {
	cs := TableChecksum{Table: t.Name}
	if err := c.conn.QueryRow(ctx, checksumSQL(t)).Scan(&cs.Rows, &cs.Sum); err != nil {
		return cs, wrap("checksum "+t.Name, c.cfg, err)
	}
	return cs, nil
}

// checksumSQL hashes every column of the table; NULLs become a marker string
// because cityHash64 of a NULL argument is NULL and sum would skip the row.
func checksumSQL(t dataset.Table) string {
	cols := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = col.Name
		if col.Nullable {
			cols[i] = fmt.Sprintf(`ifNull(toString(%s), '\\N')`, col.Name)
		}
	}
	return fmt.Sprintf("SELECT count(), sum(cityHash64(%s)) FROM %s", strings.Join(cols, ", "), t.Name)
}
