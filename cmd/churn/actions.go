package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/jobs"
	"github.com/telcoretain/churn/retention"
)

func newActionsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "actions",
		Short: "Plan, list and measure retention actions",
		Long: `Retention actions turn scores into work: whom to contact this cycle, how, and
within budget (plan), and afterwards whether it worked (outcomes, report).

The queue is an append-only event log in ClickHouse (action_events). The
` + "`churn serve`" + ` process owns it: agents claim and complete actions through its
API, and it writes each event before it answers. ` + "`churn actions plan`" + ` appends
the new actions of a cycle to the same log (action ids are deterministic, so
planning twice adds nothing); the server picks them up on its next poll.`,
	}
	cmd.AddCommand(newActionsPlanCmd(a), newActionsListCmd(a), newActionsOutcomesCmd(a), newActionsReportCmd(a),
		newActionsSimulateCmd(a), newActionsDispatchCmd(a))
	return cmd
}

// loadQueue reads the action queue: the newest snapshot and the events
// after it.
func loadQueue(ctx context.Context, st *clickhouse.Client) (*retention.Queue, error) {
	q := retention.NewQueue(st, retention.QueueOptions{Snapshots: st})
	return q, q.Load(ctx)
}

func newActionsPlanCmd(a *app) *cobra.Command {
	var (
		path, runID string
		dryRun      bool
		show        int
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Choose this cycle's actions from the latest scoring run and queue them",
		Long: `For each scored customer, find the policy rule that matches their value tier,
risk band and top churn reason, and compute the expected value of its action:
P(churn) x lifetime value x save rate - cost. Act only when it is positive,
highest value first, until the cycle's budget is spent; skip customers under
the contact limit or cooldown. A control group (the policy's control share,
by a hash of customer and cycle) gets no action and is recorded as such.

A cycle is the scoring run's as-of date. --dry-run prints the plan only.`,
		Example: `  churn actions plan --dry-run --show 20
  churn actions plan --policy policies/default.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pol, err := loadPolicy(path)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(c *clickhouse.Client) error {
				ctx := cmd.Context()
				job := &jobs.Actions{Runs: c, Policy: func() *retention.Policy { return pol }, DryRun: dryRun, Log: a.log,
					Outcomes: c, Rand: retention.PlanRand, Uplift: a.upliftScorer(c)}
				if runID != "" {
					asOf, err := runAsOf(ctx, c, runID)
					if err != nil {
						return err
					}
					job.RunID, job.AsOf = runID, asOf
				}
				q, err := loadQueue(ctx, c)
				if err != nil {
					return err
				}
				job.Queue = q
				prog := a.newProgress("plan", "scores", 0)
				job.Progress = func(n int64) { prog.Add(n) }
				res, err := job.Run(ctx)
				prog.End(err)
				if err != nil {
					return err
				}
				printPlan(a.stdout, pol, res, dryRun, show)
				return nil
			})
		},
	}
	f := cmd.Flags()
	policyFlag(f, &path)
	f.StringVar(&runID, "run", "", "plan from this scoring run instead of the latest finished one")
	f.BoolVar(&dryRun, "dry-run", false, "print the plan without queueing anything")
	f.IntVar(&show, "show", 10, "actions to list, highest expected value first")
	return cmd
}

// runAsOf finds a finished run's as-of date.
func runAsOf(ctx context.Context, c *clickhouse.Client, runID string) (time.Time, error) {
	status, asOf, err := c.RunStatus(ctx, runID)
	if err != nil {
		return time.Time{}, err
	}
	if status != churn.ScoreRunFinished {
		// Its rows are a part of a run, or none: a plan from them would
		// miss customers.
		return time.Time{}, churn.Errorf(churn.KindConflict, "plan actions",
			"scoring run %s is %s, not finished: plan from a finished run (`churn status` shows the latest)", runID, status)
	}
	return asOf, nil
}

func printPlan(w io.Writer, pol *retention.Policy, res *jobs.ActionsResult, dryRun bool, show int) {
	p := res.Plan
	fmt.Fprintf(w, "cycle %s from run %s under %s\n", p.Cycle, p.RunID, pol.Source)
	fmt.Fprintf(w, "scores considered %d; actions %d (explored %d), control %d; cost %.2f of %.2f left in the budget\n",
		p.Considered, len(p.Actions), p.Explored, len(p.Control), p.Spent, p.Budget)
	targeting := string(p.Targeting)
	if p.TargetingNote != "" {
		targeting += " (" + p.TargetingNote + ")"
	}
	fmt.Fprintf(w, "targeting: %s\n", targeting)
	byKind := map[string]int{}
	for _, x := range p.Actions {
		byKind[string(x.Kind)+" (tier "+string(x.Tier)+")"]++
	}
	printCounts(w, "actions", byKind)
	printCounts(w, "skipped", p.Skipped)
	if dryRun {
		fmt.Fprintln(w, "dry run: nothing queued")
	} else {
		fmt.Fprintf(w, "queued %d new events (0 when the cycle was planned before)\n", res.Added)
	}
	if show > 0 && len(p.Actions) > 0 {
		fmt.Fprintln(w)
		printActions(w, p.Actions[:min(show, len(p.Actions))])
	}
}

func printCounts(w io.Writer, label string, m map[string]int) {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	fmt.Fprintf(w, "%s: %s\n", label, strings.Join(parts, ", "))
}

func printActions(w io.Writer, as []churn.Action) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tCUSTOMER\tCYCLE\tTIER\tBAND\tREASON\tKIND\tOFFER\tCOST\tVALUE\tPRIO\tSTATUS\tAGENT\tOUTCOME")
	for _, x := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%d\t%s\t%s\t%s\n", x.ID, x.CustomerID, x.Cycle, x.Tier,
			x.Band, x.Reason, x.Kind, x.Offer, x.Cost, x.Value, x.Priority, x.Status, x.Agent, x.Outcome)
	}
	tw.Flush()
}

func newActionsListCmd(a *app) *cobra.Command {
	var (
		f     retention.Filter
		limit int
	)
	var status, tier, kind string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List actions from the action log, most urgent first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.Status, f.Tier, f.Kind = churn.ActionStatus(status), churn.ValueTier(tier), churn.ActionKind(kind)
			if err := f.Validate(); err != nil {
				return err
			}
			if limit < 1 {
				return churn.Invalid("list actions", "limit", "%d: want 1 or more", limit)
			}
			return a.withStore(cmd.Context(), func(c *clickhouse.Client) error {
				q, err := loadQueue(cmd.Context(), c)
				if err != nil {
					return err
				}
				as, total, err := q.List(f, 0, limit)
				if err != nil {
					return err
				}
				printActions(a.stdout, as)
				fmt.Fprintf(a.stdout, "%d of %d matching actions; by status: %s\n", len(as), total, statusCounts(q.Counts()))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "one of "+churn.Names(churn.ActionStatuses))
	fl.StringVar(&tier, "tier", "", "value tier A, B or C")
	fl.StringVar(&kind, "kind", "", "one of "+churn.Names(churn.ActionKinds))
	fl.StringVar(&f.Cycle, "cycle", "", "cycle (YYYY-MM-DD)")
	fl.StringVar(&f.CustomerID, "customer", "", "customer id")
	fl.IntVar(&limit, "limit", 20, "actions to print")
	return cmd
}

func statusCounts(m map[churn.ActionStatus]int) string {
	s := map[string]int{}
	for k, v := range m {
		s[string(k)] = v
	}
	var b strings.Builder
	printCounts(&b, "", s)
	return strings.TrimSpace(strings.TrimPrefix(b.String(), ":"))
}

func newActionsOutcomesCmd(a *app) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "outcomes",
		Short: "Label treated and control customers of cycles whose horizon has passed",
		Long: `Label every planned customer (treated and control) of each cycle whose horizon
has passed as churned or retained, from churn_events. A cycle is ready when
the usage data reaches its horizon's end; it is labelled once.

A labelled cycle whose date the data has passed by the policy's
archive_after_days (90 by default) is then archived: its closed actions leave
the queue's memory, as its open ones do when they close. The action log keeps
their events, the cycle's outcomes their results, and the contact rules
still count their contacts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pol, err := loadPolicy(path)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(c *clickhouse.Client) error {
				q, err := loadQueue(cmd.Context(), c)
				if err != nil {
					return err
				}
				res, err := (&jobs.Outcomes{Churn: c, Labels: c, Actions: q, Archive: q, Policy: func() *retention.Policy { return pol }, Log: a.log}).Run(cmd.Context())
				if res != nil {
					fmt.Fprintf(a.stdout, "labelled %d customers of cycles %v; waiting for data: %v\n", res.Rows, res.Labeled, res.Waiting)
				}
				if err != nil {
					return err
				}
				if len(res.Archived) > 0 {
					fmt.Fprintf(a.stdout, "archived cycles %v: their closed actions left the queue (policy archive_after_days: %d)\n", res.Archived, pol.ArchiveAfterDays)
				}
				return nil
			})
		},
	}
	policyFlag(cmd.Flags(), &path)
	return cmd
}

func newActionsReportCmd(a *app) *cobra.Command {
	var (
		cycles []string
		path   string
		brief  bool
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Churn of treated against control customers, with a 95% confidence interval",
		Long: `Compare the churn rate of treated and control customers of labelled cycles,
overall, by value tier and by action. Saved is the control rate minus the
treated rate (every planned customer counts as treated, reached or not), with
a 95% Newcombe interval; revenue saved is saved x treated x their mean
lifetime value. Run ` + "`churn actions outcomes`" + ` first.

Then the response rates the planner uses, by action, tier and (with enough
outcomes) top reason: the policy's assumed save and acceptance rates, the
learned posterior means with 95% credible intervals, and the outcomes
behind them (see docs/retention.md). Last, the Qini coefficient of risk
targeting on the latest cycle reported, and the uplift champion's holdout
Qini curves against risk targeting's (` + "`churn uplift train`" + `).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pol, err := loadPolicy(path)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(c *clickhouse.Client) error {
				outs, err := c.ActionOutcomes(cmd.Context(), cycles...)
				if err != nil {
					return err
				}
				if len(outs) == 0 {
					return churn.Errorf(churn.KindNotFound, "lift report", "no labelled cycle yet: run `churn actions outcomes` once a cycle's horizon has passed")
				}
				lift, rates := retention.Measure(outs), retention.Learn(outs, pol.PriorStrength).Rates(pol)
				if brief {
					printBrief(a.stdout, lift, rates)
					return nil
				}
				printLift(a.stdout, lift)
				fmt.Fprintln(a.stdout)
				printRates(a.stdout, rates, pol.PriorStrength)
				fmt.Fprintln(a.stdout)
				return printTargeting(cmd.Context(), a.stdout, c, outs)
			})
		},
	}
	cmd.Flags().StringSliceVar(&cycles, "cycle", nil, "cycles to report (YYYY-MM-DD, repeatable); default all labelled")
	cmd.Flags().BoolVar(&brief, "brief", false, "only the saved rate overall and by action, and the rates by action and tier")
	policyFlag(cmd.Flags(), &path)
	return cmd
}

func printRates(w io.Writer, rates []retention.LearnedRate, strength float64) {
	fmt.Fprintf(w, "response rates: assumed (policy, prior strength %g) and learned (posterior mean, 95%% credible interval)\n\n", strength)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ACTION\tTIER\tREASON\tTREATED\tCONTROL\tWOULD CHURN\tKEPT\tSAVE ASSUMED\tSAVE LEARNED\t95% CrI\tWOKEN\tHARM LEARNED\t95% CrI\tWORKED\tACCEPT ASSUMED\tACCEPT LEARNED\t95% CrI\t")
	for _, r := range rates {
		reason := r.Key.Reason
		if reason == "" {
			reason = "all"
		}
		e := r.Evidence
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.1f\t%.1f\t%.3f\t%.3f\t[%.3f, %.3f]\t%.1f\t%.3f\t[%.3f, %.3f]\t%d\t%.3f\t%.3f\t[%.3f, %.3f]\t\n",
			r.Key.Kind, r.Key.Tier, reason, e.Treated, e.Control, e.WouldChurn, e.Kept, r.Save.Prior, r.Save.Mean, r.Save.Low, r.Save.High,
			e.Woken, r.Harm.Mean, r.Harm.Low, r.Harm.High, e.Worked, r.Accept.Prior, r.Accept.Mean, r.Accept.Low, r.Accept.High)
	}
	tw.Flush()
}

func printLift(w io.Writer, l retention.Lift) {
	fmt.Fprintf(w, "lift of cycles %s\n\n", strings.Join(l.Cycles, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SEGMENT\tTREATED\tCHURNED\tRATE\tCONTROL\tCHURNED\tRATE\tSAVED\t95% CI\tACCEPTED\tCOST\tREVENUE SAVED\t")
	rows := append(append([]retention.LiftRow{l.All}, l.ByTier...), l.ByKind...)
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.2f%%", 100*v)
	}
	for _, r := range rows {
		ci := "-"
		if !math.IsNaN(r.SavedLow) {
			ci = fmt.Sprintf("[%+.2f, %+.2f]", 100*r.SavedLow, 100*r.SavedHigh)
		}
		saved := "-"
		if !math.IsNaN(r.Saved) {
			saved = fmt.Sprintf("%+.2f pts", 100*r.Saved)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%d\t%.2f\t%.0f\t\n", r.Segment, r.Treated, r.TreatedChurned,
			pct(r.TreatedRate), r.Control, r.ControlChurned, pct(r.ControlRate), saved, ci, r.Accepted, r.Cost, r.RevenueSaved)
	}
	tw.Flush()
}
