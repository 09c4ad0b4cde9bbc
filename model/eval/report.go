package eval

import (
	"math"

	"github.com/telcoretain/churn"
)

// DefaultTopFraction is the share of customers a retention campaign usually
// reaches, and so the cut at which lift and capture are reported.
const DefaultTopFraction = 0.1

// Options tunes Evaluate. The zero value gives the standard report.
type Options struct {
	Bins        int     // calibration bins; DefaultBins when 0
	Binning     Binning // calibration binning; EqualWidth when empty
	TopFraction float64 // cut for lift and capture; DefaultTopFraction when 0
	// Threshold is the operating point of the confusion matrix. When nil, the
	// max-F1 threshold on the evaluated rows is used, which is optimistic on
	// those rows: pass the threshold chosen on validation data for an honest
	// holdout figure.
	Threshold *float64
}

// Report is the evaluation of a model on one labelled set of rows, stored with
// the model in the registry (as JSON) and printed by the CLI.
type Report struct {
	Rows        int              `json:"rows"`
	Positives   int              `json:"positives"`
	BaseRate    float64          `json:"base_rate"`
	AUC         float64          `json:"roc_auc"`
	PRAUC       float64          `json:"pr_auc"` // average precision
	LogLoss     float64          `json:"log_loss"`
	Brier       float64          `json:"brier"`
	Top         TopK             `json:"top"`
	Calibration CalibrationTable `json:"calibration"`
	Operating   Confusion        `json:"operating_point"`
}

// Evaluate computes every metric of a Report for probabilities and labels. It
// needs both classes, and probabilities in [0, 1]. The rows are sorted once and
// shared by the ranking metrics, so a million rows take well under a second.
func Evaluate(probs, labels []float64, opts Options) (*Report, error) {
	const op = "evaluate"
	pos, neg, err := classCounts(op, probs, labels, true)
	if err != nil {
		return nil, err
	}
	if err := needBoth(op, pos, neg); err != nil {
		return nil, err
	}
	if opts.TopFraction == 0 {
		opts.TopFraction = DefaultTopFraction
	}
	k, err := topRows(op, len(probs), opts.TopFraction)
	if err != nil {
		return nil, err
	}
	if opts.Threshold != nil && math.IsNaN(*opts.Threshold) {
		return nil, churn.Invalid(op, "threshold", "is NaN")
	}
	rows := sortedDesc(probs, labels)
	r := &Report{
		Rows:      len(probs),
		Positives: pos,
		BaseRate:  float64(pos) / float64(len(probs)),
		AUC:       auc(rows, pos, neg),
		PRAUC:     averagePrecision(rows, pos),
		LogLoss:   logLoss(probs, labels),
		Top:       topFraction(rows, pos, opts.TopFraction, k),
	}
	if r.Brier, err = Brier(probs, labels); err != nil {
		return nil, err
	}
	if r.Calibration, err = Calibration(probs, labels, opts.Bins, opts.Binning); err != nil {
		return nil, err
	}
	if opts.Threshold == nil {
		r.Operating = maxF1(rows, pos, neg)
	} else if r.Operating, err = ConfusionAt(probs, labels, *opts.Threshold); err != nil {
		return nil, err
	}
	return r, nil
}

// Metrics flattens the headline numbers into the map that churn.Model
// carries, so the registry can list and compare versions without decoding the
// whole report.
func (r *Report) Metrics() map[string]float64 {
	return map[string]float64{
		"rows":         float64(r.Rows),
		"positives":    float64(r.Positives),
		"base_rate":    r.BaseRate,
		"roc_auc":      r.AUC,
		"pr_auc":       r.PRAUC,
		"log_loss":     r.LogLoss,
		"brier":        r.Brier,
		"ece":          r.Calibration.ECE,
		"top_fraction": r.Top.Fraction,
		"top_lift":     r.Top.Lift,
		"top_capture":  r.Top.Capture,
		"threshold":    r.Operating.Threshold,
		"precision":    r.Operating.Precision,
		"recall":       r.Operating.Recall,
		"f1":           r.Operating.F1,
	}
}
