package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
)

// ClusterNode is one server of the cluster as system.clusters lists it.
type ClusterNode struct {
	Shard   uint32
	Replica uint32
	Addr    string // host:port of the native protocol
}

// Cluster is the name of the ClickHouse cluster the client works on, empty
// on a single node.
func (c *Client) Cluster() string { return c.cfg.Cluster }

// ClusterNodes lists the servers of the client's cluster, by shard and
// replica, as the server the client is connected to knows them.
func (c *Client) ClusterNodes(ctx context.Context) ([]ClusterNode, error) {
	op := "list the nodes of cluster " + c.cfg.Cluster
	var out []ClusterNode
	err := c.each(ctx, op, `SELECT shard_num, replica_num, host_address, port FROM system.clusters
WHERE cluster = ? ORDER BY shard_num, replica_num`, func(s scanner) error {
		var n ClusterNode
		var host string
		var port uint16
		if err := s.Scan(&n.Shard, &n.Replica, &host, &port); err != nil {
			return err
		}
		n.Addr = fmt.Sprintf("%s:%d", host, port)
		out = append(out, n)
		return nil
	}, c.cfg.Cluster)
	if err == nil && len(out) == 0 {
		err = churn.Invalid(op, "cluster", "the server at %s has no cluster %q in its remote_servers", c.cfg.Addr, c.cfg.Cluster)
	}
	return out, err
}

// openNode connects to one node of the cluster with the client's
// credentials, as to a single server: what it runs there is already placed.
func (c *Client) openNode(ctx context.Context, addr, database string) (*Client, error) {
	cfg := c.cfg
	cfg.Addr, cfg.Cluster = addr, ""
	return open(ctx, cfg, database, c.log)
}

// onEveryNode runs fn against each node of the cluster in turn; every node
// must answer.
func (c *Client) onEveryNode(ctx context.Context, database string, fn func(*Client) error) error {
	nodes, err := c.ClusterNodes(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		nc, err := c.openNode(ctx, n.Addr, database)
		if err != nil {
			return err
		}
		err = fn(nc)
		nc.Close()
		if err != nil {
			return fmt.Errorf("node %s (shard %d): %w", n.Addr, n.Shard, err)
		}
	}
	return nil
}

// onEachShard runs fn against one replica of each shard: the first that
// answers, so a shard with one replica down still takes the statement (the
// replicated table carries it to the other replica when it is back).
func (c *Client) onEachShard(ctx context.Context, database string, fn func(*Client) error) error {
	nodes, err := c.ClusterNodes(ctx)
	if err != nil {
		return err
	}
	done := map[uint32]bool{}
	var errs []error
	for _, n := range nodes {
		if done[n.Shard] {
			continue
		}
		nc, err := c.openNode(ctx, n.Addr, database)
		if err != nil {
			errs = append(errs, fmt.Errorf("shard %d replica %d: %w", n.Shard, n.Replica, err))
			continue
		}
		err = fn(nc)
		nc.Close()
		if err != nil {
			return fmt.Errorf("shard %d (%s): %w", n.Shard, n.Addr, err)
		}
		done[n.Shard] = true
	}
	for _, n := range nodes {
		if !done[n.Shard] {
			return fmt.Errorf("no replica of shard %d answered: %w", n.Shard, errors.Join(errs...))
		}
	}
	return nil
}

// execClusterStmt runs one translated statement where it belongs; a node
// that finds a column the statement adds already there may forgive it
// (addedBefore).
func (c *Client) execClusterStmt(ctx context.Context, s clusterStmt) error {
	run := func(nc *Client) error { return nc.addedBefore(ctx, s.sql, nc.conn.Exec(ctx, s.sql)) }
	switch s.where {
	case onEveryNode:
		return c.onEveryNode(ctx, c.cfg.Database, run)
	case onEachShard:
		return c.onEachShard(ctx, c.cfg.Database, run)
	default:
		return run(c)
	}
}

// storageTable is the table that holds a sharded table's rows on each node:
// NAME_local on a cluster, NAME itself on a single node.
func (c *Client) storageTable(name string) string {
	if c.cfg.Cluster == "" {
		return name
	}
	return name + localSuffix
}

// mutateSharded runs a mutation or a partition operation (ALTER TABLE ...
// DELETE, TRUNCATE) on a table sharded by customer: on a single node as is,
// on a cluster against the local table on one replica of each shard, since
// ON CLUSTER forms of these statements deadlock on replicated tables in
// ClickHouse 18.16. stmt has one %s for the table name.
func (c *Client) mutateSharded(ctx context.Context, stmt, table string, args ...any) error {
	if c.cfg.Cluster == "" {
		return c.conn.Exec(ctx, fmt.Sprintf(stmt, table), args...)
	}
	q := fmt.Sprintf(stmt, c.storageTable(table))
	return c.onEachShard(ctx, c.cfg.Database, func(nc *Client) error {
		return retryLeaderChange(ctx, func() error { return nc.conn.Exec(ctx, q, args...) })
	})
}

// leaderWait bounds how long retryLeaderChange waits for a table's replicas
// to agree on a leader. A leader that died keeps its ZooKeeper node until
// its session expires (30 s in scripts/cluster.sh's <session_timeout_ms>),
// so the wait must outlast a session; 20 s did not in CI.
const leaderWait = 45 * time.Second

// retryLeaderChange runs fn again while ClickHouse answers that the leader
// replica of the table changed or cannot be reached. A replicated table
// sends TRUNCATE and partition operations to its leader replica, and for a
// while after a replica died or restarted the leader is being elected again.
func retryLeaderChange(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(leaderWait)
	for {
		err := fn()
		var ex *ch.Exception
		// LEADERSHIP_CHANGED; ALL_CONNECTION_TRIES_FAILED (to the leader).
		if err == nil || !errors.As(err, &ex) || (ex.Code != 292 && ex.Code != 279) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// awaitMutations waits until no mutation of table is pending on this
// node, checking every 100 ms, until ctx ends or, when deadline is not
// zero, until deadline. (On a cluster a replica lists a mutation only once it
// has pulled it from ZooKeeper: awaitDeleted and the undo of a cluster
// import count the rows there too.)
func (c *Client) awaitMutations(ctx context.Context, op, table string, deadline time.Time) error {
	for {
		var pending uint64
		err := c.conn.QueryRow(ctx, `SELECT count() FROM system.mutations
WHERE database = ? AND table = ? AND is_done = 0`, c.cfg.Database, table).Scan(&pending)
		if err != nil {
			return wrap(op, c.cfg, err)
		}
		if pending == 0 {
			return nil
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return churn.Errorf(churn.KindUnavailable, op, "a delete in %s is still running at the end of the wait", table)
		}
		select {
		case <-ctx.Done():
			return wrap(op, c.cfg, fmt.Errorf("waiting for the mutation of %s: %w", table, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
