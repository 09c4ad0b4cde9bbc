package clickhouse

import (
	"context"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/telcoretain/churn"
)

var driftColumns = []string{"run_id", "at", "model_version", "kind", "feature", "value", "threshold", "breached", "retrain"}

// SaveDriftChecks writes the measures of one check in one block.
func (c *Client) SaveDriftChecks(ctx context.Context, checks []churn.DriftMeasure) error {
	if len(checks) == 0 {
		return nil
	}
	n := len(checks)
	var (
		run, kind, feat  = make([]string, n), make([]string, n), make([]string, n)
		at               = make([]time.Time, n)
		model            = make([]uint32, n)
		value, threshold = make([]float64, n), make([]float64, n)
		breached, retr   = make([]uint8, n), make([]uint8, n)
	)
	for i, d := range checks {
		run[i], kind[i], feat[i], at[i], model[i] = d.RunID, string(d.Kind), d.Feature, d.At.UTC(), uint32(d.ModelVersion)
		value[i], threshold[i], breached[i], retr[i] = d.Value, d.Threshold, b2u(d.Breached), b2u(d.Retrain)
	}
	return c.InsertColumns(ctx, "drift_checks", driftColumns,
		[]any{run, at, model, kind, feat, value, threshold, breached, retr})
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// DriftChecks returns the measures stored for a scoring run, oldest check
// first.
func (c *Client) DriftChecks(ctx context.Context, runID string) ([]churn.DriftMeasure, error) {
	const op = "read drift_checks"
	rows, err := c.conn.Query(ctx, "SELECT "+strings.Join(driftColumns, ", ")+" FROM drift_checks WHERE run_id = ? ORDER BY at, kind, feature", runID)
	if err != nil {
		return nil, wrap(op, c.cfg, err)
	}
	defer rows.Close()
	var out []churn.DriftMeasure
	for rows.Next() {
		var (
			d      churn.DriftMeasure
			model  uint32
			br, rt uint8
			kind   string
		)
		if err := rows.Scan(&d.RunID, &d.At, &model, &kind, &d.Feature, &d.Value, &d.Threshold, &br, &rt); err != nil {
			return nil, wrap(op, c.cfg, err)
		}
		d.Kind = churn.DriftKind(kind)
		d.ModelVersion, d.Breached, d.Retrain = churn.ModelVersion(model), br == 1, rt == 1
		out = append(out, d)
	}
	return out, wrap(op, c.cfg, rows.Err())
}

// DriftRetrained reports whether a drift check of the run already started a
// retraining run, so that a run triggers at most one.
func (c *Client) DriftRetrained(ctx context.Context, runID string) (bool, error) {
	var n uint64
	err := c.conn.QueryRow(ctx, "SELECT count() FROM drift_checks WHERE run_id = ? AND retrain = 1", runID).Scan(&n)
	return n > 0, wrap("read drift_checks", c.cfg, err)
}

// FinishedScoreRun returns the newest finished scoring run whose as-of date is
// on or before asOfBy (any date when zero), nil when there is none.
func (c *Client) FinishedScoreRun(ctx context.Context, asOfBy time.Time) (*churn.ScoreRun, error) {
	if asOfBy.IsZero() {
		return c.LatestFinishedRun(ctx)
	}
	return c.oneRun(ctx, `SELECT run_id, as_of, model_version, at, rows FROM score_runs
WHERE status = 'finished' AND as_of <= ? ORDER BY as_of DESC, at DESC, run_id DESC LIMIT 1`, asOfBy.UTC().Format(time.DateOnly))
}

// RunProbabilities returns the churn probabilities of a run's scores, in no
// particular order.
func (c *Client) RunProbabilities(ctx context.Context, runID string) ([]float32, error) {
	var out []float32
	err := c.each(ctx, "read scores", "SELECT probability FROM scores WHERE run_id = ?", func(s scanner) error {
		var p float32
		if err := s.Scan(&p); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	}, runID)
	return out, err
}

// RunOutcomes returns the probabilities of a run's scores with what happened
// next: label 1 when the customer churned in [from, to) by the churn
// definition of its billing (churnedSQL), else 0.
func (c *Client) RunOutcomes(ctx context.Context, runID string, from, to time.Time) (probs, labels []float64, err error) {
	err = c.each(ctx, "read scores and churn_events", "SELECT probability, customer_id IN (SELECT customer_id FROM ("+churnedSQL+"))\nFROM scores WHERE run_id = @run",
		func(s scanner) error {
			var (
				p   float32
				hit uint8
			)
			if err := s.Scan(&p, &hit); err != nil {
				return err
			}
			probs, labels = append(probs, float64(p)), append(labels, float64(hit))
			return nil
		}, append(c.churnedArgs(from, to), ch.Named("run", runID))...)
	return probs, labels, err
}
