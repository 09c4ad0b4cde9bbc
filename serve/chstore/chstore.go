// Package chstore adapts the ClickHouse client to the storage interfaces of
// package serve, converting the few types that differ; serve itself stays
// free of the clickhouse package.
package chstore

import (
	"context"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/serve"
)

// Store implements serve.ScoreStore, serve.ModelRegistry, serve.Pinger and
// serve.ChampionReader on a ClickHouse client.
type Store struct {
	*clickhouse.Client
}

// New wraps c.
func New(c *clickhouse.Client) Store { return Store{Client: c} }

// LatestFinishedRun returns the newest finished scoring run, nil when none.
func (s Store) LatestFinishedRun(ctx context.Context) (*serve.Run, error) {
	r, err := s.Client.LatestFinishedRun(ctx)
	if err != nil || r == nil {
		return nil, err
	}
	return &serve.Run{ID: r.RunID, AsOf: r.AsOf, ModelVersion: int(r.ModelVersion),
		FinishedAt: r.FinishedAt, Rows: int64(r.Rows)}, nil
}

// ChampionVersion returns the champion's version, 0 when none.
func (s Store) ChampionVersion(ctx context.Context) (int, error) {
	v, err := s.Client.ChampionVersion(ctx)
	return int(v), err
}

var (
	_ serve.ScoreStore     = Store{}
	_ serve.ModelRegistry  = Store{}
	_ serve.Pinger         = Store{}
	_ serve.ChampionReader = Store{}
)
