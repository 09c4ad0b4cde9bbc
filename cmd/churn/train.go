package main

import (
	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
)

func newTrainCmd(a *app) *cobra.Command {
	var (
		csvPath, label, id, out string
		folds                   int
		seed                    uint64
	)
	cmd := &cobra.Command{
		Use:   "train [--csv FILE --label COLUMN [--id COLUMN] --out MODEL_FILE]",
		Short: "Train churn models on the contract tables, or on any labelled CSV",
		Long: `Train the candidate models (logistic regressions with golearn/liblinear and
gradient-boosted trees with XGBoost) and keep the best.

With --csv, train on any labelled CSV: column types (numeric, boolean,
categorical) are detected, missing values (empty, NA) handled, the label read
as yes/no, true/false, 1/0 or churned/active; the candidates are compared by
stratified cross-validation, the winner is calibrated on its out-of-fold
scores, its metrics and top features are printed, and the model file is
written to --out (nothing is written on error).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if csvPath != "" {
				if label == "" {
					return churn.Invalid("train", "label", "--label COLUMN is required with --csv")
				}
				return trainCSV(cmd.Context(), a, csvPath, label, id, out, folds, seed)
			}
			return churn.Invalid("train", "csv", "training on the contract tables is not available yet; use --csv")
		},
	}
	f := cmd.Flags()
	f.StringVar(&csvPath, "csv", "", "labelled CSV to train on (optionally gzip'd)")
	f.StringVar(&label, "label", "", "label column of --csv")
	f.StringVar(&id, "id", "", "identifier column of --csv (kept out of the features, copied by predict)")
	f.StringVar(&out, "out", "", "model file to write (with --csv)")
	f.IntVar(&folds, "folds", 5, "cross-validation folds (with --csv)")
	f.Uint64Var(&seed, "seed", 1, "random seed for folds and subsampling")
	return cmd
}
