package clickhouse

import (
	"context"
	"time"

	"github.com/telcoretain/churn"
)

// A job run is written twice to the append-only job_runs table: a 'running'
// row when it starts (finished_at at the Unix epoch) and a row with its final
// status when it ends. Readers collapse the rows of a run by taking the values
// of its latest finished_at, so a run whose process died stays 'running'.

var jobRunColumns = []string{"run_id", "job", "trigger", "status", "started_at", "finished_at", "rows", "error"}

// RecordJobRun appends a status row for a run. A zero Finished is stored as
// the epoch, which sorts before every real end.
func (c *Client) RecordJobRun(ctx context.Context, r churn.JobRun) error {
	fin := r.Finished
	if fin.IsZero() {
		fin = time.Unix(0, 0)
	}
	rows := r.Rows
	if rows < 0 {
		rows = 0
	}
	return c.insertRow(ctx, "job_runs", jobRunColumns,
		r.ID, r.Job, r.Trigger, string(r.Status), r.Started.UTC(), fin.UTC(), uint64(rows), r.Error)
}

// JobRuns returns the latest runs, newest first, at most limit; of one job
// when job is not empty.
func (c *Client) JobRuns(ctx context.Context, job string, limit int) ([]churn.JobRun, error) {
	const op = "read job_runs"
	rows, err := c.conn.Query(ctx, `SELECT run_id, any(job), any(trigger), argMax(status, finished_at),
    min(started_at) AS first_start, max(finished_at), argMax(rows, finished_at), argMax(error, finished_at)
FROM job_runs
WHERE job = ? OR ? = ''
GROUP BY run_id
ORDER BY first_start DESC, run_id DESC
LIMIT ?`, job, job, uint64(max(limit, 0)))
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	var out []churn.JobRun
	for rows.Next() {
		var (
			r      churn.JobRun
			n      uint64
			status string
			fin    time.Time
			strt   time.Time
		)
		if err := rows.Scan(&r.ID, &r.Job, &r.Trigger, &status, &strt, &fin, &n, &r.Error); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		r.Started, r.Rows, r.Status = strt.UTC(), int64(n), churn.JobStatus(status)
		if fin.Unix() > 0 {
			r.Finished = fin.UTC()
		}
		out = append(out, r)
	}
	return out, wrap(op, c.cfg, rows.Err())
}
