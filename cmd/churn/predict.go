package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset"
	"github.com/telcoretain/churn/model"
)

// trainCSV is `churn train --csv`: any labelled file, cross-validated choice.
func trainCSV(ctx context.Context, a *app, path, label, id, out string, folds int, seed uint64) error {
	if out == "" {
		return churn.Invalid("train", "out", "--out MODEL_FILE is required with --csv")
	}
	if err := checkOutput("--out", out); err != nil {
		return err
	}
	f, closeF, err := openInput(path)
	if err != nil {
		return err
	}
	defer closeF()
	m, schema, err := model.ReadTraining(f, path, label, id)
	if err != nil {
		return err
	}
	pos := 0
	for _, l := range m.Labels {
		pos += int(l)
	}
	fmt.Fprintf(a.stdout, "read %d rows from %s: %d features, %d churners (%.1f%%)\n", m.Rows(), path, len(m.Features), pos, 100*float64(pos)/float64(m.Rows()))
	for _, c := range schema.Columns {
		if c.Kind != model.KindNumeric {
			fmt.Fprintf(a.stdout, "  %s: %s (%d values)\n", c.Name, c.Kind, len(c.Categories))
		}
	}
	if len(schema.Skipped) > 0 {
		fmt.Fprintf(a.stdout, "  skipped (identifier-like or constant): %v\n", schema.Skipped)
	}
	cands := model.Candidates(0)
	p := a.newProgress("cross-validating candidates", "candidates", int64(len(cands)))
	res, err := model.TrainCV(ctx, m, schema.Categories(), model.Options{Folds: folds, Seed: seed, Candidates: cands, Log: a.log,
		OnCandidate: func() { p.Add(1) }})
	p.End(err)
	if err != nil {
		return err
	}
	res.Best.Schema, res.Best.CreatedAt = schema, time.Now().UTC()
	printCandidates(a, res)
	printReport(a, res.Best)
	if err := printImportances(a, res.Best, m, 10); err != nil {
		return err
	}
	b, err := res.Best.Marshal()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(out, b); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "model written to %s (%d bytes); score a file with: churn predict --model %s --csv FILE --out scores.csv\n", out, len(b), out)
	return nil
}

func printCandidates(a *app, res *model.Result) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCANDIDATE\tCV_ROC_AUC\tCV_PR_AUC\tROUNDS\tTOOK")
	for _, c := range res.Candidates {
		r := "-"
		if c.Rounds > 0 {
			r = strconv.Itoa(c.Rounds)
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%s\t%s\n", c.Name, c.AUC, c.PRAUC, r, c.Took.Round(1e6))
	}
	tw.Flush()
}

func printReport(a *app, m *model.Model) {
	r := m.Report
	fmt.Fprintf(a.stdout, "\nchosen: %s (%s)\n", m.Params["candidate"], m.Validation)
	fmt.Fprintf(a.stdout, "  ROC-AUC %.4f  PR-AUC %.4f  log loss %.4f  Brier %.4f\n", r.AUC, r.PRAUC, r.LogLoss, r.Brier)
	fmt.Fprintf(a.stdout, "  top %.0f%%: lift %.2f, captures %.1f%% of churners\n", 100*r.Top.Fraction, r.Top.Lift, 100*r.Top.Capture)
	o := r.Operating
	fmt.Fprintf(a.stdout, "  at threshold %.3f: precision %.3f recall %.3f (TP %d FP %d FN %d TN %d)\n",
		o.Threshold, o.Precision, o.Recall, o.TP, o.FP, o.FN, o.TN)
}

func printImportances(a *app, m *model.Model, x *churn.Matrix, n int) error {
	imp, err := m.Importances(x)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "\ntop features (mean |contribution to log-odds|):")
	for i, im := range imp {
		if i == n {
			break
		}
		fmt.Fprintf(a.stdout, "  %-32s %.4f\n", im.Feature, im.Value)
	}
	return nil
}

func newPredictCmd(a *app) *cobra.Command {
	var modelPath, csvPath, out string
	cmd := &cobra.Command{
		Use:   "predict --model MODEL_FILE --csv FILE --out FILE",
		Short: "Score a CSV with a model trained by `churn train --csv`",
		Long: `Score every row of a CSV that has the columns the model was trained on (the
label column may be absent; extra columns are ignored). The output has the same
rows in the same order: the id column when the model has one, then
churn_probability. Nothing is written when the input is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return predictCSV(cmd.Context(), a, modelPath, csvPath, out)
		},
	}
	cmd.Flags().StringVar(&modelPath, "model", "", "model file written by 'churn train --csv' (required)")
	cmd.Flags().StringVar(&csvPath, "csv", "", "CSV file to score, optionally gzip'd (required)")
	cmd.Flags().StringVar(&out, "out", "", "output CSV (required)")
	for _, f := range []string{"model", "csv", "out"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func predictCSV(ctx context.Context, a *app, modelPath, csvPath, out string) error {
	if err := checkOutput("--out", out); err != nil {
		return err
	}
	b, err := os.ReadFile(modelPath)
	if err != nil {
		return churn.Invalid("predict", "model", "%v", err)
	}
	m, err := model.Unmarshal(b)
	if err != nil {
		return err
	}
	defer m.Close()
	if m.Schema == nil {
		return churn.Invalid("predict", "model", "%s was trained on the contract tables, not a CSV; use `churn score`", modelPath)
	}
	f, closeF, err := openInput(csvPath)
	if err != nil {
		return err
	}
	defer closeF()
	x, err := m.Schema.ReadScoring(f, csvPath)
	if err != nil {
		return err
	}
	p, err := m.Predict(ctx, x)
	if err != nil {
		return err
	}
	err = writeAtomic(out, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		header := []string{"churn_probability"}
		if m.Schema.ID != "" {
			header = []string{m.Schema.ID, "churn_probability"}
		}
		if err := cw.Write(header); err != nil {
			return err
		}
		for i, v := range p {
			rec := []string{strconv.FormatFloat(v, 'f', 6, 64)}
			if m.Schema.ID != "" {
				rec = []string{x.IDs[i], rec[0]}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "scored %d rows of %s with a %s model; wrote %s\n", len(p), csvPath, m.Algorithm, out)
	return nil
}

// openInput opens a CSV, transparently un-gzipping it.
func openInput(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, churn.Invalid("open input", "csv", "%v", err)
	}
	r, err := dataset.Decode(f)
	if err != nil {
		f.Close()
		return nil, nil, churn.Invalid("open input", "csv", "%s %v", path, err)
	}
	return r, f.Close, nil
}

func writeFileAtomic(path string, b []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// checkOutput reports, before any work, why path cannot be written (its
// folder missing, or a folder itself), naming the flag.
func checkOutput(flag, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return churn.Invalid("write output", flag, "%s is a folder: name a file", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return churn.Invalid("write output", flag, "cannot write %s: folder %s does not exist", path, dir)
	case !fi.IsDir():
		return churn.Invalid("write output", flag, "cannot write %s: %s is not a folder", path, dir)
	}
	return nil
}

// writeAtomic writes through a temporary file in the same folder and renames
// it into place, so a failure never leaves a partial output file.
func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return churn.Invalid("write output", "out", "cannot write %s: %v", path, errors.Unwrap(err))
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
