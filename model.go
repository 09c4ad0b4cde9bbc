package churn

import (
	"math"
	"strconv"
	"time"
)

// ModelVersion is the number of a trained model in the registry, from 1;
// 0 stands for "no model" (no champion yet, or none recorded).
type ModelVersion int

// Model describes one trained model in the registry. The artifact is the
// self-describing model file (algorithm, features, encodings, calibration,
// training window, metrics, library versions) that scoring loads.
type Model struct {
	Version         ModelVersion
	Algorithm       string // "logistic" or "xgboost"
	CreatedAt       time.Time
	Params          map[string]string
	Features        []string
	TrainFrom       time.Time // first snapshot date used for training
	TrainTo         time.Time // last snapshot date used for training
	HoldoutAsOf     time.Time // out-of-time holdout snapshot the metrics come from
	Metrics         map[string]float64
	LibraryVersions map[string]string
	Description     string
	Artifact        []byte // empty in listings
	Champion        bool
	// TrainRun is the training run that stored the model; empty for models
	// stored before training runs were recorded.
	TrainRun string
	// TrainStatus is the state of that run: finished (also when TrainRun is
	// empty), started (running, or its process died) or failed. Only models
	// of finished runs may be promoted.
	TrainStatus ScoreRunStatus
}

// ModelEventType is what a change of champion was.
type ModelEventType string

// Model event types: the champion is the version named by the latest event.
const (
	ModelPromote  ModelEventType = "promote"  // a version made champion, by training or by hand
	ModelRollback ModelEventType = "rollback" // the champion before the current one restored
)

// ModelEvent records a change of champion in the registry.
type ModelEvent struct {
	At       time.Time
	Version  ModelVersion // the champion after the event
	Event    ModelEventType
	Previous ModelVersion // the champion before the event, 0 when none
	Actor    string
	Reason   string
}

// ParseModelVersion reads a version number as people and URLs write it
// ("3").
func ParseModelVersion(s string) (ModelVersion, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > math.MaxInt32 {
		return 0, Invalid("parse model version", "version", "%q: want a model version number (1, 2, ...)", s)
	}
	return ModelVersion(v), nil
}
