package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// usageRollup is one pre-aggregation of usage_daily per customer and month
// or week (migration 0010 creates it and says why it exists), as its
// materialized view defines it. The view's SELECT in the migration file is
// the one definition: the backfill of migrate and the rebuild of the months
// an import attaches run it too, restricted to one month.
type usageRollup struct {
	table  string // the view's TO table, partitioned by month like usage_daily
	view   string
	query  string // the view's SELECT over usage_daily, ending in GROUP BY
	source string // the table it reads: usage_daily
}

// usageRollups reads the rollups of usage_daily from the embedded
// migrations: every materialized view that reads usage_daily, in the order
// the migrations create them (a view created again by a later migration
// replaces its earlier definition; one whose view or table a later
// migration drops is gone, as migration 0018 dropped usage_weekly).
func usageRollups() ([]usageRollup, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	var out []usageRollup
	for _, m := range all {
		for _, stmt := range m.Statements {
			stmt = strings.TrimSpace(stmt)
			if d := dropRE.FindStringSubmatch(stmt); d != nil {
				out = slices.DeleteFunc(out, func(r usageRollup) bool { return r.view == d[2] || r.table == d[2] })
				continue
			}
			v := createViewRE.FindStringSubmatch(stmt)
			if v == nil || v[1] == "" {
				continue
			}
			to := viewToRE.FindStringSubmatch(v[4])
			if to == nil {
				continue
			}
			query, ok := strings.CutPrefix(strings.TrimSpace(to[2]), "AS")
			if !ok || !strings.Contains(query, "FROM usage_daily\n") || !strings.Contains(query, "GROUP BY") {
				continue
			}
			r := usageRollup{table: to[1], view: v[3], query: strings.TrimSpace(query), source: "usage_daily"}
			for i, prev := range out {
				if prev.view == r.view {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// monthSelect is the rollup's SELECT over the usage_daily rows of one month
// (a partition literal such as 202405), reading table instead of usage_daily
// (the local table on a cluster node).
func (r usageRollup) monthSelect(table, month string) string {
	q := strings.Replace(r.query, "FROM "+r.source+"\n", "FROM "+table+"\n", 1)
	i := strings.LastIndex(q, "GROUP BY")
	return q[:i] + "WHERE toYYYYMM(day) = " + month + "\n" + q[i:]
}

// backfillUsageRollups is migration 0010's work after its SQL: it builds
// the rollups of every month already in usage_daily, newest first (on a cluster, on one
// replica of each shard, from that shard's rows). Rebuilding a month is
// idempotent, so a migrate that died half way is safe to run again. A write
// to usage_daily while it runs may be missing from the month being rebuilt:
// migrate before loading data.
func (c *Client) backfillUsageRollups(ctx context.Context) error {
	return c.onShards(ctx, func(nc *Client) error {
		months, err := nc.partitions(ctx, c.storageTable("usage_daily"))
		if err != nil || len(months) == 0 {
			return err
		}
		var rows uint64
		if err := nc.conn.QueryRow(ctx, "SELECT count() FROM "+c.storageTable("usage_daily")).Scan(&rows); err != nil {
			return wrap("backfill usage rollups", c.cfg, err)
		}
		c.log.Info("migration: backfilling the usage rollups from usage_daily with INSERT ... SELECT, one month at a time",
			"node", nc.cfg.Addr, "months", len(months), "usage_rows", rows)
		rollups, err := usageRollups()
		if err != nil {
			return err
		}
		// Rollup by rollup, the cheap monthly masks first, and newest month
		// first: the snapshots of the latest dates, which scoring reads,
		// need the recent months.
		slices.Reverse(months)
		start := time.Now()
		for _, r := range rollups {
			for i, p := range months {
				t0 := time.Now()
				if err := nc.rebuildRollup(ctx, c.cfg.Cluster != "", r, p); err != nil {
					return err
				}
				c.log.Info("progress", "task", "backfill usage rollups", "table", r.table, "month", p, "done", i+1, "total", len(months),
					"month_took", time.Since(t0).Round(time.Millisecond), "elapsed", time.Since(start).Round(time.Second))
			}
		}
		return nil
	})
}

// onShards runs fn with a client of the node that holds each shard's
// storage tables: the client itself on a single node, one replica of each
// shard on a cluster (replication carries partition operations to the
// others).
func (c *Client) onShards(ctx context.Context, fn func(*Client) error) error {
	if c.cfg.Cluster == "" {
		return fn(c)
	}
	return c.onEachShard(ctx, c.cfg.Database, fn)
}

// refreshRollups brings the rollups of table up to date for partitions
// whose rows changed without an INSERT (which is what fires the views):
// partitions attached from a staging table, rows deleted by a mutation. It
// does nothing for tables without rollups. Rebuilding is idempotent, so a
// recovery may run it again for the same partitions.
func (c *Client) refreshRollups(ctx context.Context, table string, partitions ...string) error {
	if table != "usage_daily" || len(partitions) == 0 {
		return nil
	}
	return c.onShards(ctx, func(nc *Client) error {
		for _, p := range partitions {
			if err := nc.rebuildUsageRollups(ctx, c.cfg.Cluster != "", p); err != nil {
				return err
			}
		}
		return nil
	})
}

// rebuildUsageRollups recomputes one month (a usage_daily partition literal
// such as 202405) of every usage rollup from usage_daily, on the client's
// own node (local, with a cluster node's local tables): each is aggregated
// into a scratch table and swapped in with REPLACE PARTITION, so readers
// see the old month or the new one, never a mix. A month without usage rows
// leaves the rollup's month empty. Rows inserted into the same month while
// it runs may be missing from the result: import into usage_daily one file
// at a time.
func (c *Client) rebuildUsageRollups(ctx context.Context, local bool, partition string) error {
	rollups, err := usageRollups()
	if err != nil {
		return err
	}
	for _, r := range rollups {
		if err := c.rebuildRollup(ctx, local, r, partition); err != nil {
			return err
		}
	}
	return nil
}

// rebuildRollup recomputes one month of one rollup, as rebuildUsageRollups.
func (c *Client) rebuildRollup(ctx context.Context, local bool, r usageRollup, partition string) error {
	op := "rebuild usage rollups of month " + partition
	if !isMonth(partition) {
		return churn.Errorf(churn.KindInternal, op, "partition %q is not a YYYYMM month", partition)
	}
	name := func(t string) string {
		if local {
			return t + localSuffix
		}
		return t
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	scratch := r.table + "_rebuild_" + hex.EncodeToString(suffix[:])
	// A plain MergeTree like the importer's staging tables: it never
	// shares the replicated table's ZooKeeper path.
	if err := c.createStaging(ctx, name(r.table), scratch, "MergeTree"); err != nil {
		return err
	}
	err := c.conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s %s", scratch, r.monthSelect(name(r.source), partition)))
	if err == nil {
		err = c.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s REPLACE PARTITION %s FROM %s", name(r.table), partition, scratch))
	}
	// The scratch table goes even when the context is cancelled.
	if derr := c.conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+scratch); derr != nil {
		c.log.Warn("could not drop a scratch table", "table", scratch, "err", derr)
	}
	return wrap(op+" of "+r.table, c.cfg, err)
}

// truncateUsageRollups empties the rollups, with usage_daily: TRUNCATE
// fires no view.
func (c *Client) truncateUsageRollups(ctx context.Context) error {
	rollups, err := usageRollups()
	if err != nil {
		return err
	}
	for _, r := range rollups {
		if err := c.mutateSharded(ctx, "TRUNCATE TABLE %s", r.table); err != nil {
			return wrap("truncate "+r.table, c.cfg, err)
		}
	}
	return nil
}

// isMonth reports whether a partition literal is a toYYYYMM month, the only
// text rebuildUsageRollups splices into its SQL.
func isMonth(p string) bool {
	if len(p) != 6 {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
