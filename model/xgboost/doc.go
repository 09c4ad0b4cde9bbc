// Package xgboost is a thin cgo wrapper over the C API of XGBoost 1.7
// (Debian's libxgboost-dev): dense float32 matrices with NaN as missing,
// training with early stopping on a validation set, predictions, SHAP
// contributions, and model bytes that Python's xgboost 1.7 reads too. It is
// the only package of the service that uses cgo; package model builds the
// churn models on top of it.
//
// # Memory
//
// DMatrix and Booster own C memory and free it in Close, which is idempotent;
// use after Close returns an error wrapping ErrClosed. A runtime cleanup frees
// what a caller forgot, but only Close frees it at a known time. Input slices
// are read during the call and never kept; outputs are copied once out of
// XGBoost's buffers.
//
// # Threads and concurrency
//
// XGBoost 1.7 keeps state per OS thread: the last error message, the buffers
// that returned predictions point into, and each booster's prediction cache.
// Go moves goroutines between OS threads, so every Booster runs its C calls
// on one locked OS thread of its own, from creation to free. That makes a
// Booster safe for concurrent use: calls from many goroutines queue on its
// thread and run one at a time, each parallel over NThread cores. Boosters
// are independent and run in parallel with each other. The price is one idle
// OS thread per open Booster, plus the OpenMP team (NThread-1 threads) that
// XGBoost starts on it: fine for the few models a process holds, a reason to
// Close boosters of a search as soon as they are scored. A DMatrix may be
// read by concurrent predictions; training holds it exclusively.
//
// # Speed
//
// XGBoost copies a DMatrix into its own sparse layout (about 1 s and 400 MB
// for 1,000,000 x 50 on two cores: 8 bytes a value); PredictDense scores a
// Go matrix in place instead. For training with the "hist" tree method,
// NewFitMatrixFromColumns builds a quantile matrix instead, which keeps
// each value's histogram bin only (one byte) and trains the same booster. Exact SHAP values (Contribs) cost leaves x depth² per tree and row,
// about 30 s for 100,000 rows of a 100-tree depth-6 model on two cores.
// XGBoost 1.7's Saabas contributions (ContribsApprox) cost rows x trees x
// features: per row and tree its CPU predictor zero-fills and adds a vector
// as wide as the matrix, after the DMatrix copy. Forest.Contribs computes
// the same values in Go from the booster's trees (Booster.Forest, copied
// once) at rows x trees x depth, reading the caller's columns in place on
// every core; BenchmarkSaabasGoVsXGBoost measures both on 200,000 rows x 60
// of a 300-tree depth-6 model.
//
// # Errors
//
// Every error is a *churn.Error. Failures of the C library carry an *Error
// with the C function and XGBoost's own message (errors.As finds it); bad
// input found before calling C is KindInvalid and names the field.
package xgboost
