// Package churn holds the domain of the churn-prediction and retention service:
// the types every other package speaks (customers, scores, risk
// bands, value tiers, model versions, retention actions, job runs) and the error
// kinds that the HTTP API and the CLI map to status codes and exit codes.
//
// It imports only the standard library. Technology lives in sub-packages:
// clickhouse (storage), features (point-in-time features), model (training and
// scoring), retention (policies and the action queue), jobs (scheduling) and
// serve (the HTTP API). cmd/churn wires them together.
package churn
