package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
)

// snapshotBlockBytes is about how many bytes of chunks one INSERT sends.
const snapshotBlockBytes = 32 << 20

// keepQueueSnapshots is how many complete snapshots stay after a write: the
// newest, and one to fall back to should it not read back whole.
const keepQueueSnapshots = 2

// QueueSnapshots returns the headers of the complete queue snapshots, newest
// cut first, at most limit of them.
func (c *Client) QueueSnapshots(ctx context.Context, limit int) ([]churn.QueueSnapshot, error) {
	var out []churn.QueueSnapshot
	err := c.each(ctx, "read queue_snapshots", `SELECT snapshot, cut, token, latest, actions, chunks, written_at, writer
FROM queue_snapshots ORDER BY cut DESC, snapshot DESC LIMIT ?`, func(s scanner) error {
		var (
			h       churn.QueueSnapshot
			latest  int64
			actions uint64
			chunks  uint32
		)
		if err := s.Scan(&h.ID, &h.Cut, &h.Token, &latest, &actions, &chunks, &h.WrittenAt, &h.Writer); err != nil {
			return err
		}
		h.Latest, h.Actions, h.Chunks, h.WrittenAt = time.Unix(0, latest).UTC(), int(actions), int(chunks), h.WrittenAt.UTC()
		if latest == 0 {
			h.Latest = time.Time{}
		}
		out = append(out, h)
		return nil
	}, limit)
	return out, err
}

// QueueSnapshotChunks streams the chunks of snapshot id to fn, in the
// order ClickHouse reads them (each chunk stands alone); each call's data is
// a copy fn may keep.
//
// Without ORDER BY and in blocks of a few chunks, the server sends the
// first chunks as soon as it has read them and the caller decodes while it
// reads the rest: ORDER BY seq made it buffer and sort the whole snapshot
// first (340 MB for 3.3M actions: 1 GB of server memory, and twice the CPU
// time).
func (c *Client) QueueSnapshotChunks(ctx context.Context, id uint64, fn func(data []byte) error) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"max_block_size": snapshotReadBlock}))
	return c.each(ctx, "read queue_snapshot_chunks", "SELECT data FROM queue_snapshot_chunks WHERE snapshot = ?",
		func(s scanner) error {
			var data []byte // the driver's copy of the value, not copied again
			if err := s.Scan(&data); err != nil {
				return err
			}
			return fn(data)
		}, id)
}

// snapshotReadBlock is how many chunks (about a megabyte each) one block of
// a snapshot read holds.
const snapshotReadBlock = 8

// WriteQueueSnapshot stores a snapshot: the chunks chunks yields, in blocks,
// then the header h (with its chunk count set), then drops the chunks of
// snapshots older than the ones kept. A failure before the header leaves
// chunks nobody reads, dropped by a later write.
func (c *Client) WriteQueueSnapshot(ctx context.Context, h churn.QueueSnapshot, chunks func(yield func([]byte) error) error) error {
	const op = "write queue snapshot"
	var (
		seq   []uint32
		data  []string
		size  int
		total uint32
	)
	flush := func() error {
		if len(data) == 0 {
			return nil
		}
		ids := make([]uint64, len(data))
		for i := range ids {
			ids[i] = h.ID
		}
		err := c.InsertColumns(ctx, "queue_snapshot_chunks", []string{"snapshot", "seq", "data"}, []any{ids, seq, data})
		seq, data, size = nil, nil, 0
		return err
	}
	err := chunks(func(b []byte) error {
		seq, data = append(seq, total), append(data, string(b))
		total++
		if size += len(b); size >= snapshotBlockBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, h.ID, err)
	}
	var latest int64
	if !h.Latest.IsZero() {
		latest = h.Latest.UnixNano()
	}
	if err := c.insertRow(ctx, "queue_snapshots", []string{"snapshot", "cut", "token", "latest", "actions", "chunks", "written_at", "writer"},
		h.ID, h.Cut, h.Token, latest, uint64(h.Actions), total, toDateTime(h.WrittenAt), h.Writer); err != nil {
		return fmt.Errorf("%s %d: %w", op, h.ID, err)
	}
	return c.dropOldQueueSnapshots(ctx)
}

// dropOldQueueSnapshots drops the chunks of every snapshot older than the
// kept ones, orphans of failed writes included (their headers stay: a
// reader that falls back that far finds no chunks and replays the log). Only
// partitions older than the oldest kept snapshot go, so a snapshot another
// server is writing right now stays.
func (c *Client) dropOldQueueSnapshots(ctx context.Context) error {
	const op = "drop old queue snapshots"
	kept, err := c.QueueSnapshots(ctx, keepQueueSnapshots)
	if err != nil || len(kept) < keepQueueSnapshots {
		return err
	}
	oldest := kept[0].ID
	for _, h := range kept {
		oldest = min(oldest, h.ID)
	}
	var parts []uint64
	err = c.each(ctx, op, `SELECT DISTINCT snapshot FROM queue_snapshot_chunks WHERE snapshot < ?`, func(s scanner) error {
		var id uint64
		if err := s.Scan(&id); err != nil {
			return err
		}
		parts = append(parts, id)
		return nil
	}, oldest)
	if err != nil {
		return err
	}
	for _, id := range parts {
		if err := c.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE queue_snapshot_chunks DROP PARTITION %d", id)); err != nil {
			return wrap(op, c.cfg, err)
		}
	}
	return nil
}
