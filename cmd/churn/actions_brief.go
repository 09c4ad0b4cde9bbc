package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/telcoretain/churn/retention"
)

// printBrief is the short lift report (`churn actions report --brief`, the
// end of `make demo`): the overall saved rate with its interval, the saved
// rate by action, and the assumed against the learned rates by action and
// tier (reasons left out).
func printBrief(w io.Writer, l retention.Lift, rates []retention.LearnedRate) {
	pts := func(r retention.LiftRow) string {
		if math.IsNaN(r.Saved) {
			return "-"
		}
		return fmt.Sprintf("%+.2f pts, 95%% CI [%+.2f, %+.2f]", 100*r.Saved, 100*r.SavedLow, 100*r.SavedHigh)
	}
	fmt.Fprintf(w, "saved (control churn - treated churn, every planned customer) over %d cycles: %s\n", len(l.Cycles), pts(l.All))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACTION\tTREATED\tCHURNED\tCONTROL\tCHURNED\tSAVED")
	for _, r := range append([]retention.LiftRow{l.All}, l.ByKind...) {
		fmt.Fprintf(tw, "  %s\t%d\t%.1f%%\t%d\t%.1f%%\t%s\n", r.Segment, r.Treated, 100*r.TreatedRate, r.Control, 100*r.ControlRate, pts(r))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nresponse rates by action and tier: assumed (policy) and learned (posterior mean, 95% credible interval)")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACTION\tTIER\tTREATED\tCONTROL\tSAVE ASSUMED\tSAVE LEARNED\tHARM LEARNED\tACCEPT ASSUMED\tACCEPT LEARNED")
	for _, r := range rates {
		if r.Key.Reason != "" {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%.3f\t%.3f [%.3f, %.3f]\t%.3f [%.3f, %.3f]\t%.3f\t%.3f [%.3f, %.3f]\n",
			r.Key.Kind, r.Key.Tier, r.Evidence.Treated, r.Evidence.Control, r.Save.Prior, r.Save.Mean, r.Save.Low, r.Save.High,
			r.Harm.Mean, r.Harm.Low, r.Harm.High, r.Accept.Prior, r.Accept.Mean, r.Accept.Low, r.Accept.High)
	}
	tw.Flush()
}
