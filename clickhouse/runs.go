package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/telcoretain/churn"
)

// Runs that die leave debris: a score run stuck at 'started', its rows in
// `scores`, a training run's candidates in `models`. Each run records its
// owner (Config.Owner, host:pid), so the next run or `churn status` can tell
// a dead run from one still going, mark it failed and remove its rows.

// ReconcileOptions says when a run left 'started' is dead.
type ReconcileOptions struct {
	// Alive reports whether the process named by an owner (host:pid) may
	// still be running; nil: every owner may (only MaxAge decides).
	Alive func(owner string) bool
	// MaxAge is the longest a run may take (the scoring job's timeout): a
	// run started longer ago is dead whoever owns it. 0: no limit.
	MaxAge time.Duration
}

// Reconciled says what ReconcileScoreRuns did.
type Reconciled struct {
	Failed []string // runs left started by a dead process, now failed
	Purged []string // failed runs whose score rows were removed
}

// RunStatus returns the state of a scoring run, finished once it has a
// finished row, else failed (or purged) once it has one of those, else
// started; and its as-of date. An unknown run is KindNotFound.
func (c *Client) RunStatus(ctx context.Context, runID string) (churn.ScoreRunStatus, time.Time, error) {
	var (
		statuses []string
		asOf     time.Time
		found    bool
	)
	err := c.each(ctx, "read score_runs", `SELECT groupUniqArray(status), any(as_of) FROM score_runs
WHERE run_id = ? GROUP BY run_id`, func(s scanner) error {
		found = true
		return s.Scan(&statuses, &asOf)
	}, runID)
	if err != nil {
		return "", time.Time{}, err
	}
	if !found {
		return "", time.Time{}, churn.Errorf(churn.KindNotFound, "read score run", "scoring run %q does not exist (see `churn status`)", runID)
	}
	return runStatus(statuses), asOf, nil
}

// runStatus is the state a run's status rows add up to.
func runStatus(statuses []string) churn.ScoreRunStatus {
	for _, st := range []churn.ScoreRunStatus{churn.ScoreRunFinished, churn.ScoreRunPurged, churn.ScoreRunFailed} {
		if slices.Contains(statuses, string(st)) {
			return st
		}
	}
	return churn.ScoreRunStarted
}

// ReconcileScoreRuns marks failed the runs left 'started' by a process that
// is gone (opts.Alive) or that started longer ago than opts.MaxAge, then
// removes the score rows of every failed run and records them purged.
// Readers never saw those rows (they only read finished runs); removing
// them keeps `scores` to what can be read.
func (c *Client) ReconcileScoreRuns(ctx context.Context, opts ReconcileOptions) (Reconciled, error) {
	var res Reconciled
	type open struct {
		id, owner string
		asOf      time.Time
		model     uint32
		started   time.Time
	}
	var runs []open
	err := c.each(ctx, "read score_runs", `SELECT run_id, any(as_of), any(model_version), min(at), anyIf(owner, status = 'started')
FROM score_runs GROUP BY run_id HAVING countIf(status != 'started') = 0`, func(s scanner) error {
		var r open
		if err := s.Scan(&r.id, &r.asOf, &r.model, &r.started, &r.owner); err != nil {
			return err
		}
		runs = append(runs, r)
		return nil
	})
	if err != nil {
		return res, err
	}
	now := c.now()
	for _, r := range runs {
		why := ""
		switch {
		case r.owner != "" && opts.Alive != nil && !opts.Alive(r.owner):
			why = fmt.Sprintf("abandoned: its process %s is gone", r.owner)
		case opts.MaxAge > 0 && now.Sub(r.started) > opts.MaxAge:
			why = fmt.Sprintf("abandoned: started %s, longer ago than the job timeout %s", r.started.UTC().Format(time.RFC3339), opts.MaxAge)
		default:
			continue
		}
		if err := c.RecordScoreRun(ctx, r.id, r.asOf, churn.ModelVersion(r.model), churn.ScoreRunFailed, 0, why); err != nil {
			return res, err
		}
		c.log.Warn("score run marked failed", "run", r.id, "reason", why)
		res.Failed = append(res.Failed, r.id)
	}
	var failed []string
	var asOfs []time.Time
	var models []uint32
	err = c.each(ctx, "read score_runs", `SELECT run_id, any(as_of), any(model_version) FROM score_runs GROUP BY run_id
HAVING countIf(status = 'failed') > 0 AND countIf(status IN ('finished', 'purged')) = 0 ORDER BY run_id`, func(s scanner) error {
		var (
			id    string
			asOf  time.Time
			model uint32
		)
		if err := s.Scan(&id, &asOf, &model); err != nil {
			return err
		}
		failed, asOfs, models = append(failed, id), append(asOfs, asOf), append(models, model)
		return nil
	})
	if err != nil || len(failed) == 0 {
		return res, err
	}
	// A mutation: ClickHouse rewrites the parts holding those rows in the
	// background. The driver binds a slice as an array, hence has().
	if err := c.mutateSharded(ctx, "ALTER TABLE %s DELETE WHERE has(?, run_id)", "scores", failed); err != nil {
		return res, wrap("remove the scores of failed runs", c.cfg, err)
	}
	for i, id := range failed {
		if err := c.RecordScoreRun(ctx, id, asOfs[i], churn.ModelVersion(models[i]), churn.ScoreRunPurged, 0, "score rows removed"); err != nil {
			return res, err
		}
	}
	res.Purged = failed
	return res, nil
}

// RecordTrainRun appends a status row for a training run, stamped with the
// client's clock and owner.
func (c *Client) RecordTrainRun(ctx context.Context, runID string, status churn.ScoreRunStatus, errMsg string) error {
	return c.insertRow(ctx, "train_runs", []string{"run_id", "status", "at", "owner", "error"},
		runID, string(status), c.now().UTC(), c.cfg.Owner, errMsg)
}

// trainRunStatuses returns the state of every training run.
func (c *Client) trainRunStatuses(ctx context.Context) (map[string]churn.ScoreRunStatus, error) {
	out := map[string]churn.ScoreRunStatus{}
	err := c.each(ctx, "read train_runs", "SELECT run_id, groupUniqArray(status) FROM train_runs GROUP BY run_id", func(s scanner) error {
		var (
			id       string
			statuses []string
		)
		if err := s.Scan(&id, &statuses); err != nil {
			return err
		}
		out[id] = runStatus(statuses)
		return nil
	})
	return out, err
}
