package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model/uplift"
)

func newUpliftCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "uplift",
		Short: "Train and evaluate uplift models from labelled retention cycles",
		Args:  cobra.NoArgs,
	}
	var rounds int
	train := &cobra.Command{
		Use:   "train",
		Short: "Train an uplift model on past cycles, evaluate it on the latest one, promote it if it beats risk targeting",
		Long: `Train a two-model uplift model from the labelled retention cycles
(` + "`churn actions outcomes`" + `): each planned customer's point-in-time features at
the cycle's as-of date, whether they were treated or held out as control,
and whether they churned within the horizon. Every cycle but the latest is
for training; the latest is the out-of-time holdout, where the Qini
coefficient of the ranking by uplift is compared with that of the ranking
by the churn probability the plan used (risk targeting), on the same
customers.

The model is stored in the registry as an uplift model (` + "`churn models list`" + `)
with both Qini coefficients and curves, and becomes the uplift champion only
when its Qini beats risk targeting's on a holdout cycle with at least ` + fmt.Sprint(churn.UpliftHoldoutMinControl) + `
control outcomes. A policy with ` + "`targeting: uplift`" + `
plans with the uplift champion. Training needs at least ` + fmt.Sprint(uplift.MinTreated) + ` treated and
` + fmt.Sprint(uplift.MinControl) + ` control outcomes in the training cycles.`,
		Example: `  churn uplift train
  churn uplift train --rounds 300`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rounds < 1 || rounds > 5000 {
				return churn.Invalid("uplift train", "rounds", "%d: want 1 to 5000 boosting rounds", rounds)
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			p := a.newProgress("uplift", "customers", 0)
			job := &jobs.UpliftTrain{Data: st, Outcomes: st, Models: st, Registry: st, Operator: a.op,
				Inactivity: a.cfg.PrepaidInactivity, Options: uplift.Options{Rounds: rounds}, Actor: actor(), Log: a.log,
				Progress: func(step string, n int64) {
					if step == "cycle" {
						p.Add(n)
					}
				}}
			res, err := job.Run(cmd.Context())
			p.End(err)
			if err != nil {
				return err
			}
			printUpliftResult(a.stdout, res)
			return nil
		},
	}
	train.Flags().IntVar(&rounds, "rounds", uplift.DefaultRounds, "boosting rounds of the treated classifier")
	cmd.AddCommand(train)
	return cmd
}

func printUpliftResult(w io.Writer, res *jobs.UpliftResult) {
	h := res.Holdout
	fmt.Fprintf(w, "uplift model %d: trained on cycles %s (%d treated, %d control outcomes)\n",
		res.Version, strings.Join(res.TrainCycles, ", "), res.Treated, res.Control)
	if res.Missing > 0 {
		fmt.Fprintf(w, "  %d labelled customers were not active at their cycle's date and are left out\n", res.Missing)
	}
	fmt.Fprintf(w, "holdout cycle %s (%d treated, %d control): Qini coefficient uplift %.5f, risk %.5f\n",
		h.Cycle, h.Treated, h.Control, h.Qini, h.QiniRisk)
	if res.Promoted {
		fmt.Fprintf(w, "promoted: model %d is the uplift champion\n", res.Version)
	} else {
		fmt.Fprintf(w, "not promoted: %s\n", res.Why)
	}
	fmt.Fprintln(w)
	printQiniCurves(w, h)
}

// printQiniCurves prints both curves side by side: the churn prevented, as
// a share of the cycle's customers, after targeting each share of them.
func printQiniCurves(w io.Writer, h uplift.Holdout) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TARGETED\tPREVENTED (UPLIFT)\tPREVENTED (RISK)\tRANDOM\t")
	last := 0.0
	if n := len(h.Curve); n > 0 {
		last = h.Curve[n-1].Incremental
	}
	pct := func(v float64) string {
		if math.Abs(v) < 5e-6 {
			v = 0 // no "-0.000%"
		}
		return fmt.Sprintf("%.3f%%", 100*v)
	}
	for i, pt := range h.Curve {
		risk := "-"
		if i < len(h.RiskCurve) {
			risk = pct(h.RiskCurve[i].Incremental)
		}
		fmt.Fprintf(tw, "%.0f%%\t%s\t%s\t%s\t\n", 100*pt.Share, pct(pt.Incremental), risk, pct(pt.Share*last))
	}
	tw.Flush()
}

// printTargeting reports how well targeting ranks: the Qini coefficient of
// the plan's churn probabilities on the latest cycle of outs, and the
// uplift champion's holdout curves, when there is one.
func printTargeting(ctx context.Context, w io.Writer, st *clickhouse.Client, outs []churn.Outcome) error {
	latest := ""
	for _, o := range outs {
		latest = max(latest, o.Cycle)
	}
	var risk []uplift.Outcome
	for _, o := range outs {
		if o.Cycle == latest {
			risk = append(risk, uplift.Outcome{Score: o.Probability, Treated: o.Group == churn.GroupTreated, Churned: o.Churned})
		}
	}
	_, q := uplift.Qini(risk, jobs.DefaultQiniPoints)
	fmt.Fprintf(w, "targeting: Qini coefficient of the ranking by churn probability (risk) on cycle %s: %.5f\n", latest, q)
	v, err := st.ChampionOf(ctx, churn.ModelUplift)
	if err != nil || v == 0 {
		if err == nil {
			fmt.Fprintln(w, "no uplift champion (`churn uplift train` trains one from the labelled cycles)")
		}
		return err
	}
	mv, err := st.Model(ctx, v)
	if err != nil {
		return err
	}
	h, err := uplift.ReadHoldout(mv.Artifact)
	if err != nil || h == nil {
		return err
	}
	fmt.Fprintf(w, "uplift champion %d, holdout cycle %s: Qini uplift %.5f, risk %.5f\n\n", v, h.Cycle, h.Qini, h.QiniRisk)
	printQiniCurves(w, *h)
	return nil
}
