package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/telcoretain/churn"
)

// A scoring run writes its rows to `scores`, then appends a 'finished' row to
// `score_runs`. Readers only see runs with a finished row, so a run that dies
// half way is never visible, and its orphan rows are ignored.

var scoreColumns = []string{"run_id", "as_of", "customer_id", "model_version", "probability", "band", "tier",
	"lifetime_value", "expected_loss", "reasons", "uplift", "uplift_model"}

// scoreBlock is the number of score rows sent per block of the one INSERT
// a call of WriteScores makes.
const scoreBlock = 200_000

// RecordScoreRun appends a status row for a run, stamped with the client's
// clock and owner.
func (c *Client) RecordScoreRun(ctx context.Context, runID string, asOf time.Time, model churn.ModelVersion, status churn.ScoreRunStatus, rows int, errMsg string) error {
	return c.insertRow(ctx, "score_runs", []string{"run_id", "as_of", "model_version", "status", "at", "rows", "error", "owner"},
		runID, asOf, uint32(model), string(status), c.now().UTC(), uint64(rows), errMsg, c.cfg.Owner)
}

// WriteScores inserts the rows of runs in blocks; each run's rows come in
// one call. On a cluster it returns once every replica that answers holds
// them (awaitReplicas), so that a run recorded as finished afterwards stays
// whole if the replica that took the insert dies.
func (c *Client) WriteScores(ctx context.Context, scores []churn.Score) error {
	if len(scores) == 0 {
		return nil
	}
	n := min(scoreBlock, len(scores))
	var (
		runs, cust, band, tier, reasons = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		asOf                            = make([]time.Time, n)
		model, upModel                  = make([]uint32, n), make([]uint32, n)
		prob, clv, loss, up             = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	)
	err := c.insertChunks(ctx, "scores", scoreColumns, len(scores), scoreBlock, func(start, end int) ([]any, error) {
		k := end - start
		for i, s := range scores[start:end] {
			runs[i], cust[i], band[i], tier[i] = s.RunID, s.CustomerID, string(s.Band), string(s.Tier)
			asOf[i], model[i] = s.AsOf, uint32(s.ModelVersion)
			prob[i], clv[i], loss[i] = float32(s.Probability), float32(s.LifetimeValue), float32(s.ExpectedLoss)
			up[i], upModel[i] = float32(s.Uplift), uint32(s.UpliftModel)
			b, err := json.Marshal(reasonsJSON(s.Reasons))
			if err != nil {
				return nil, err
			}
			reasons[i] = string(b)
		}
		return []any{runs[:k], asOf[:k], cust[:k], model[:k], prob[:k], band[:k], tier[:k], clv[:k], loss[:k], reasons[:k], up[:k], upModel[:k]}, nil
	})
	if err != nil {
		return err
	}
	// A run's rows share its as-of date: counting within its month's
	// partition reads one month of runs, not every run kept. The date is
	// the time's own calendar day, as the driver stores a Date.
	type run struct {
		id   string
		asOf time.Time
	}
	perRun := map[run]uint64{}
	for _, s := range scores {
		perRun[run{s.RunID, s.AsOf}]++
	}
	for r, n := range perRun {
		day := r.asOf.Format(time.DateOnly)
		if r.asOf.IsZero() {
			day = "1970-01-01" // a zero time is stored as day 0
		}
		if err := c.awaitReplicas(ctx, "replicate the scores of run "+r.id, "scores", "as_of = toDate(?) AND run_id = ?", n, day, r.id); err != nil {
			return err
		}
	}
	return nil
}

// reason is the stored JSON form of churn.Reason; a missing value (NaN) is
// stored as null.
type reason struct {
	Feature      string   `json:"feature"`
	Value        *float64 `json:"value"`
	Contribution float64  `json:"contribution"`
	Text         string   `json:"text"`
}

func reasonsJSON(rs []churn.Reason) []reason {
	out := make([]reason, len(rs))
	for i, r := range rs {
		out[i] = reason{Feature: r.Feature, Contribution: r.Contribution, Text: r.Text}
		if !math.IsNaN(r.Value) {
			v := r.Value
			out[i].Value = &v
		}
	}
	return out
}

// LatestFinishedRun returns the newest finished scoring run, nil when none.
func (c *Client) LatestFinishedRun(ctx context.Context) (*churn.ScoreRun, error) {
	return c.oneRun(ctx, `SELECT run_id, as_of, model_version, at, rows FROM score_runs
WHERE status = 'finished' ORDER BY at DESC, run_id DESC LIMIT 1`)
}

// oneRun reads the first run a query returns, nil when none.
func (c *Client) oneRun(ctx context.Context, q string, args ...any) (*churn.ScoreRun, error) {
	runs, err := c.scanRuns(ctx, q, args...)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// scanRuns reads runs from a query selecting run id, as-of date, model
// version, finish time and rows.
func (c *Client) scanRuns(ctx context.Context, q string, args ...any) ([]churn.ScoreRun, error) {
	var out []churn.ScoreRun
	err := c.each(ctx, "read score_runs", q, func(s scanner) error {
		var (
			r     churn.ScoreRun
			model uint32
			rows  uint64
		)
		if err := s.Scan(&r.ID, &r.AsOf, &model, &r.FinishedAt, &rows); err != nil {
			return err
		}
		r.ModelVersion, r.Rows, r.FinishedAt = churn.ModelVersion(model), int64(rows), r.FinishedAt.UTC()
		out = append(out, r)
		return nil
	}, args...)
	return out, err
}

// ScanRunScores streams the scores of one run to fn.
// The run id is the one asked for rather than read: at a million rows its
// column is the widest after the reasons.
func (c *Client) ScanRunScores(ctx context.Context, runID string, fn func(churn.Score) error) error {
	return c.scanScores(ctx, "read scores of run "+runID, runID,
		"SELECT "+selectRunScore+" FROM scores WHERE run_id = ?", fn, runID)
}

// CustomerHistory returns a customer's scores in the latest limit finished
// runs that scored them, oldest first. scores is ordered by run and
// customer (migration 0019), so it reads the finished runs' ids from
// score_runs, finds the customer's latest runs among them by the key
// (reading the key columns only, one granule per run), and then reads
// those rows whole: a customer who left months ago still has a history.
func (c *Client) CustomerHistory(ctx context.Context, customerID string, limit int) ([]churn.Score, error) {
	const op = "read score history"
	var finished, runs []string
	read := func(q string, dst *[]string, args ...any) error {
		return c.each(ctx, op, q, func(s scanner) error {
			var id string
			if err := s.Scan(&id); err != nil {
				return err
			}
			*dst = append(*dst, id)
			return nil
		}, args...)
	}
	if err := read("SELECT DISTINCT run_id FROM score_runs WHERE status = 'finished'", &finished); err != nil || len(finished) == 0 {
		return nil, err
	}
	if err := read(`SELECT run_id FROM scores WHERE run_id IN (SELECT arrayJoin(?)) AND customer_id = ?
ORDER BY as_of DESC, run_id DESC LIMIT ?`, &runs, finished, customerID, limit); err != nil || len(runs) == 0 {
		return nil, err
	}
	var out []churn.Score
	err := c.scanScores(ctx, op, "", `SELECT `+selectScore+` FROM scores
WHERE run_id IN (SELECT arrayJoin(?)) AND customer_id = ?
ORDER BY as_of DESC, run_id DESC`, func(s churn.Score) error {
		out = append(out, s)
		return nil
	}, runs, customerID)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

const (
	selectRunScore = "as_of, customer_id, model_version, probability, band, tier, lifetime_value, expected_loss, reasons, uplift, uplift_model"
	selectScore    = "run_id, " + selectRunScore
)

// scanScores reads the scores a query selects (selectScore), or, given the
// run id, those of that run (selectRunScore).
func (c *Client) scanScores(ctx context.Context, op, runID, q string, fn func(churn.Score) error, args ...any) error {
	rows, err := c.conn.Query(ctx, q, args...)
	if err != nil {
		return wrap(op, c.cfg, err)
	}
	defer rows.Close()
	// One set of destinations for every row: a row allocates only the
	// strings it holds.
	var (
		s                   churn.Score
		model, upModel      uint32
		prob, clv, loss, up float32
		band, tier, rs      string
	)
	dest := []any{&s.RunID, &s.AsOf, &s.CustomerID, &model, &prob, &band, &tier, &clv, &loss, &rs, &up, &upModel}
	if runID != "" {
		s.RunID, dest = runID, dest[1:]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return wrap(op, c.cfg, err)
		}
		s.ModelVersion = churn.ModelVersion(model)
		s.Probability, s.LifetimeValue, s.ExpectedLoss = float64(prob), float64(clv), float64(loss)
		s.Uplift, s.UpliftModel = float64(up), churn.ModelVersion(upModel)
		s.Band, s.Tier = churn.RiskBand(band), churn.ValueTier(tier)
		if s.Reasons, err = parseReasons(rs); err != nil {
			return wrap(op, c.cfg, err)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return wrap(op, c.cfg, rows.Err())
}

// PruneScores drops the scores of the runs as of months before before
// (whole monthly partitions of scores; on a cluster, those of each shard)
// and returns the months dropped as YYYYMM, oldest first. The runs keep
// their rows in score_runs, so their history stays listed; a reader of one
// finds no scores.
func (c *Client) PruneScores(ctx context.Context, before time.Time) ([]uint32, error) {
	const op = "prune scores"
	var months []uint32
	// the months that still hold scores: their as_of column only, and the
	// partitions' min-max index skips the months kept
	err := c.each(ctx, op, `SELECT DISTINCT toYYYYMM(as_of) AS m FROM scores WHERE as_of < toStartOfMonth(toDate(?)) ORDER BY m`,
		func(s scanner) error {
			var m uint32
			if err := s.Scan(&m); err != nil {
				return err
			}
			months = append(months, m)
			return nil
		}, before.Format(time.DateOnly))
	if err != nil || len(months) == 0 {
		return nil, err
	}
	for i, m := range months {
		if err := c.mutateSharded(ctx, "ALTER TABLE %s DROP PARTITION "+strconv.FormatUint(uint64(m), 10), "scores"); err != nil {
			return months[:i], wrap(fmt.Sprintf("%s of %d", op, m), c.cfg, err)
		}
	}
	// a replica drops the partition when it reads the shard's log: wait,
	// so that no reader lands on one that still holds the month
	return months, c.awaitAgreed(ctx, op, "scores", "scores")
}
