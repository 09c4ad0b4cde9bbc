package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset"
)

// A staged import on a cluster stages where the rows will live. Its staging
// table is a Distributed table on the client's node, <table>_import_<id>,
// over a ReplicatedMergeTree <table>_import_<id>_local on every node (one
// ZooKeeper path per shard), sharded like the target by customer. So an
// INSERT (insert_distributed_sync) puts each staged row on the shard that
// will hold it and every replica of the shard gets a copy. A move is an
// INSERT INTO <table>_local SELECT of one staged partition, run on one
// replica of each shard (a local copy, replicated from there), without
// deduplication. Not ATTACH PARTITION ... FROM as on a single node:
// ReplicatedMergeTree deduplicates an attached part by its checksums, so
// the same file imported again after an undo (same parts) would be dropped
// without a word. The undo deletes by the staged keys shard by shard: each
// replica's delete reads its own complete copy of the shard's staged keys,
// and every customer's rows live on one shard.

// createStage makes the empty staging table of an import into target.
func (c *Client) createStage(ctx context.Context, target, stage string) error {
	if c.cfg.Cluster == "" {
		// Plain MergeTree even when the target is replicated, so it never
		// clashes with the target's replication path.
		return c.createStaging(ctx, target, stage, "MergeTree")
	}
	local := stage + localSuffix
	engine := fmt.Sprintf("ReplicatedMergeTree('/clickhouse/tables/{shard}/%s/%s', '{replica}')", c.cfg.Database, local)
	err := c.onEveryNode(ctx, c.cfg.Database, func(nc *Client) error {
		return nc.createStaging(ctx, target+localSuffix, local, engine)
	})
	if err != nil {
		return err
	}
	ddl := fmt.Sprintf("CREATE TABLE %s AS %s ENGINE = Distributed(%s, %s, %s, %s)",
		stage, local, c.cfg.Cluster, c.cfg.Database, local, shardingKey)
	return wrap("create the staging table "+stage, c.cfg, c.conn.Exec(ctx, ddl))
}

// dropStageTables drops an import's staging table(s). On a cluster the local
// tables go first, on every node: while one is left, the Distributed table
// on the client's node keeps the import listed for recovery.
func (c *Client) dropStageTables(ctx context.Context, stage string) error {
	if c.cfg.Cluster != "" {
		err := c.onEveryNode(ctx, c.cfg.Database, func(nc *Client) error {
			return nc.conn.Exec(ctx, "DROP TABLE IF EXISTS "+stage+localSuffix)
		})
		if err != nil {
			return err
		}
	}
	return c.conn.Exec(ctx, "DROP TABLE IF EXISTS "+stage)
}

// stagedMove is one partition to move, on one node (one replica of each
// shard on a cluster).
type stagedMove struct {
	addr      string // the node; empty on a single node
	partition string
}

// stagedMoves are the moves of an import and the connections that run them.
type stagedMoves struct {
	c             *Client
	target, stage string // the tables the moves run on: the local ones on a cluster
	partitionKey  string // the target's partition expression ("" for none); cluster only
	moves         []stagedMove
	nodes         map[string]*Client
}

// planMoves lists the partitions to move from stage into target: on a
// cluster, per shard, on the first replica that answers, once its copy of
// the staging table has every staged row.
func (c *Client) planMoves(ctx context.Context, target, stage string) (*stagedMoves, error) {
	sm := &stagedMoves{c: c, target: target, stage: stage, nodes: map[string]*Client{}}
	if c.cfg.Cluster == "" {
		parts, err := c.partitions(ctx, stage)
		for _, p := range parts {
			sm.moves = append(sm.moves, stagedMove{partition: p})
		}
		return sm, err
	}
	sm.target, sm.stage = target+localSuffix, stage+localSuffix
	err := c.onEachShard(ctx, c.cfg.Database, func(nc *Client) error {
		if err := nc.conn.Exec(ctx, "SYSTEM SYNC REPLICA "+sm.stage); err != nil {
			return wrap("wait for the staged rows of "+target, nc.cfg, err)
		}
		parts, err := nc.partitions(ctx, sm.stage)
		if err != nil {
			return err
		}
		if err := nc.conn.QueryRow(ctx, "SELECT partition_key FROM system.tables WHERE database = currentDatabase() AND name = ?",
			sm.target).Scan(&sm.partitionKey); err != nil {
			return wrap("read the partition key of "+sm.target, nc.cfg, err)
		}
		for _, p := range parts {
			sm.moves = append(sm.moves, stagedMove{addr: nc.cfg.Addr, partition: p})
		}
		return nil
	})
	return sm, err
}

// run moves one partition. The partition literal comes from system.parts,
// not from input.
func (sm *stagedMoves) run(ctx context.Context, m stagedMove) error {
	if m.addr == "" {
		return sm.c.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FROM %s", sm.target, m.partition, sm.stage))
	}
	on := sm.nodes[m.addr]
	if on == nil {
		var err error
		if on, err = sm.c.openNode(ctx, m.addr, sm.c.cfg.Database); err != nil {
			return err
		}
		sm.nodes[m.addr] = on
	}
	q := fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", sm.target, sm.stage)
	if sm.partitionKey != "" {
		q += fmt.Sprintf(" WHERE %s = %s", sm.partitionKey, m.partition)
	}
	return on.conn.Exec(ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplicate": 0})), q)
}

func (sm *stagedMoves) close() {
	for _, nc := range sm.nodes {
		nc.Close()
	}
}

// syncReplicas waits, on a cluster, until every replica holds the rows moved
// into table, so that a read right after the import sees all of them
// whichever replica answers it. A replica that does not answer gets them when
// it is back; that is logged, not an error: the import is complete.
func (c *Client) syncReplicas(ctx context.Context, table string) {
	if c.cfg.Cluster == "" {
		return
	}
	err := c.onEveryNode(ctx, c.cfg.Database, func(nc *Client) error {
		return nc.conn.Exec(ctx, "SYSTEM SYNC REPLICA "+table+localSuffix)
	})
	if err != nil {
		c.log.Warn("import: a replica does not hold every imported row yet; it fetches them once it answers", "table", table, "err", err)
	}
}

// undoClusterImport is undoImport on a cluster: every replica's copy of the
// staged keys and of the moved parts is brought up to date first (so every
// node must answer), the delete runs on each shard's local table, and the
// undo waits until no node holds a row of the import any more.
func (c *Client) undoClusterImport(ctx context.Context, t dataset.Table, imp PendingImport, opts ImportOptions) (uint64, error) {
	op := fmt.Sprintf("undo import %s into %s", imp.ID, t.Name)
	db := c.cfg.Database
	local, stage := t.Name+localSuffix, imp.Stage+localSuffix
	// Qualified: each replica runs the delete in the background, reading
	// its own copy of the staging table.
	match := keyMatch(t, db+"."+stage)
	err := c.onEveryNode(ctx, db, func(nc *Client) error {
		for _, table := range []string{stage, local} {
			if err := nc.conn.Exec(ctx, "SYSTEM SYNC REPLICA "+table); err != nil {
				return wrap(op+": wait for the replication of "+table, nc.cfg, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var present uint64
	err = c.onEachShard(ctx, db, func(nc *Client) error {
		var n uint64
		if err := nc.conn.QueryRow(ctx, "SELECT count() FROM "+local+" WHERE "+match).Scan(&n); err != nil {
			return wrap(op, nc.cfg, err)
		}
		present += n
		if n == 0 {
			return nil // an 18.16 mutation rewrites every part: skip it
		}
		return wrap(op, nc.cfg, nc.conn.Exec(ctx, "ALTER TABLE "+local+" DELETE WHERE "+match))
	})
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(opts.UndoWait)
	err = c.onEveryNode(ctx, db, func(nc *Client) error {
		for {
			if err := nc.awaitMutations(ctx, op, local, deadline); err != nil {
				return err
			}
			// A replica pulls the delete from ZooKeeper a little later than
			// the one that took it: wait until its rows are gone.
			var left uint64
			if err := nc.conn.QueryRow(ctx, "SELECT count() FROM "+local+" WHERE "+match).Scan(&left); err != nil {
				return wrap(op, nc.cfg, err)
			}
			if left == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				return churn.Errorf(churn.KindUnavailable, op, "%d rows of the import are still in %s after %s", left, local, opts.UndoWait)
			}
			select {
			case <-ctx.Done():
				return wrap(op, nc.cfg, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return present, c.journal(ctx, imp, stepUndone, opts.Now())
}
