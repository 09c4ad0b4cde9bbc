package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset"
)

// TableStats is the size and date range of one table.
type TableStats struct {
	Table    string
	Rows     uint64
	DateCol  string
	From, To time.Time // zero when the table is empty
}

// Status is what `churn status` shows.
type Status struct {
	Server        string
	Database      string
	SchemaVersion int
	// SchemaLatest is the newest migration this build carries: a database
	// behind it needs `churn migrate`.
	SchemaLatest   int
	Tables         []TableStats
	Models         uint64
	Champion       churn.ModelVersion // 0 when none
	UpliftChampion churn.ModelVersion // 0 when none
	LastScoreRun   *churn.ScoreRun
	LastJobRuns    []churn.JobRun
	Imports        []PendingImport // staging tables of unfinished imports
}

// Status reads row counts and date ranges of the contract tables, the champion
// model and the latest runs.
func (c *Client) Status(ctx context.Context) (Status, error) {
	s := Status{Database: c.cfg.Database}
	var err error
	if s.Server, err = c.Version(ctx); err != nil {
		return s, err
	}
	if s.SchemaVersion, err = c.SchemaVersion(ctx); err != nil {
		return s, err
	}
	all, err := Migrations()
	if err != nil {
		return s, err
	}
	s.SchemaLatest = all[len(all)-1].Version
	for _, t := range dataset.Tables {
		ts, err := c.TableStats(ctx, t.Name, t.DateCol)
		if err != nil {
			return s, err
		}
		s.Tables = append(s.Tables, ts)
	}
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM models").Scan(&s.Models); err != nil {
		return s, wrap("count models", c.cfg, err)
	}
	if s.Champion, err = c.ChampionVersion(ctx); err != nil {
		return s, err
	}
	if s.UpliftChampion, err = c.ChampionOf(ctx, churn.ModelUplift); err != nil {
		return s, err
	}
	if s.LastScoreRun, err = c.LatestFinishedRun(ctx); err != nil {
		return s, err
	}
	if s.LastJobRuns, err = c.JobRuns(ctx, "", 5); err != nil {
		return s, err
	}
	s.Imports, err = c.PendingImports(ctx)
	return s, err
}

// TableStats counts a table's rows and the range of its date column.
func (c *Client) TableStats(ctx context.Context, table, dateCol string) (TableStats, error) {
	ts := TableStats{Table: table, DateCol: dateCol}
	// Names come from the contract in code, not from input.
	q := fmt.Sprintf("SELECT count(), toDate(min(%[1]s)), toDate(max(%[1]s)) FROM %[2]s", dateCol, table)
	var from, to time.Time
	if err := c.conn.QueryRow(ctx, q).Scan(&ts.Rows, &from, &to); err != nil {
		return ts, wrap("stats of "+table, c.cfg, err)
	}
	if ts.Rows > 0 {
		ts.From, ts.To = from, to
	}
	return ts, nil
}

// ChampionVersion returns the churn model version currently promoted, 0
// when none: the model scoring uses.
func (c *Client) ChampionVersion(ctx context.Context) (churn.ModelVersion, error) {
	return c.ChampionOf(ctx, churn.ModelChurn)
}

// ChampionOf returns the champion of a kind, 0 when none: the version of
// that kind named by the latest promote or rollback event of its versions.
func (c *Client) ChampionOf(ctx context.Context, kind churn.ModelKind) (churn.ModelVersion, error) {
	var v uint32
	err := c.each(ctx, "read model_events", `SELECT version FROM model_events
WHERE event IN ('promote', 'rollback') AND version IN (SELECT version FROM models WHERE kind = ?)
ORDER BY seq DESC LIMIT 1`, func(s scanner) error {
		return s.Scan(&v)
	}, string(kind))
	return churn.ModelVersion(v), err
}
