// Package uplift models the effect of a retention action on churn rather
// than churn itself: a two-model learner (one XGBoost classifier on treated
// customers, one on the control group) whose difference is the churn an
// action prevents, and the Qini curve and coefficient that evaluate a
// ranking by uplift on treated and control outcomes out of time.
package uplift
