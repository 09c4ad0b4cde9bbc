package churn

import (
	"fmt"
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
	Version ModelVersion
	// Kind is what the model predicts: churn (scoring) or uplift (targeting
	// of retention actions). Each kind has its own champion.
	Kind            ModelKind
	Algorithm       string // "logistic", "xgboost" or "two_model"
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

// ModelKind is what a registered model predicts. Versions are numbered in
// one sequence across kinds, and each kind has its own champion: the churn
// champion scores customers, the uplift champion ranks them for retention
// actions when the policy targets by uplift.
type ModelKind string

// Model kinds.
const (
	ModelChurn  ModelKind = "churn"  // probability of churn within the horizon
	ModelUplift ModelKind = "uplift" // churn a retention action prevents
)

// ModelKinds lists the kinds, for messages and validation.
var ModelKinds = []ModelKind{ModelChurn, ModelUplift}

// ParseModelKind reads a kind as people and URLs write it; "" is churn.
func ParseModelKind(s string) (ModelKind, error) {
	switch k := ModelKind(s); k {
	case "":
		return ModelChurn, nil
	case ModelChurn, ModelUplift:
		return k, nil
	}
	return "", Invalid("parse model kind", "kind", "%q: want one of %s", s, Names(ModelKinds))
}

// Metrics of uplift models: the holdout cycle's Qini coefficient of the
// ranking by uplift and of the ranking by churn probability (risk
// targeting) of the same customers.
const (
	MetricQini           = "qini"
	MetricQiniRisk       = "qini_risk"
	MetricHoldoutControl = "holdout_control" // control outcomes of the holdout cycle
)

// UpliftHoldoutMinControl is the fewest control outcomes of a holdout cycle
// whose Qini comparison may promote an uplift model: with fewer, a handful
// of control churners decide the comparison, and it is noise.
const UpliftHoldoutMinControl = 100

// PromoteBlocker says why m may not become its kind's champion, "" when it
// may: an uplift model must rank the holdout cycle better than risk
// targeting does, else targeting by it would save fewer customers than the
// default, on a holdout with at least UpliftHoldoutMinControl control
// outcomes.
func (m Model) PromoteBlocker() string {
	if m.Kind != ModelUplift {
		return ""
	}
	q, okQ := m.Metrics[MetricQini]
	r, okR := m.Metrics[MetricQiniRisk]
	if !okQ || !okR {
		return "it has no holdout Qini coefficients to compare with risk targeting"
	}
	if !(q > r) {
		return fmt.Sprintf("its holdout Qini coefficient %.5f does not beat risk targeting's %.5f on the same cycle", q, r)
	}
	if n := m.Metrics[MetricHoldoutControl]; n < UpliftHoldoutMinControl {
		return fmt.Sprintf("its holdout cycle has %.0f control outcomes, fewer than the %d a Qini comparison needs (plan larger cycles or a larger control_share)", n, UpliftHoldoutMinControl)
	}
	return ""
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
