package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// replicaWait bounds how long a write waits for its rows to reach the other
// replicas of their shard. Replication fetches a new part within a second
// on a healthy cluster; a replica that died holding the only copy of a part
// keeps it out of sight until it is back, which no wait mends.
const replicaWait = 30 * time.Second

// replicaPoll is how often the replicas' counts are read again.
const replicaPoll = 250 * time.Millisecond

// replicaCountTimeout bounds one count on one replica: a replica that hangs
// (it accepts connections but does not answer) is left out like one that
// refuses them.
const replicaCountTimeout = 10 * time.Second

// awaitReplicas waits until the rows a write just put in a sharded table
// (counted by where on each node's local table) are on every replica of
// their shard that answers, and add up to want over the shards.
//
// A synchronous insert through a Distributed table returns once one replica
// of each shard holds the rows; the others fetch them asynchronously. A
// replica that dies in between takes the rows out of sight, for the
// Distributed table then reads its shard from a replica without them. So a
// write that must be whole when it becomes visible (a scoring run) waits
// here before it is published. A replica that cannot be reached is left
// out; a shard with no replica left, or rows that do not add up within
// replicaWait, fail with KindUnavailable naming what each replica holds.
// On a single node it returns at once.
func (c *Client) awaitReplicas(ctx context.Context, op, table, where string, want uint64, args ...any) error {
	return c.pollReplicas(ctx, op, table, where, args, func(settled bool, total uint64, held string) (bool, error) {
		switch {
		case settled && total == want:
			return true, nil
		case settled && total > want:
			return false, &churn.Error{Op: op, Kind: churn.KindInternal,
				Msg: fmt.Sprintf("%d rows written, but the replicas hold more: %s", want, held)}
		}
		return false, nil
	}, func(held string) string {
		return fmt.Sprintf("%d rows written, but after %s the replicas hold %s", want, replicaWait, held)
	})
}

// awaitDeleted waits until a delete (ALTER TABLE ... DELETE WHERE where) of
// a sharded table is done: on a single node until the table has no pending
// mutation; on a cluster until no replica that answers holds a row that
// where matches. Each replica pulls a mutation from ZooKeeper in its own
// time, and until it has, its system.mutations does not list it as
// pending, so counting pending mutations could end the wait early; the rows
// themselves tell. Replicas that cannot be reached are left out as in
// awaitReplicas.
func (c *Client) awaitDeleted(ctx context.Context, op, table, where string, args ...any) error {
	if c.cfg.Cluster == "" {
		return c.awaitMutations(ctx, op, table, time.Time{})
	}
	return c.pollReplicas(ctx, op, table, where, args, func(settled bool, total uint64, _ string) (bool, error) {
		return settled && total == 0, nil
	}, func(held string) string {
		return fmt.Sprintf("after %s the delete still leaves rows on the replicas: %s", replicaWait, held)
	})
}

// AwaitActionEventsReplicated waits until the replicas of each shard that
// answer hold the same action events. An owner's events reach one replica
// of their shard when it writes them, the other a moment later; a server
// that takes the queue over replays the log through the Distributed table,
// which reads each shard from either replica, so it waits here first
// (retention.Queue.CatchUp) lest it miss the last events of an owner that
// died. The log is only appended to, so equal counts are equal events.
func (c *Client) AwaitActionEventsReplicated(ctx context.Context) error {
	return c.awaitAgreed(ctx, "replicate action_events", "action_events", "action events")
}

// awaitAgreed waits until the replicas of each shard that answer hold the
// same number of rows of table (what names them in messages): after an
// append through the Distributed table, the rows are then on every replica.
// It waits at most replicaWait and leaves out replicas that cannot be
// reached, as awaitReplicas does; on a single node it returns at once.
func (c *Client) awaitAgreed(ctx context.Context, op, table, what string) error {
	return c.pollReplicas(ctx, op, table, "", nil, func(settled bool, _ uint64, _ string) (bool, error) {
		return settled, nil
	}, func(held string) string {
		return fmt.Sprintf("after %s the replicas of the shards still hold different numbers of %s: %s", replicaWait, what, held)
	})
}

// pollReplicas counts the rows where matches ("": all rows) on every node's
// local table every replicaPoll until done says so (given whether the answering
// replicas of each shard agree, one count per shard added up, and what each
// replica holds, for messages), done fails, a shard has no replica that
// answers, or replicaWait passes (late says what then). A replica that
// cannot be reached, or fails to count in replicaCountTimeout, is left out.
func (c *Client) pollReplicas(ctx context.Context, op, table, where string, args []any,
	done func(settled bool, total uint64, held string) (bool, error), late func(held string) string) error {
	if c.cfg.Cluster == "" {
		return nil
	}
	nodes, err := c.ClusterNodes(ctx)
	if err != nil {
		return err
	}
	q := "SELECT count() FROM " + c.storageTable(table)
	if where != "" {
		q += " WHERE " + where
	}
	live := make([]*Client, len(nodes))
	down := make([]error, len(nodes))
	defer func() {
		for _, nc := range live {
			if nc != nil {
				nc.Close()
			}
		}
	}()
	for i, n := range nodes {
		if live[i], down[i] = c.openNode(ctx, n.Addr, c.cfg.Database); down[i] != nil && churn.ErrorKind(down[i]) != churn.KindUnavailable {
			return down[i]
		}
	}
	deadline := time.Now().Add(replicaWait)
	for {
		counts := make([]uint64, len(nodes))
		for i, nc := range live {
			if nc == nil {
				continue
			}
			qctx, cancel := context.WithTimeout(ctx, replicaCountTimeout)
			err := nc.conn.QueryRow(qctx, q, args...).Scan(&counts[i])
			cancel()
			if err = wrap(op, nc.cfg, err); err != nil {
				if ctx.Err() != nil || churn.ErrorKind(err) != churn.KindUnavailable {
					return err
				}
				c.log.Warn("replica failed while waiting for the replicas", "shard", nodes[i].Shard, "replica", nodes[i].Addr, "err", err)
				nc.Close()
				live[i], down[i] = nil, err
			}
		}
		settled, total, err := replicaCounts(nodes, live, counts)
		if err != nil {
			return &churn.Error{Op: op, Kind: churn.KindUnavailable,
				Msg: fmt.Sprintf("%v: %s", err, describeReplicas(nodes, live, counts, down))}
		}
		held := describeReplicas(nodes, live, counts, down)
		ok, err := done(settled, total, held)
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		case time.Now().After(deadline):
			return &churn.Error{Op: op, Kind: churn.KindUnavailable, Msg: late(held)}
		}
		select {
		case <-ctx.Done():
			return wrap(op, c.cfg, ctx.Err())
		case <-time.After(replicaPoll):
		}
	}
}

// replicaCounts checks that each shard has a replica that answered and that
// its answering replicas agree (settled), and adds up one count per shard.
func replicaCounts(nodes []ClusterNode, live []*Client, counts []uint64) (settled bool, total uint64, err error) {
	settled = true
	seen := map[uint32]uint64{}
	for i, n := range nodes {
		if live[i] == nil {
			continue
		}
		if k, ok := seen[n.Shard]; ok {
			settled = settled && k == counts[i]
			continue
		}
		seen[n.Shard] = counts[i]
		total += counts[i]
	}
	for _, n := range nodes {
		if _, ok := seen[n.Shard]; !ok {
			return false, 0, fmt.Errorf("no replica of shard %d answered", n.Shard)
		}
	}
	return settled, total, nil
}

// describeReplicas lists what each replica holds, or why it is left out.
func describeReplicas(nodes []ClusterNode, live []*Client, counts []uint64, down []error) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		if live[i] == nil {
			parts[i] = fmt.Sprintf("shard %d replica %d (%s): unreachable (%v)", n.Shard, n.Replica, n.Addr, down[i])
			continue
		}
		parts[i] = fmt.Sprintf("shard %d replica %d (%s): %d", n.Shard, n.Replica, n.Addr, counts[i])
	}
	return strings.Join(parts, "; ")
}
