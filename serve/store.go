package serve

import (
	"context"

	"github.com/telcoretain/churn"
)

// ScoreStore is where finished scoring runs are read from.
type ScoreStore interface {
	// LatestFinishedRun returns the newest finished run, nil when there is none.
	LatestFinishedRun(ctx context.Context) (*churn.ScoreRun, error)
	// ScanRunScores streams every score of a run to fn.
	ScanRunScores(ctx context.Context, runID string, fn func(churn.Score) error) error
	// CustomerHistory returns a customer's scores across finished runs,
	// oldest first, at most limit of the latest.
	CustomerHistory(ctx context.Context, customerID string, limit int) ([]churn.Score, error)
}

// ModelLister reads the registry.
type ModelLister interface {
	// Models lists the registry, newest first, without artifacts.
	Models(ctx context.Context) ([]churn.Model, error)
	// Model returns one version; KindNotFound when absent.
	Model(ctx context.Context, version churn.ModelVersion) (churn.Model, error)
}

// ChampionChanger changes the champion.
type ChampionChanger interface {
	// Promote makes version the champion.
	Promote(ctx context.Context, version churn.ModelVersion, actor, reason string) error
	// Rollback restores the previous champion of a kind and returns its
	// version.
	Rollback(ctx context.Context, kind churn.ModelKind, actor, reason string) (churn.ModelVersion, error)
}

// ModelRegistry lists model versions and changes the champion.
type ModelRegistry interface {
	ModelLister
	ChampionChanger
}

// Pinger tells whether the storage answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// ChampionReader reads the champion's version (0 when none). A ScoreStore
// that also implements it has the champion exported as a metric on each poll.
type ChampionReader interface {
	ChampionVersion(ctx context.Context) (churn.ModelVersion, error)
}
