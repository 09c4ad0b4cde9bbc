package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/jobs"
)

func newScoreCmd(a *app) *cobra.Command {
	var (
		asOf    string
		bands   = churn.DefaultBands()
		byProb  bool
		horizon string
		exact   bool
	)
	cmd := &cobra.Command{
		Use:   "score [--as-of DATE]",
		Short: "Score every active customer with the champion model",
		Long: `Score every customer active on the as-of date (default: the day after the
latest usage day in the data) with the champion model: calibrated churn
probability, risk band, value tier, lifetime value, expected loss
(probability x lifetime value) and the reasons behind each score. The run's
rows are written first and the run is marked finished last, so readers (the
API, dashboards) never see a half-written run.

Risk bands are cut by share of customers by default (top 5% high, next 15%
medium); --bands-by-probability makes --high and --medium probability
thresholds instead.`,
		Example: `  churn score
  churn score --as-of 2025-12-01 --high 0.1 --medium 0.3
  churn score --bands-by-probability --high 0.5 --medium 0.2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			job := &jobs.Scoring{Log: a.log, Bands: bands, ExactReasons: exact, Inactivity: a.cfg.PrepaidInactivity, Operator: a.op}
			job.Bands.ByShare = !byProb
			if asOf != "" {
				d, err := features.ParseDate("as-of", asOf)
				if err != nil {
					return err
				}
				job.AsOf = d
			}
			h, err := features.ParseHorizon(horizon)
			if err != nil {
				return err
			}
			job.Horizon = h
			if err := job.Bands.Validate(); err != nil {
				return err
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			job.Data, job.Models, job.Runs, job.Scores, job.Uplift = st, st, st, st, st
			job.Reconcile = a.reconcileScoreRuns(st)
			// the snapshot's rows read, then the customers scored
			feats := a.newSnapshotProgress("features")
			var p *progress
			job.SnapshotProgress = feats.report
			job.Progress = func(step string, n int64) {
				switch step {
				case "features":
					feats.end(nil)
					p = a.newProgress("score", "customers", n)
				case "written":
					p.Add(n)
				}
			}
			began := time.Now()
			res, err := job.Run(ctx)
			if p == nil {
				feats.end(err)
			} else {
				p.End(err)
			}
			if err != nil {
				return err
			}
			el := time.Since(began)
			fmt.Fprintf(a.stdout, "run %s: scored %d customers as of %s with model %d in %s (%.0f customers/s)\n",
				res.RunID, res.Rows, res.AsOf.Format(time.DateOnly), res.ModelVersion, el.Round(time.Millisecond), float64(res.Rows)/el.Seconds())
			fmt.Fprintf(a.stdout, "  risk bands: %d high (p >= %.3f), %d medium (p >= %.3f), %d low\n",
				res.ByBand[churn.RiskHigh], res.HighCut, res.ByBand[churn.RiskMedium], res.MediumCut, res.ByBand[churn.RiskLow])
			fmt.Fprintf(a.stdout, "  time: features %s, predict %s, reasons %s, write %s\n",
				res.Took["features"].Round(time.Millisecond), res.Took["predict"].Round(time.Millisecond),
				res.Took["reasons"].Round(time.Millisecond), res.Took["write"].Round(time.Millisecond))
			if res.UpliftModel != 0 {
				fmt.Fprintf(a.stdout, "  uplift: uplift model %d's estimates stored with the scores in %s, for plans that target by uplift\n",
					res.UpliftModel, res.Took["uplift"].Round(time.Millisecond))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&asOf, "as-of", "", "as-of date YYYY-MM-DD (default: the day after the latest usage day)")
	f.StringVar(&horizon, "horizon", "30d", "label window the scores refer to")
	f.Float64Var(&bands.High, "high", bands.High, "high band: top share of customers, or probability threshold with --bands-by-probability")
	f.Float64Var(&bands.Medium, "medium", bands.Medium, "high+medium bands: cumulative top share, or probability threshold with --bands-by-probability")
	f.BoolVar(&exact, "exact-reasons", false, "reason codes from exact TreeSHAP values (slower) instead of path attribution")
	f.BoolVar(&byProb, "bands-by-probability", false, "cut bands by probability thresholds instead of shares of customers")
	return cmd
}
