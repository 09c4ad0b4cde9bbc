package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn/clickhouse"
)

func newStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show row counts, date ranges, the champion model and the last runs",
		Long: `Show what the database holds: rows and date ranges of each contract table,
the schema version, the champion model, the latest scoring and job runs, and
the staging tables of imports that did not finish. Scoring runs left started
by a process that is gone (or for longer than the score job's timeout) are
marked failed first, and the rows of failed runs removed.
Exits with status 3 and says how to start ClickHouse when it is unreachable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(st *clickhouse.Client) error {
				if err := a.reconcileScoreRuns(st)(cmd.Context()); err != nil {
					return err
				}
				s, err := st.Status(cmd.Context())
				if err != nil {
					return err
				}
				printStatus(a.stdout, a.cfg.ClickHouseAddr, s)
				return nil
			})
		},
	}
}

func printStatus(w io.Writer, addr string, s clickhouse.Status) {
	behind := ""
	if s.SchemaVersion < s.SchemaLatest {
		behind = fmt.Sprintf(" (this version of churn needs %d: run `churn migrate`)", s.SchemaLatest)
	}
	fmt.Fprintf(w, "ClickHouse %s at %s, database %s, schema version %d%s\n\n", s.Server, addr, s.Database, s.SchemaVersion, behind)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tROWS\tFROM\tTO\t")
	for _, t := range s.Tables {
		from, to := "-", "-"
		if t.Rows > 0 {
			from, to = t.From.Format("2006-01-02"), t.To.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", t.Table, t.Rows, from, to)
	}
	tw.Flush()
	fmt.Fprintln(w)
	uplift := "no uplift champion"
	if s.UpliftChampion != 0 {
		uplift = fmt.Sprintf("uplift champion version %d", s.UpliftChampion)
	}
	if s.Champion == 0 {
		fmt.Fprintf(w, "models: %d in the registry, no champion yet (train one with `churn train`)\n", s.Models)
	} else {
		fmt.Fprintf(w, "models: %d in the registry, champion version %d, %s\n", s.Models, s.Champion, uplift)
	}
	if r := s.LastScoreRun; r != nil {
		fmt.Fprintf(w, "last scoring run: %s as of %s with model %d, %d customers, finished %s\n",
			r.ID, r.AsOf.Format("2006-01-02"), r.ModelVersion, r.Rows, r.FinishedAt.UTC().Format("2006-01-02 15:04:05Z"))
	} else {
		fmt.Fprintln(w, "last scoring run: none yet")
	}
	if len(s.LastJobRuns) == 0 {
		fmt.Fprintln(w, "job runs: none yet")
	} else {
		fmt.Fprintln(w, "recent job runs:")
		for _, j := range s.LastJobRuns {
			line := fmt.Sprintf("  %s %-8s %-9s %s rows=%d", j.Started.UTC().Format("2006-01-02 15:04:05Z"), j.Job, j.Status, j.Trigger, j.Rows)
			if j.Error != "" {
				line += " error=" + j.Error
			}
			fmt.Fprintln(w, line)
		}
	}
	printPendingImports(w, s.Imports)
}

// printPendingImports lists leftover staging tables and how to clear them.
func printPendingImports(w io.Writer, imports []clickhouse.PendingImport) {
	if len(imports) == 0 {
		return
	}
	fmt.Fprintf(w, "unfinished imports: %d staging %s left\n", len(imports), importPlural(len(imports), "table", "tables"))
	for _, p := range imports {
		state := "nothing moved"
		switch {
		case p.Step == "":
			state = "not in the journal"
		case p.Moving():
			state = "some rows may be in the table"
		case p.Step == "done" || p.Step == "undone":
			state = p.Step + ", table not dropped"
		}
		owner := p.Owner
		if owner == "" {
			owner = "an unknown process"
		}
		fmt.Fprintf(w, "  %s: import %s into %s by %s, %d rows, %s; the next `churn import --table %s` takes it out unless it still runs\n",
			p.Stage, p.ID, p.Table, owner, p.Rows, state, p.Table)
	}
}
