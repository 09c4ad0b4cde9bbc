package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
)

func newCustomersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "customers",
		Short: "Look at individual customers",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCustomersShowCmd(a))
	return cmd
}

func newCustomersShowCmd(a *app) *cobra.Command {
	var asOf string
	cmd := &cobra.Command{
		Use:   "show ID [--as-of DATE]",
		Short: "Show one customer's point-in-time features with descriptions and units",
		Long: `Show every feature of one customer at the as-of date, with what it means and
its unit, grouped by family, for checking a score by hand. The values are the
ones scoring sees: the whole snapshot is computed (value tiers rank the
customer against everyone active at that date), so this takes a few seconds
on a large base.

The as-of date defaults to the day after the latest usage day in the data.
A customer who signed up on or after the as-of date, or churned before it, has
no features then; the error says which.`,
		Example: `  churn customers show C0001
  churn customers show C0001 --as-of 2024-06-01`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCustomersShow(cmd.Context(), a, args[0], asOf)
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "as-of date YYYY-MM-DD (default: the day after the latest usage day)")
	return cmd
}

func runCustomersShow(ctx context.Context, a *app, id, asOfFlag string) error {
	const op = "show customer"
	asOf, err := optionalDate("--as-of", asOfFlag)
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
	// Check the customer first: an unknown id fails fast, before the
	// snapshot is computed.
	signup, churned, err := st.CustomerDates(ctx, id, asOf)
	if err != nil {
		return err
	}
	if err := activeAt(op, id, signup, churned, asOf); err != nil {
		return err
	}
	s, err := computeSnapshot(ctx, a, st, asOf, features.DefaultHorizon)
	if err != nil {
		return err
	}
	row := s.Row(id)
	if row < 0 {
		return churn.Errorf(churn.KindNotFound, op, "customer %q is not in the snapshot as of %s", id, asOf.Format(time.DateOnly))
	}
	printCustomer(a.stdout, s, row, signup, churned)
	return nil
}

// activeAt explains why a customer has no features at asOf, if so.
func activeAt(op, id string, signup, churned, asOf time.Time) error {
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	if !signup.Before(asOf) {
		return &churn.Error{Op: op, Kind: churn.KindNotFound, Field: "customer_id",
			Msg: fmt.Sprintf("customer %q signed up on %s, not before the as-of date %s: no features yet (use a later --as-of)", id, day(signup), day(asOf))}
	}
	if !churned.IsZero() && churned.Before(asOf) {
		return &churn.Error{Op: op, Kind: churn.KindNotFound, Field: "customer_id",
			Msg: fmt.Sprintf("customer %q churned on %s, before the as-of date %s: use --as-of %s or earlier", id, day(churned), day(asOf), day(churned))}
	}
	return nil
}

func printCustomer(w io.Writer, s *features.Snapshot, row int, signup, churned time.Time) {
	m := s.Matrix
	fmt.Fprintf(w, "customer %s as of %s (signed up %s", m.IDs[row], m.AsOf.Format(time.DateOnly), signup.Format(time.DateOnly))
	if !churned.IsZero() && s.Labeled {
		fmt.Fprintf(w, ", churned %s", churned.Format(time.DateOnly))
	}
	fmt.Fprintln(w, ")")
	end := m.AsOf.AddDate(0, 0, s.Horizon).Format(time.DateOnly)
	switch l := m.Labels[row]; {
	case !s.Labeled:
		// Prepaid labels also need the inactivity days after the horizon.
		fmt.Fprintf(w, "label: unknown until the data reaches %s\n", m.AsOf.AddDate(0, 0, s.Horizon+s.Settle).Format(time.DateOnly))
	case l == 1:
		fmt.Fprintf(w, "label: churned before %s\n", end)
	default:
		fmt.Fprintf(w, "label: still a customer on %s\n", end)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	family := ""
	for j, f := range s.Features {
		if f.Family != family {
			family = f.Family
			fmt.Fprintf(tw, "\n%s\t\t\t\n", family)
		}
		v := m.Cols[j][row]
		desc := f.Description
		val := humanValue(f, v)
		if val == "" {
			val = "missing"
			if f.Missing != "" {
				desc += " (" + f.Missing + ")"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Name, val, f.Unit, desc)
	}
	tw.Flush()
}

// humanValue shows a value for people: category names, whole numbers without
// decimals, others rounded to 4 decimals; "" when missing.
func humanValue(f churn.Feature, v float32) string {
	if f.Categories != nil || v != v {
		return features.FormatValue(f, v)
	}
	x := float64(v)
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
}
