package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/telcoretain/churn"
)

// queryMatrixPerShard runs a per-customer query on every shard at once,
// against that shard's local tables, and merges the shards' rows in customer
// order. It is right for queries that only join and filter on customer_id
// (the feature snapshot): every customer's rows live on one shard. A replica
// that fails, before or during the query, hands its shard to the next
// replica; a shard with no replica left fails the whole query.
func (c *Client) queryMatrixPerShard(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Matrix, error) {
	return perShard(c, ctx, query, progress, mergeByID, func(ctx context.Context, nc *Client, local string, progress func(d, t int64)) (*churn.Matrix, error) {
		return nc.QueryMatrix(ctx, local, params, progress)
	})
}

// perShard runs a per-customer query on every shard at once, on the first
// replica of each that answers it in full (run runs the query on a node's
// client, with the tables named as the node's local tables), and merges the
// shards' results.
func perShard[T any](c *Client, ctx context.Context, query string, progress func(done, total int64),
	merge func([]T) (T, error), run func(ctx context.Context, nc *Client, local string, progress func(d, t int64)) (T, error)) (T, error) {
	var zero T
	layout, err := migrationsLayout(c.cfg.Database, c.cfg.Cluster)
	if err != nil {
		return zero, err
	}
	local := layout.qualify(query, c.cfg.Database, true)
	nodes, err := c.ClusterNodes(ctx)
	if err != nil {
		return zero, err
	}
	var shards []uint32
	replicas := map[uint32][]ClusterNode{}
	for _, n := range nodes {
		if replicas[n.Shard] == nil {
			shards = append(shards, n.Shard)
		}
		replicas[n.Shard] = append(replicas[n.Shard], n)
	}
	return runAll(ctx, len(shards), progress, merge, func(ctx context.Context, i int, progress func(d, t int64)) (T, error) {
		return queryShard(c, ctx, replicas[shards[i]], func(nc *Client) (T, error) { return run(ctx, nc, local, progress) })
	})
}

// queryShard runs a query on the first replica of a shard that answers it
// in full.
func queryShard[T any](c *Client, ctx context.Context, replicas []ClusterNode, run func(nc *Client) (T, error)) (T, error) {
	var zero T
	var errs []error
	for _, n := range replicas {
		nc, err := c.openNode(ctx, n.Addr, c.cfg.Database)
		if err == nil {
			var out T
			out, err = run(nc)
			nc.Close()
			if err == nil {
				return out, nil
			}
		}
		if ctx.Err() != nil || churn.ErrorKind(err) != churn.KindUnavailable {
			return zero, fmt.Errorf("shard %d replica %d (%s): %w", n.Shard, n.Replica, n.Addr, err)
		}
		c.log.Warn("replica failed; trying the next one of its shard", "shard", n.Shard, "replica", n.Addr, "err", err)
		errs = append(errs, fmt.Errorf("replica %d (%s): %w", n.Replica, n.Addr, err))
	}
	return zero, &churn.Error{Op: fmt.Sprintf("query shard %d", replicas[0].Shard), Kind: churn.KindUnavailable,
		Msg: "no replica of the shard answered", Err: errors.Join(errs...)}
}

// mergeByID concatenates matrices with the same columns (a query's shards)
// and sorts the rows by id, as one query with ORDER BY customer_id would
// return them.
func mergeByID(parts []*churn.Matrix) (*churn.Matrix, error) {
	out := &churn.Matrix{}
	for i, p := range parts {
		if i == 0 {
			out.Features = p.Features
			out.Cols = make([][]float32, len(p.Features))
			if p.Labels != nil {
				out.Labels = []float32{}
			}
		}
		if fmt.Sprint(p.Features) != fmt.Sprint(out.Features) || (p.Labels == nil) != (out.Labels == nil) {
			return nil, fmt.Errorf("shard %d returned columns %v, shard 1 %v", i+1, p.Features, out.Features)
		}
		out.IDs = append(out.IDs, p.IDs...)
		for j := range p.Cols {
			out.Cols[j] = append(out.Cols[j], p.Cols[j]...)
		}
		if p.Labels != nil {
			out.Labels = append(out.Labels, p.Labels...)
		}
	}
	order := make([]int, len(out.IDs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return out.IDs[order[a]] < out.IDs[order[b]] })
	out.IDs = permute(out.IDs, order)
	for j := range out.Cols {
		out.Cols[j] = permute(out.Cols[j], order)
	}
	if out.Labels != nil {
		out.Labels = permute(out.Labels, order)
	}
	return out, nil
}

func permute[T any](s []T, order []int) []T {
	out := make([]T, len(s))
	for i, k := range order {
		out[i] = s[k]
	}
	return out
}

// runAll runs n queries at once, each with its own progress feeding the sum
// that progress (when not nil) receives, and merges their results (the rows
// of a query's shards). The first query to fail cancels the others, and its
// error is the one returned, so that its kind (a replica that is down, say)
// is not hidden behind the cancellations it caused.
func runAll[T any](ctx context.Context, n int, progress func(done, total int64), merge func([]T) (T, error),
	run func(ctx context.Context, i int, progress func(d, t int64)) (T, error)) (T, error) {
	report := churn.SumProgress(n, progress)
	parts := make([]T, n)
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() error {
			var err error
			parts[i], err = run(gctx, i, report(i))
			return err
		})
	}
	var zero T
	if err := g.Wait(); err != nil {
		return zero, err
	}
	m, err := merge(parts)
	if err != nil {
		return zero, churn.Errorf(churn.KindInternal, "merge the shards' rows", "%v", err)
	}
	return m, nil
}
