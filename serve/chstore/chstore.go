// Package chstore adapts the ClickHouse client to the storage interfaces of
// package serve. The types are the domain's (package churn), so the client
// fits almost as it is; serve itself stays free of the clickhouse package.
package chstore

import (
	"context"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/serve"
)

// Store implements serve's storage interfaces on a ClickHouse client.
type Store struct {
	*clickhouse.Client
}

// New wraps c.
func New(c *clickhouse.Client) Store { return Store{Client: c} }

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
	_ serve.RunLister      = Store{}
	_ serve.ProfileReader  = Store{}
	_ serve.RegionReader   = Store{}
)
