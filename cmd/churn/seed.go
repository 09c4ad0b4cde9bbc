package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset/synth"
)

func newSeedCmd(a *app) *cobra.Command {
	def := synth.DefaultConfig()
	var (
		cfg       = def
		start     string
		blockRows int
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Replace the contract tables with a synthetic telecom operator",
		Long: `Empty the ten input contract tables (customers, plan_changes, usage_daily,
invoices, payments, support_tickets, churn_events, reactivations, topups,
contract_terms) and fill them with a synthetic telecom operator: consumer and
business customers on several plans and contracts, postpaid (monthly invoices
and payments, churn events) and prepaid (top-ups, churn by going silent),
one- and two-year terms with renewals, daily usage, support tickets, win-backs
(customers who leave and come back), and churn driven by causes a model can
learn (month-to-month contracts, a term's end, short tenure, price rises,
network trouble, complaints, missed payments, fading usage). It also fills nps_surveys, an extra table of NPS answers that
the example feature family features/examples/nps.sql reads. The same --seed
always gives the same data.

Any data already in the contract tables is lost; the output tables (models,
scores, actions) are kept.`,
		Example: `  churn seed
  churn seed --customers 100000 --months 12 --seed 7 --start 2024-07-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := time.Parse(time.DateOnly, start)
			if err != nil {
				return churn.Invalid("seed", "start", "%q is not a date: want YYYY-MM-DD", start)
			}
			cfg.Start = s
			if blockRows < 1000 {
				return churn.Invalid("seed", "block-rows", "%d is too small: want at least 1000", blockRows)
			}
			// Check everything before touching the database: bad input must
			// not leave the tables empty.
			if err := cfg.Validate(); err != nil {
				return err
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()

			began := time.Now()
			if err := st.TruncateContractTables(ctx); err != nil {
				return err
			}
			a.log.Info("seeding", "database", st.Database(), "customers", cfg.Customers, "months", cfg.Months,
				"seed", cfg.Seed, "start", start)
			prog := a.newProgress("seed", "rows", cfg.EstimatedRows())
			sum, err := synth.Load(ctx, cfg, st, synth.LoadOptions{
				BlockRows: blockRows,
				Progress:  func(n int) { prog.Add(int64(n)) },
			})
			if err != nil {
				prog.End(err)
				return fmt.Errorf("seed %s (the contract tables are partly loaded; run seed again): %w", st.Database(), err)
			}
			nps, err := synth.LoadNPS(ctx, cfg, st, blockRows)
			if err != nil {
				prog.End(err)
				return fmt.Errorf("seed %s (nps_surveys is partly loaded; run seed again): %w", st.Database(), err)
			}
			prog.SetTotal(int64(sum.Rows + nps))
			prog.End(nil)
			// The mark lets demo commands that rewrite data tell synthetic
			// data from an operator's.
			if err := st.MarkSeeded(ctx, cfg.Seed, time.Now()); err != nil {
				return err
			}
			printSeedSummary(a.stdout, st.Database(), cfg, sum, time.Since(began))
			fmt.Fprintf(a.stdout, "extra table nps_surveys: %d NPS answers (read by the example feature family features/examples/nps.sql)\n", nps)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Customers, "customers", def.Customers, "customers to generate (existing at the start and new during the window)")
	f.IntVar(&cfg.Months, "months", def.Months, "length of the window in months")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "random seed: the same seed gives the same data")
	f.StringVar(&start, "start", def.Start.Format(time.DateOnly), "first day of the window (YYYY-MM-DD)")
	f.IntVar(&cfg.Workers, "workers", 0, "parallel generators (0: one per CPU)")
	f.IntVar(&blockRows, "block-rows", 1_000_000, "usage rows per insert block")
	return cmd
}

func printSeedSummary(w io.Writer, db string, cfg synth.Config, s synth.Summary, elapsed time.Duration) {
	fmt.Fprintf(w, "seeded database %s: %d customers, %d months from %s, seed %d\n\n",
		db, s.Customers, cfg.Months, cfg.Start.Format(time.DateOnly), cfg.Seed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tROWS\t")
	for _, t := range s.Tables {
		fmt.Fprintf(tw, "%s\t%d\t\n", t.Table, t.Rows)
	}
	fmt.Fprintf(tw, "total\t%d\t\n", s.Rows)
	tw.Flush()
	fmt.Fprintln(w)
	lo, hi := 0.0, 0.0
	if len(s.MonthlyChurn) > 0 {
		lo, hi = slices.Min(s.MonthlyChurn), slices.Max(s.MonthlyChurn)
	}
	fmt.Fprintf(w, "churn events: %d (%d involuntary); monthly churn %.2f%% (months range %.2f%%-%.2f%%)\n",
		s.ChurnEvents, s.Involuntary, 100*s.MeanMonthlyChurn, 100*lo, 100*hi)
	fmt.Fprintf(w, "revenue (invoices and top-ups): %.0f; the top 20%% of customers bring %.1f%%\n", s.Revenue, 100*s.Top20RevenueShare)
	rate := 0.0
	if sec := elapsed.Seconds(); sec > 0 {
		rate = float64(s.Rows) / sec
	}
	fmt.Fprintf(w, "elapsed %s, %.0f rows/s\n", elapsed.Round(10*time.Millisecond), rate)
}
