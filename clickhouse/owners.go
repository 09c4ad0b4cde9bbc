package clickhouse

import (
	"context"
	"time"

	"github.com/telcoretain/churn"
)

var ownerColumns = []string{"owner", "seq", "term", "addr", "started_at", "beat_at", "released"}

// WriteOwnerClaim records one heartbeat of a claim on the action queue.
func (c *Client) WriteOwnerClaim(ctx context.Context, o churn.OwnerClaim) error {
	var released uint8
	if o.Released {
		released = 1
	}
	return c.insertRow(ctx, "queue_owners", ownerColumns,
		o.Owner, o.Seq, o.Term, o.Addr, toDateTime(o.StartedAt), toDateTime(o.BeatAt), released)
}

// OwnerClaims returns the latest claim of each owner whose last beat is at
// or after since and that was not released.
func (c *Client) OwnerClaims(ctx context.Context, since time.Time) ([]churn.OwnerClaim, error) {
	var out []churn.OwnerClaim
	err := c.each(ctx, "read queue_owners", `SELECT owner, max(seq), argMax(term, seq), argMax(addr, seq),
    argMax(started_at, seq), argMax(beat_at, seq) AS beat
FROM queue_owners GROUP BY owner HAVING beat >= ? AND argMax(released, seq) = 0 ORDER BY owner`, func(s scanner) error {
		var o churn.OwnerClaim
		if err := s.Scan(&o.Owner, &o.Seq, &o.Term, &o.Addr, &o.StartedAt, &o.BeatAt); err != nil {
			return err
		}
		o.StartedAt, o.BeatAt = o.StartedAt.UTC(), o.BeatAt.UTC()
		out = append(out, o)
		return nil
	}, toDateTime(since.Truncate(time.Second)))
	return out, err
}

// MaxOwnerTerm returns the highest term ever claimed, 0 when none.
func (c *Client) MaxOwnerTerm(ctx context.Context) (uint64, error) {
	var top uint64
	err := c.each(ctx, "read queue_owners", "SELECT max(term) FROM queue_owners", func(s scanner) error {
		return s.Scan(&top)
	})
	return top, err
}
