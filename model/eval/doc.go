// Package eval measures how well a churn model ranks and how honest its
// probabilities are, on a labelled set of rows (normally the out-of-time
// holdout): ROC-AUC, PR-AUC (average precision), log loss, Brier score, lift
// and capture in the top k%, a calibration table with its expected calibration
// error, and the confusion matrix at an operating point. It also splits rows for
// cross-validation (stratified K-fold with a seed) and by time.
//
// Every function takes scores and labels as []float64 of the same length, one
// element per row; labels are 0 (retained) or 1 (churned). Float64s converts the
// float32 labels of churn.Matrix. Bad input (mismatched lengths, no rows, NaN
// scores, labels other than 0 and 1, a single class where the metric needs both)
// is a churn.KindInvalid error naming the field and the row.
//
// Definitions follow scikit-learn where it has the metric, so numbers can be
// compared with a data scientist's notebook: roc_auc_score (ties count 1/2),
// average_precision_score (tied scores form one threshold), log_loss (clipped)
// and brier_score_loss.
package eval
