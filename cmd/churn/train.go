package main

import (
	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model"
)

func newTrainCmd(a *app) *cobra.Command {
	var (
		csvPath, label, id, out string
		folds, snapshots        int
		maxFitRows              int
		maxLogisticRows         int
		seed                    uint64
		horizon                 string
		force                   bool
	)
	cmd := &cobra.Command{
		Use:   "train [--csv FILE --label COLUMN [--id COLUMN] --out MODEL_FILE]",
		Short: "Train churn models on the contract tables, or on any labelled CSV",
		Long: `Train the candidate models (logistic regressions with golearn/liblinear and
gradient-boosted trees with XGBoost) and keep the best.

Without --csv, train on the contract tables in ClickHouse: monthly
point-in-time snapshots (features from rows before each date, label = churn
within the horizon after it; the older ones sampled down to --max-fit-rows,
keeping every churner, and for the logistic candidates further down to
--max-logistic-rows), the latest training snapshot for early stopping
and calibration, and an out-of-time holdout (the latest snapshot whose horizon
has passed, and with prepaid customers the --prepaid-inactivity-days that
confirm their churn) on which every candidate is judged. Every candidate is stored in
the registry; the best (PR-AUC, ties by ROC-AUC) becomes champion only if it
beats the current champion on the same holdout, or with --promote.

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
			return trainTables(cmd.Context(), a, tableOptions{snapshots: snapshots, horizon: horizon, force: force, maxFitRows: maxFitRows, maxLogisticRows: maxLogisticRows, seed: seed})
		},
	}
	f := cmd.Flags()
	f.StringVar(&csvPath, "csv", "", "labelled CSV to train on (optionally gzip'd)")
	f.StringVar(&label, "label", "", "label column of --csv")
	f.StringVar(&id, "id", "", "identifier column of --csv (kept out of the features, copied by predict)")
	f.StringVar(&out, "out", "", "model file to write (with --csv)")
	f.IntVar(&folds, "folds", 5, "cross-validation folds (with --csv)")
	f.Uint64Var(&seed, "seed", 1, "random seed for folds and subsampling")
	f.IntVar(&snapshots, "snapshots", 6, "monthly training snapshots (the latest validates); the holdout is the latest snapshot whose horizon has passed")
	f.StringVar(&horizon, "horizon", "30d", "label window: churn within this many days of a snapshot")
	f.IntVar(&maxFitRows, "max-fit-rows", model.DefaultMaxFitRows, "cap on the rows the candidates fit on: every churner is kept, non-churners are sampled (weighted, per snapshot); validation and holdout are never sampled")
	f.IntVar(&maxLogisticRows, "max-logistic-rows", model.DefaultMaxLogisticRows, "cap on the rows the logistic candidates (liblinear) fit on: one seeded sub-sample of the fit rows, every churner kept while they fit within half of it, weighted so the probabilities stay the population's; the boosted trees fit on all fit rows")
	f.BoolVar(&force, "promote", false, "promote the best candidate even if it does not beat the champion")
	return cmd
}
