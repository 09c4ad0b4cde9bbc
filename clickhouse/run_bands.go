package clickhouse

import (
	"context"
	"time"

	"github.com/telcoretain/churn"
)

// FinishedRuns returns up to limit finished scoring runs, newest first, for
// trends across runs.
func (c *Client) FinishedRuns(ctx context.Context, limit int) ([]churn.ScoreRun, error) {
	return c.scanRuns(ctx, `SELECT run_id, any(as_of), any(model_version), max(at) AS finished, max(rows)
FROM score_runs WHERE status = 'finished'
GROUP BY run_id
ORDER BY finished DESC, run_id DESC
LIMIT ?`, uint64(max(limit, 0)))
}

// RunBandCounts counts the scores of each run by risk band: counts[run][band].
// Runs must be finished runs, whose rows no longer change; their as-of dates
// narrow the read to their partitions. The driver binds a slice as an array,
// hence IN over arrayJoin rather than IN (?).
func (c *Client) RunBandCounts(ctx context.Context, runs []churn.ScoreRun) (map[string]map[string]int64, error) {
	out := make(map[string]map[string]int64, len(runs))
	if len(runs) == 0 {
		return out, nil
	}
	ids := make([]string, len(runs))
	days := make([]string, 0, len(runs)) // Date literals: 'YYYY-MM-DD'
	seen := map[string]bool{}
	for i, r := range runs {
		ids[i] = r.ID
		out[r.ID] = map[string]int64{}
		if d := r.AsOf.Format(time.DateOnly); !seen[d] {
			seen[d] = true
			days = append(days, d)
		}
	}
	err := c.each(ctx, "count scores by band", `SELECT run_id, band, count() FROM scores
WHERE as_of IN (SELECT toDate(arrayJoin(?))) AND run_id IN (SELECT arrayJoin(?))
GROUP BY run_id, band`, func(s scanner) error {
		var (
			run, band string
			n         uint64
		)
		if err := s.Scan(&run, &band, &n); err != nil {
			return err
		}
		if m, ok := out[run]; ok {
			m[band] = int64(n)
		}
		return nil
	}, days, ids)
	return out, err
}

// CustomerRegions streams every customer's region to fn.
func (c *Client) CustomerRegions(ctx context.Context, fn func(customerID, region string) error) error {
	return c.each(ctx, "read customer regions", "SELECT customer_id, region FROM customers", func(s scanner) error {
		var id, region string
		if err := s.Scan(&id, &region); err != nil {
			return err
		}
		return fn(id, region)
	})
}
