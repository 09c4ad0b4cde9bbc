package main

import (
	"encoding/json"
	"fmt"
	"os/user"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
)

func newModelsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List, inspect, promote and roll back models in the registry",
		Args:  cobra.NoArgs,
	}
	var (
		reason string
		kind   string
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List registered models, newest first, with their holdout metrics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ms []churn.Model
			err := a.withStore(cmd.Context(), func(st *clickhouse.Client) (err error) {
				ms, err = st.Models(cmd.Context())
				return err
			})
			if err != nil {
				return err
			}
			if len(ms) == 0 {
				fmt.Fprintln(a.stdout, "no models yet: train one with `churn train`")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tKIND\tALGORITHM\tCREATED\tHOLDOUT\tROC_AUC\tPR_AUC\tQINI (RISK)\tTRAINING\tCHAMPION")
			for _, m := range ms {
				champ := ""
				if m.Champion {
					champ = "*"
				}
				// Churn models are judged by discrimination, uplift models
				// by their Qini against risk targeting's on the same cycle.
				roc, pr, qini := fmt.Sprintf("%.4f", m.Metrics["roc_auc"]), fmt.Sprintf("%.4f", m.Metrics["pr_auc"]), "-"
				if m.Kind == churn.ModelUplift {
					roc, pr = "-", "-"
					qini = fmt.Sprintf("%.5f (%.5f)", m.Metrics[churn.MetricQini], m.Metrics[churn.MetricQiniRisk])
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Version, m.Kind, m.Algorithm,
					m.CreatedAt.UTC().Format("2006-01-02 15:04"), m.HoldoutAsOf.Format("2006-01-02"),
					roc, pr, qini, m.TrainStatus, champ)
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show VERSION",
		Short: "Show one model: parameters, features, training window, metrics, library versions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := parseVersion(args[0])
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(st *clickhouse.Client) error {
				m, err := st.Model(cmd.Context(), v)
				if err != nil {
					return err
				}
				printModel(a, m)
				return nil
			})
		},
	}
	promote := &cobra.Command{
		Use:   "promote VERSION",
		Short: "Make a model the champion that scoring uses",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := parseVersion(args[0])
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(st *clickhouse.Client) error {
				if err := st.Promote(cmd.Context(), v, actor(), reason); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "model %d is now the champion of its kind\n", v)
				return nil
			})
		},
	}
	rollback := &cobra.Command{
		Use:   "rollback",
		Short: "Bring back the champion before the current one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := churn.ParseModelKind(kind)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(st *clickhouse.Client) error {
				v, err := st.Rollback(cmd.Context(), k, actor(), reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "rolled back: model %d is the %s champion again\n", v, k)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{promote, rollback} {
		c.Flags().StringVar(&reason, "reason", "manual", "why, recorded in model_events")
	}
	rollback.Flags().StringVar(&kind, "kind", string(churn.ModelChurn), "whose champion to roll back: churn or uplift")
	cmd.AddCommand(list, show, promote, rollback)
	return cmd
}

func parseVersion(s string) (churn.ModelVersion, error) {
	v, err := churn.ParseModelVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return 0, churn.Invalid("models", "VERSION", "%q is not a model version (a positive number, see `churn models list`)", s)
	}
	return v, nil
}

// actor names who changed the champion, for model_events.
func actor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

func printModel(a *app, m churn.Model) {
	w := a.stdout
	champ := ""
	if m.Champion {
		champ = " (champion)"
	}
	fmt.Fprintf(w, "model %d%s: %s %s, created %s\n", m.Version, champ, m.Kind, m.Algorithm, m.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"))
	if m.Description != "" {
		fmt.Fprintf(w, "  %s\n", m.Description)
	}
	fmt.Fprintf(w, "training snapshots %s .. %s, holdout %s\n", m.TrainFrom.Format("2006-01-02"), m.TrainTo.Format("2006-01-02"), m.HoldoutAsOf.Format("2006-01-02"))
	printMap(w, "holdout metrics", m.Metrics)
	printMap(w, "parameters", m.Params)
	printMap(w, "library versions", m.LibraryVersions)
	fmt.Fprintf(w, "features (%d): %s\n", len(m.Features), strings.Join(m.Features, ", "))
	fmt.Fprintf(w, "artifact: %d bytes\n", len(m.Artifact))
}

func printMap[V any](w interface{ Write([]byte) (int, error) }, title string, m map[string]V) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range keys {
		b, _ := json.Marshal(m[k])
		fmt.Fprintf(tw, "  %s\t%s\n", k, strings.Trim(string(b), `"`))
	}
	tw.Flush()
}
