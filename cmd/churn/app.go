package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/dataset"
	"github.com/telcoretain/churn/features"
)

// app carries what every command needs: configuration, logger and outputs.
type app struct {
	cfg    config
	log    *slog.Logger
	stdout *os.File
	stderr *os.File
	// op is the operator's vocabulary and feature families, loaded from
	// --vocabulary and --features-dir by init.
	op features.Operator
}

func (a *app) init(cmd *cobra.Command) error {
	if err := a.cfg.resolve(cmd); err != nil {
		return err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(a.cfg.LogLevel)) // checked by its setting
	opts := &slog.HandlerOptions{Level: level}
	if a.cfg.LogFormat == "json" {
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	} else {
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	}
	return a.loadOperator()
}

// loadOperator reads the vocabulary and the feature families the settings
// name, so that a bad file stops any command before it touches data.
func (a *app) loadOperator() error {
	voc, err := dataset.LoadVocabulary(a.cfg.VocabularyPath)
	if err != nil {
		return err
	}
	fams, err := features.LoadFamilies(a.cfg.FeaturesDir)
	if err != nil {
		return err
	}
	a.op = features.Operator{Vocabulary: voc, Families: fams}
	return nil
}

func (a *app) chConfig() clickhouse.Config {
	return clickhouse.Config{
		Addr:     a.cfg.ClickHouseAddr,
		Database: a.cfg.ClickHouseDB,
		User:     a.cfg.ClickHouseUser,
		Password: a.cfg.ClickHousePassword,
		Cluster:  a.cfg.ClickHouseCluster,
		Owner:    processOwner(),
		// ChurnedBetween and RunOutcomes follow the prepaid definition too.
		PrepaidInactivity: a.cfg.PrepaidInactivity,
		SnapshotQueries:   a.cfg.SnapshotQueries,
	}
}

// openStore connects to the configured ClickHouse database.
func (a *app) openStore(ctx context.Context) (*clickhouse.Client, error) {
	return clickhouse.Open(ctx, a.chConfig(), a.log)
}

// withStore connects to ClickHouse, runs fn and closes the connection.
func (a *app) withStore(ctx context.Context, fn func(*clickhouse.Client) error) error {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}
