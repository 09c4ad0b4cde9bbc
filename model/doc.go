// Package model trains, evaluates, calibrates and explains churn classifiers.
//
// Two candidates are trained on the same point-in-time snapshots: a logistic
// regression fitted with golearn's liblinear binding (the transparent
// baseline whose coefficients people can read) and gradient-boosted trees
// through XGBoost's C library (package model/xgboost). Inputs are encoded by
// an Encoder learned on the training rows only, so the same transformation is
// replayed at scoring time from the model file.
package model
