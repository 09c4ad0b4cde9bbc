package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn/clickhouse"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the database and apply schema migrations",
		Long: `Create the ClickHouse database when it is missing and apply every schema
migration not yet recorded in its schema_migrations table. Safe to run on every
start: a second run changes nothing. With --cluster (CHURN_CLICKHOUSE_CLUSTER)
every table is created ON CLUSTER: sharded by customer behind Distributed
tables, or replicated to every node (docs/scaling.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := clickhouse.Migrate(cmd.Context(), a.chConfig(), a.log)
			if err != nil {
				return err
			}
			for _, m := range res.Applied {
				fmt.Fprintf(a.stdout, "applied %04d_%s\n", m.Version, m.Name)
			}
			where := a.cfg.ClickHouseAddr
			if a.cfg.ClickHouseCluster != "" {
				where += " (cluster " + a.cfg.ClickHouseCluster + ")"
			}
			fmt.Fprintf(a.stdout, "database %s on %s is at schema version %d (%d migrations applied now)\n",
				a.cfg.ClickHouseDB, where, res.Current, len(res.Applied))
			return nil
		},
	}
}
