package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/features"
)

// checkArgs are the flags of `churn features check`.
type checkArgs struct {
	family, asOf string
	customers    int
}

func newFeaturesCheckCmd(a *app) *cobra.Command {
	var args checkArgs
	cmd := &cobra.Command{
		Use:   "check [--family NAME] [--as-of DATE] [--customers N]",
		Short: "Prove the SQL feature families of --features-dir read nothing dated on or after the as-of date",
		Long: `For each feature family of the features folder (--features-dir): copy the
tables it reads into a scratch database (the rows of a sample of customers,
every row of tables without customer_id), compute its values at the as-of
date T, add copies of the rows dated T, T+1 and T+40 (numbers other than ids
changed), compute the values at T again and compare them, customer by
customer. A family that keeps the point-in-time rule gives the same values.
The scratch database is dropped at the end; the operator's tables are only
read.

Exits non-zero naming the family, the feature and the customer whose value
changed.`,
		Example: `  churn --features-dir features/examples features check
  churn features check --family nps --as-of 2024-06-01 --customers 5000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFeaturesCheck(cmd.Context(), a, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&args.family, "family", "", "check only this family (its file name without .sql)")
	f.StringVar(&args.asOf, "as-of", "", "as-of date YYYY-MM-DD (default: the day after the latest usage day)")
	f.IntVar(&args.customers, "customers", 1000, "customers whose rows are copied into the scratch database")
	return cmd
}

func runFeaturesCheck(ctx context.Context, a *app, args checkArgs) error {
	const op = "features check"
	if args.customers < 1 {
		return churn.Invalid(op, "--customers", "%d: want at least 1", args.customers)
	}
	fams := a.op.Families
	if args.family != "" {
		fams = nil
		for _, f := range a.op.Families {
			if f.Name == args.family {
				fams = append(fams, f)
			}
		}
		if fams == nil {
			return churn.Invalid(op, "--family", "%q is not a family of the features folder %q", args.family, a.cfg.FeaturesDir)
		}
	}
	if len(fams) == 0 {
		return churn.Invalid(op, "features-dir", "no feature families to check: point --features-dir (CHURN_FEATURES_DIR) at a folder of *.sql families")
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
	if asOf, err = asOfOrDataEnd(ctx, st, asOf); err != nil {
		return err
	}
	for _, fam := range fams {
		res, err := checkFamily(ctx, a, st, fam, asOf, args.customers)
		if err != nil {
			return err
		}
		if res.Leak != nil {
			return &churn.Error{Op: op, Kind: churn.KindInvalid, Field: res.Leak.Feature,
				Msg: fmt.Sprintf("family %s (%s) reads rows dated on or after %s: %s", fam.Name, fam.Path, asOf.Format(time.DateOnly), res.Leak)}
		}
		fmt.Fprintf(a.stdout, "%s: ok: %d features of %d customers unchanged at %s after adding %d rows dated on or after it (tables %v)\n",
			fam.Name, len(fam.Features), res.Customers, asOf.Format(time.DateOnly), res.Added, fam.Tables)
	}
	return nil
}

// checkFamily runs the leak check of one family in its own scratch
// database, dropped whatever happens.
func checkFamily(ctx context.Context, a *app, st *clickhouse.Client, fam features.Family, asOf time.Time, customers int) (*features.LeakCheck, error) {
	sb, err := st.NewSandbox(ctx, fam.Tables, customers)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := sb.Drop(context.WithoutCancel(ctx)); err != nil {
			a.log.Warn("features check: could not drop the scratch database", "err", err)
		}
	}()
	return features.CheckFamily(ctx, sb, fam, asOf)
}
