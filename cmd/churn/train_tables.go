package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/model"
)

// tableOptions are the flags of `churn train` on the contract tables.
type tableOptions struct {
	snapshots       int
	horizon         string
	force           bool
	maxFitRows      int
	maxLogisticRows int
	seed            uint64
}

// trainTables is `churn train` on the contract tables.
func trainTables(ctx context.Context, a *app, o tableOptions) error {
	h, err := features.ParseHorizon(o.horizon)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	cands := model.SnapshotCandidates(0)
	snaps := a.newProgress("snapshots", "customers", 0)
	var cand *progress
	job := &jobs.Train{Data: st, Models: st, Registry: st, Runs: st, Log: a.log, Snapshots: o.snapshots, Horizon: h, Inactivity: a.cfg.PrepaidInactivity, Operator: a.op, Force: o.force, Actor: actor(), Candidates: cands,
		MaxFitRows: o.maxFitRows, MaxLogisticRows: o.maxLogisticRows, Seed: o.seed,
		Progress: func(step string, n int64) {
			switch step {
			case "snapshot":
				snaps.Add(n)
			case "candidate":
				if cand == nil {
					snaps.End(nil)
					cand = a.newProgress("training candidates", "candidates", int64(len(cands)))
				}
				cand.Add(n)
			}
		}}
	began := time.Now()
	res, err := job.Run(ctx)
	snaps.End(err)
	if cand != nil {
		cand.End(err)
	}
	if err != nil {
		return err
	}
	w := a.stdout
	logistic := ""
	if res.LogisticFitRows > 0 && res.LogisticFitRows < res.FitRows {
		logistic = fmt.Sprintf(", the logistic candidates on %d of them", res.LogisticFitRows)
	}
	fmt.Fprintf(w, "trained on %d snapshots from %s to %s (%d rows; fit on %d of %d, sampled%s); holdout %s\n\n", len(res.Schedule.Train),
		res.Schedule.Train[0].Format(time.DateOnly), res.Schedule.Train[len(res.Schedule.Train)-1].Format(time.DateOnly),
		res.Rows, res.FitRows, res.FitSeen, logistic, res.Schedule.Holdout.Format(time.DateOnly))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCANDIDATE\tFIT_ROWS\tHOLDOUT_PR_AUC\tROC_AUC\tLIFT@10%\tBRIER\tTOOK")
	for _, c := range res.Candidates {
		r := c.Model.Report
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.4f\t%.4f\t%.2f\t%.4f\t%s\n", c.Version, c.Name, c.FitRows, r.PRAUC, r.AUC, r.Top.Lift, r.Brier, c.Took.Round(time.Millisecond))
	}
	tw.Flush()
	fmt.Fprintln(w)
	if res.Promoted {
		fmt.Fprintf(w, "champion: model %d (%s): %s\n", res.Best.Version, res.Best.Name, res.Reason)
	} else {
		fmt.Fprintf(w, "no promotion: %s\n", res.Reason)
	}
	fmt.Fprintf(w, "took %s; see `churn models show %d`\n", time.Since(began).Round(time.Millisecond), res.Best.Version)
	return nil
}
