package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/policies"
	"github.com/telcoretain/churn/retention"
)

// loadPolicy reads the policy file, or the built-in default when path is
// empty. The --policy flag (policyFlag) has already fallen back to
// CHURN_POLICY.
func loadPolicy(path string) (*retention.Policy, error) {
	if path == "" {
		return retention.Parse(policies.DefaultName, policies.Default)
	}
	return retention.LoadFile(path)
}

// policyWatcher watches the policy file, or holds the built-in default.
func (a *app) policyWatcher(path string, every time.Duration) (*retention.Watcher, error) {
	if path == "" {
		p, err := loadPolicy("")
		if err != nil {
			return nil, err
		}
		return retention.NewFixed(p, nil), nil
	}
	return retention.NewWatcher(path, every, a.log, nil)
}

// policyFlag binds the policy setting to p for a command of its own.
func policyFlag(f *pflag.FlagSet, p *string) { policySetting(p).bind(f) }

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check and show retention policies (YAML)",
		Long: `A retention policy maps value tier x risk band x top churn reason to an
action (specialist_call, offer, email, sms, none) with an offer, channel, cost,
save rate and priority, and sets the contact limit, cooldown, budget per cycle
and control share. Start from policies/default.yaml.`,
	}
	check := &cobra.Command{
		Use:     "check FILE",
		Short:   "Validate a policy file and report every problem with its line",
		Example: `  churn policy check policies/default.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := retention.LoadFile(args[0])
			if probs := retention.Problems(err); len(probs) > 0 {
				for _, pr := range probs {
					line := ""
					if pr.Line > 0 {
						line = fmt.Sprintf("%d:", pr.Line)
					}
					field := ""
					if pr.Field != "" {
						field = pr.Field + ": "
					}
					fmt.Fprintf(a.stdout, "%s:%s %s%s\n", args[0], line, field, pr.Msg)
				}
				return churn.Errorf(churn.KindInvalid, "check policy", "%s has %d problem(s), listed above", args[0], len(probs))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: valid: %d rules, budget %.2f per cycle, control share %.0f%%, horizon %d days\n",
				args[0], len(p.Rules), p.Budget, 100*p.ControlShare, p.HorizonDays)
			return nil
		},
	}
	var path string
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the rules of a policy in the order they are tried",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := loadPolicy(path)
			if err != nil {
				return err
			}
			printPolicy(a.stdout, p)
			return nil
		},
	}
	policyFlag(show.Flags(), &path)
	cmd.AddCommand(check, show)
	return cmd
}

func printPolicy(w io.Writer, p *retention.Policy) {
	fmt.Fprintf(w, "policy %s\nbudget %.2f per cycle, control share %.0f%%, horizon %d days, lease %s\n",
		p.Source, p.Budget, 100*p.ControlShare, p.HorizonDays, p.Lease)
	fmt.Fprintf(w, "contacts: at most %d in %d days, %d days apart\n", p.ContactLimit, p.ContactWindow, p.CooldownDays)
	if p.ArchiveAfterDays > 0 {
		fmt.Fprintf(w, "cycles archived once labelled and %d days behind the data\n\n", p.ArchiveAfterDays)
	} else {
		fmt.Fprintf(w, "cycles never archived\n\n")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tTIERS\tBANDS\tREASONS\tACTION\tOFFER\tCHANNEL\tCOST\tSAVE\tPRIORITY")
	any := func(xs []string) string {
		if len(xs) == 0 {
			return "*"
		}
		return strings.Join(xs, ",")
	}
	for _, r := range p.Rules {
		tiers, bands := make([]string, len(r.Tiers)), make([]string, len(r.Bands))
		for i, t := range r.Tiers {
			tiers[i] = string(t)
		}
		for i, b := range r.Bands {
			bands[i] = string(b)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.0f%%\t%d\n", r.Name, any(tiers), any(bands), any(r.Reasons),
			r.Kind, r.Offer, r.Channel, r.Cost, 100*r.SaveRate, r.Priority)
	}
	tw.Flush()
}
