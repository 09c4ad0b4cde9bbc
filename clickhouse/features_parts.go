package clickhouse

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/telcoretain/churn"
)

// A query whose parameters include parts and part reads only the customers of
// part part of parts (features/sql/snapshot.sql filters every side by
// k % @parts = @part). QueryMatrix runs such a query as several parts at once
// and merges their rows by id: ClickHouse 18.16 joins the snapshot's sides
// onto the customers on one thread (18.6 of the 65.7 s of server CPU of a
// snapshot of 800,000 customers), and parts run those threads side by side.
// But every part reads every table again: on the 2-core development machine
// two parts took 88 s of CPU against 66 s and 54 s of wall time against 51 s
// (docs/scaling.md), so parts pay only where cores outnumber them.
const (
	partsParam = "parts"
	partParam  = "part"
	// coresPerPart is the server cores each automatic part needs: a part
	// costs about a third of a query's CPU in reads and saves its share of
	// the one-thread join.
	coresPerPart = 4
	// maxParts bounds the automatic number of parts.
	maxParts = 8
	// customersPerPart is the population a part needs to be worth its fixed
	// cost (the analysis of the 500-line snapshot and a read of every table).
	customersPerPart = 200_000
)

// partitioned reports whether a query's parameters follow the parts protocol.
func partitioned(params map[string]any) bool {
	_, ok := params[partsParam].(int)
	_, ok2 := params[partParam].(int)
	return ok && ok2
}

// queryParts is how many parts a partitioned query runs in: Config.SnapshotParts
// when set; otherwise one per coresPerPart cores of the server (its
// max_threads setting), at most maxParts and one per customersPerPart
// customers: one on a server of fewer than 8 cores.
func (c *Client) queryParts(ctx context.Context) (int, error) {
	if c.cfg.SnapshotParts > 0 {
		return c.cfg.SnapshotParts, nil
	}
	const op = "plan query parts"
	var threads string
	// 18.16 says "2"; current releases say "'auto(2)'".
	if err := c.conn.QueryRow(ctx, "SELECT value FROM system.settings WHERE name = 'max_threads'").Scan(&threads); err != nil {
		return 0, wrap(op, c.cfg, err)
	}
	cores, err := strconv.Atoi(strings.Trim(threads, "'auto()"))
	if err != nil || cores < 1 {
		return 0, churn.Errorf(churn.KindInternal, op, "server setting max_threads is %q, want a number of threads", threads)
	}
	byCores := min(cores/coresPerPart, maxParts)
	if byCores <= 1 {
		// One part whatever the population: no need to count it.
		return 1, nil
	}
	var customers uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM customers").Scan(&customers); err != nil {
		return 0, wrap(op, c.cfg, err)
	}
	return max(1, min(byCores, int(customers/customersPerPart))), nil
}

// queryMatrixInParts runs a partitioned query as n parts at once and merges
// their rows in id order.
func (c *Client) queryMatrixInParts(ctx context.Context, query string, params map[string]any, n int, progress func(done, total int64)) (*churn.Matrix, error) {
	return runAll(ctx, n, progress, mergeByID, func(ctx context.Context, i int, progress func(d, t int64)) (*churn.Matrix, error) {
		p := maps.Clone(params)
		p[partsParam], p[partParam] = n, i
		return c.queryMatrix(ctx, query, p, progress)
	})
}

// runAll runs n queries at once, each with its own progress feeding the sum
// that progress (when not nil) receives, and merges their results (the rows
// of a query's parts or shards). The first query to fail cancels the others,
// and its error is the one returned, so that its kind (a replica that is
// down, say) is not hidden behind the cancellations it caused.
func runAll[T any](ctx context.Context, n int, progress func(done, total int64), merge func([]T) (T, error),
	run func(ctx context.Context, i int, progress func(d, t int64)) (T, error)) (T, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	done, total := make([]int64, n), make([]int64, n)
	report := func(i int) func(d, t int64) {
		if progress == nil {
			return nil
		}
		return func(d, t int64) {
			mu.Lock()
			defer mu.Unlock()
			done[i], total[i] = d, t
			var sd, st int64
			for j := range n {
				sd, st = sd+done[j], st+total[j]
			}
			progress(sd, st)
		}
	}
	parts := make([]T, n)
	var first error
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := run(ctx, i, report(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
				cancel()
			}
			parts[i] = m
		}()
	}
	wg.Wait()
	var zero T
	if first != nil {
		return zero, first
	}
	m, err := merge(parts)
	if err != nil {
		return zero, churn.Errorf(churn.KindInternal, "merge query parts", "%v", err)
	}
	return m, nil
}
