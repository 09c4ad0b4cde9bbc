package clickhouse_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
)

// One INSERT sent in blocks: every row arrives once, the last block short;
// a fill that fails stops the insert with its error.
func TestInsertChunksSendsEveryRowInBlocks(t *testing.T) {
	c, _ := chtest.NewDB(t)
	ctx := context.Background()
	if err := c.Conn().Exec(ctx, "CREATE TABLE chunked (id String, n UInt32) ENGINE = MergeTree ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	var starts []int
	ids, ns := make([]string, 3), make([]uint32, 3)
	err := clickhouse.InsertChunks(c, ctx, "chunked", []string{"id", "n"}, 10, 3, func(start, end int) ([]any, error) {
		starts = append(starts, start)
		for i := start; i < end; i++ {
			ids[i-start], ns[i-start] = "c"+strings.Repeat("x", i), uint32(i)
		}
		return []any{ids[:end-start], ns[:end-start]}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(starts, []int{0, 3, 6, 9}) {
		t.Errorf("blocks start at %v, want 0 3 6 9", starts)
	}
	var rows, distinct, sum uint64
	if err := c.Conn().QueryRow(ctx, "SELECT count(), uniqExact(id), sum(n) FROM chunked").Scan(&rows, &distinct, &sum); err != nil {
		t.Fatal(err)
	}
	if rows != 10 || distinct != 10 || sum != 45 {
		t.Errorf("%d rows, %d distinct ids, sum of n %d: want 10, 10, 45", rows, distinct, sum)
	}

	boom := errors.New("boom")
	err = clickhouse.InsertChunks(c, ctx, "chunked", []string{"id", "n"}, 10, 3, func(start, end int) ([]any, error) {
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("a failing fill gave %v, want boom", err)
	}

	// A cancellation stops the insert before its next block. The context
	// reports it through Err only (its Done never closes), so the driver,
	// which watches Done, does not cut the block being sent: only the
	// check between blocks can stop the insert.
	stop := &errCtx{Context: ctx}
	var filled []int
	err = clickhouse.InsertChunks(c, stop, "chunked", []string{"id", "n"}, 10, 3, func(start, end int) ([]any, error) {
		filled = append(filled, start)
		if start == 3 {
			stop.cancelled.Store(true)
		}
		return []any{ids[:end-start], ns[:end-start]}, nil
	})
	if !errors.Is(err, context.Canceled) || !slices.Equal(filled, []int{0, 3}) {
		t.Errorf("cancelled in the second block: %v after blocks %v, want context.Canceled after 0 3", err, filled)
	}
}

// errCtx is a context whose Err says cancelled once told, without closing
// Done.
type errCtx struct {
	context.Context
	cancelled atomic.Bool
}

func (c *errCtx) Err() error {
	if c.cancelled.Load() {
		return context.Canceled
	}
	return c.Context.Err()
}
