package serve

import (
	"time"

	"github.com/telcoretain/churn"
)

// The JSON shapes of the API, as described in openapi.yaml. Domain types stay
// free of tags; these adapt them. Numbers that the snapshot keeps as float32
// are written as float32 so that they print as the shortest decimal that
// round-trips (0.42, not 0.41999998).

const dateLayout = "2006-01-02"

type runJSON struct {
	ID           string             `json:"id"`
	AsOf         string             `json:"as_of"`
	ModelVersion churn.ModelVersion `json:"model_version"`
	FinishedAt   string             `json:"finished_at"`
	Rows         int64              `json:"rows"`
}

func newRunJSON(r churn.ScoreRun) runJSON {
	return runJSON{ID: r.ID, AsOf: r.AsOf.Format(dateLayout), ModelVersion: r.ModelVersion,
		FinishedAt: r.FinishedAt.UTC().Format(time.RFC3339), Rows: r.Rows}
}

type reasonJSON struct {
	Feature      string  `json:"feature"`
	Value        float32 `json:"value"`
	Contribution float32 `json:"contribution"`
	Text         string  `json:"text"`
}

type scoreJSON struct {
	CustomerID    string             `json:"customer_id"`
	Probability   float32            `json:"probability"`
	Band          string             `json:"band"`
	Tier          string             `json:"tier"`
	LifetimeValue float32            `json:"lifetime_value"`
	ExpectedLoss  float32            `json:"expected_loss"`
	Reasons       []reasonJSON       `json:"reasons"`
	ModelVersion  churn.ModelVersion `json:"model_version"`
	AsOf          string             `json:"as_of"`
	RunID         string             `json:"run_id"`
	// Uplift and UpliftModel are set when the run stored the uplift
	// champion's estimate with the score.
	Uplift      *float32           `json:"uplift,omitempty"`
	UpliftModel churn.ModelVersion `json:"uplift_model,omitempty"`
}

func newScoreJSON(s churn.Score) scoreJSON {
	out := scoreJSON{CustomerID: s.CustomerID, Probability: float32(s.Probability), Band: string(s.Band),
		Tier: string(s.Tier), LifetimeValue: float32(s.LifetimeValue), ExpectedLoss: float32(s.ExpectedLoss),
		Reasons: make([]reasonJSON, len(s.Reasons)), ModelVersion: s.ModelVersion,
		AsOf: s.AsOf.Format(dateLayout), RunID: s.RunID}
	if s.UpliftModel != 0 {
		u := float32(s.Uplift)
		out.Uplift, out.UpliftModel = &u, s.UpliftModel
	}
	for i, r := range s.Reasons {
		out.Reasons[i] = reasonJSON{Feature: r.Feature, Value: float32(r.Value), Contribution: float32(r.Contribution), Text: r.Text}
	}
	return out
}

type historyJSON struct {
	CustomerID string      `json:"customer_id"`
	Scores     []scoreJSON `json:"scores"`
}

type pageJSON struct {
	Run        runJSON     `json:"run"`
	Sort       string      `json:"sort"`
	Items      []scoreJSON `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

type batchRequest struct {
	CustomerIDs []string `json:"customer_ids"`
}

type batchJSON struct {
	Run      runJSON     `json:"run"`
	Scores   []scoreJSON `json:"scores"`
	NotFound []string    `json:"not_found"`
}

type modelJSON struct {
	Version         churn.ModelVersion `json:"version"`
	Kind            string             `json:"kind"`
	Algorithm       string             `json:"algorithm"`
	CreatedAt       string             `json:"created_at"`
	Params          map[string]string  `json:"params"`
	Features        []string           `json:"features"`
	TrainFrom       string             `json:"train_from"`
	TrainTo         string             `json:"train_to"`
	HoldoutAsOf     string             `json:"holdout_as_of"`
	Metrics         map[string]float64 `json:"metrics"`
	LibraryVersions map[string]string  `json:"library_versions"`
	Description     string             `json:"description"`
	ArtifactBytes   int                `json:"artifact_bytes"`
	Champion        bool               `json:"champion"`
	TrainRun        string             `json:"train_run"`
	TrainStatus     string             `json:"train_status"`
}

func newModelJSON(m churn.Model) modelJSON {
	out := modelJSON{Version: m.Version, Kind: string(m.Kind), Algorithm: m.Algorithm, CreatedAt: m.CreatedAt.UTC().Format(time.RFC3339),
		Params: m.Params, Features: m.Features, TrainFrom: m.TrainFrom.Format(dateLayout),
		TrainTo: m.TrainTo.Format(dateLayout), HoldoutAsOf: m.HoldoutAsOf.Format(dateLayout),
		Metrics: m.Metrics, LibraryVersions: m.LibraryVersions, Description: m.Description,
		ArtifactBytes: len(m.Artifact), Champion: m.Champion, TrainRun: m.TrainRun, TrainStatus: string(m.TrainStatus)}
	if out.Kind == "" {
		out.Kind = string(churn.ModelChurn)
	}
	if out.TrainStatus == "" { // a model of no recorded run counts as finished
		out.TrainStatus = string(churn.ScoreRunFinished)
	}
	// Empty collections are written as {} and [] rather than null, so that
	// clients need no null checks.
	if out.Params == nil {
		out.Params = map[string]string{}
	}
	// JSON has no NaN: an undefined metric (AUC of a one-class holdout) is left out.
	out.Metrics = make(map[string]float64, len(m.Metrics))
	for k, v := range m.Metrics {
		if finite(v) {
			out.Metrics[k] = v
		}
	}
	if out.LibraryVersions == nil {
		out.LibraryVersions = map[string]string{}
	}
	if out.Features == nil {
		out.Features = []string{}
	}
	return out
}

type modelsJSON struct {
	Models []modelJSON `json:"models"`
}

type promoteRequest struct {
	Reason string `json:"reason"`
}

type championJSON struct {
	Champion churn.ModelVersion `json:"champion"`
}

type statusJSON struct {
	Status string   `json:"status"`
	Reason string   `json:"reason,omitempty"`
	Run    *runJSON `json:"run,omitempty"`
	// Queue says whether this server owns the action queue, and who does.
	Queue *queueJSON `json:"queue,omitempty"`
}

type errorJSON struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}
