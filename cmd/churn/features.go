package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/features"
)

// featuresArgs are the flags of `churn features`.
type featuresArgs struct {
	asOf, horizon, out string
}

func newFeaturesCmd(a *app) *cobra.Command {
	var args featuresArgs
	cmd := &cobra.Command{
		Use:   "features --out FILE.csv [--as-of DATE] [--horizon 30d]",
		Short: "Export one point-in-time feature snapshot as CSV",
		Long: `Compute the features of every customer active at the as-of date T (signed up
before T and not churned before T by the churn definition of its billing:
a churn event with no return for postpaid, --prepaid-inactivity-days without
usage or top-up for prepaid; see docs/data-contract.md) from rows dated
before T only, and write them
as CSV for notebooks and other tools: a customer_id column, one column per
feature of the registry (categorical features as their values, missing values
empty), and a label column: 1 when the customer churned in [T, T+horizon), 0
when not, empty while the horizon has not fully passed in the data.

The as-of date defaults to the day after the latest usage day in the data,
never today's date. The file is written whole or not at all.`,
		Example: `  churn features --out snapshot.csv
  churn features --as-of 2024-06-01 --horizon 30d --out june.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFeatures(cmd.Context(), a, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&args.asOf, "as-of", "", "as-of date YYYY-MM-DD (default: the day after the latest usage day)")
	f.StringVar(&args.horizon, "horizon", "30d", "label window, e.g. 30d or 4w")
	f.StringVar(&args.out, "out", "", "CSV file to write")
	cmd.AddCommand(newFeaturesCatalogCmd(a), newFeaturesCheckCmd(a))
	return cmd
}

func runFeatures(ctx context.Context, a *app, args featuresArgs) error {
	const op = "features"
	if args.out == "" {
		return churn.Invalid(op, "--out", "missing: name the CSV file to write with --out FILE.csv")
	}
	if err := checkOutput("--out", args.out); err != nil {
		return err
	}
	horizon, err := features.ParseHorizon(args.horizon)
	if err != nil {
		return err
	}
	asOf, err := optionalDate("--as-of", args.asOf)
	if err != nil {
		return err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := computeSnapshot(ctx, a, st, asOf, horizon)
	if err != nil {
		return err
	}
	if err := writeAtomic(args.out, func(w io.Writer) error { return features.WriteCSV(w, s) }); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %d customers x %d features as of %s to %s\n",
		s.Matrix.Rows(), len(s.Features), s.Matrix.AsOf.Format(time.DateOnly), args.out)
	fmt.Fprintln(a.stdout, labelSummary(s))
	return nil
}

// optionalDate parses a date flag; empty means "take it from the data".
func optionalDate(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return features.ParseDate(flag, v)
}

// asOfOrDataEnd is asOf, or the data's end when asOf is zero.
func asOfOrDataEnd(ctx context.Context, st *clickhouse.Client, asOf time.Time) (time.Time, error) {
	if !asOf.IsZero() {
		return asOf, nil
	}
	_, last, err := st.UsageRange(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return features.DataEnd(last), nil
}

// computeSnapshot computes the snapshot at asOf (zero: the data's end) with
// progress reporting.
func computeSnapshot(ctx context.Context, a *app, st *clickhouse.Client, asOf time.Time, horizon int) (*features.Snapshot, error) {
	_, last, err := st.UsageRange(ctx)
	if err != nil {
		return nil, err
	}
	dataEnd := features.DataEnd(last)
	if asOf.IsZero() {
		asOf = dataEnd
	}
	p := a.newSnapshotProgress("features as of " + asOf.Format(time.DateOnly))
	s, err := features.Compute(ctx, st, features.Spec{AsOf: asOf, Horizon: horizon, Inactivity: a.cfg.PrepaidInactivity, Operator: a.op, DataEnd: dataEnd,
		Progress: p.report})
	p.end(err)
	if err != nil {
		return nil, err
	}
	a.log.Info("features computed", "as_of", asOf.Format(time.DateOnly), "customers", s.Matrix.Rows(),
		"features", len(s.Features), "rows_read", p.seen)
	return s, nil
}

// snapshotProgress reports the rows a feature snapshot's queries have read.
type snapshotProgress struct {
	p           *progress
	seen, total int64
}

func (a *app) newSnapshotProgress(label string) *snapshotProgress {
	return &snapshotProgress{p: a.newEstimatedProgress(label, "rows read")}
}

// report is the snapshot's Progress (features.Spec). The total is an
// estimate (churn.ShareProgress) that may fall as well as rise; done /
// total does not fall.
func (sp *snapshotProgress) report(done, total int64) {
	if total != sp.total {
		sp.total = total
		sp.p.SetTotal(total)
	}
	sp.p.Add(done - sp.seen)
	sp.seen = done
}

// end ends the report; at 100% when the snapshot is done, since the
// server's total is an estimate.
func (sp *snapshotProgress) end(err error) {
	if err == nil && sp.seen > 0 {
		sp.p.SetTotal(sp.seen)
	}
	sp.p.End(err)
}

// labelSummary says how many customers churned in the horizon, or when the
// labels will be known.
func labelSummary(s *features.Snapshot) string {
	end := s.Matrix.AsOf.AddDate(0, 0, s.Horizon)
	if !s.Labeled && s.Settle > 0 {
		return fmt.Sprintf("labels: unknown until the data reaches %s (%d-day horizon and %d days of prepaid inactivity; data ends %s)",
			end.AddDate(0, 0, s.Settle).Format(time.DateOnly), s.Horizon, s.Settle, s.DataEnd.Format(time.DateOnly))
	}
	if !s.Labeled {
		return fmt.Sprintf("labels: unknown until the data reaches %s (%d-day horizon; data ends %s)",
			end.Format(time.DateOnly), s.Horizon, s.DataEnd.Format(time.DateOnly))
	}
	n := 0
	for _, l := range s.Matrix.Labels {
		if l == 1 {
			n++
		}
	}
	pct := 0.0
	if r := s.Matrix.Rows(); r > 0 {
		pct = 100 * float64(n) / float64(r)
	}
	return fmt.Sprintf("labels: %d churned before %s (%.1f%%)", n, end.Format(time.DateOnly), pct)
}
