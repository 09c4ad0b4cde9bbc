package model

import (
	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/eval"
)

// FeatureReference is the reference distribution of one input feature and
// how much it drives the model's scores.
type FeatureReference struct {
	Name       string  `json:"name"`
	Importance float64 `json:"importance"` // mean absolute contribution to the log-odds
	eval.Histogram
}

// DriftReference is what drift checks compare a scoring run with: the
// distribution of the calibrated scores and of the most important features
// on the latest snapshot the model was trained with.
type DriftReference struct {
	Rows     int                `json:"rows"`
	Score    eval.Histogram     `json:"score"`
	Features []FeatureReference `json:"features"`
}

// Reference sizes: ten bins is the usual choice for the population
// stability index, and the ten most important features cover what drives
// the scores.
const (
	referenceBins     = 10
	referenceFeatures = 10
)

// ScoreReference returns the reference distribution of the calibrated
// scores. Model files written before DriftReference existed only kept the
// score deciles; their bins are taken to hold a tenth of the scores each
// (merged where deciles tie), which is approximate but keeps their drift
// measurable.
func (m *Model) ScoreReference() (eval.Histogram, bool) {
	if m.Drift != nil {
		return m.Drift.Score, true
	}
	if len(m.TrainScores) == 0 {
		return eval.Histogram{}, false
	}
	var h eval.Histogram
	per := 1.0 / float64(len(m.TrainScores)+1)
	h.Shares = []float64{per}
	for _, e := range m.TrainScores {
		e = float64(float32(e))
		if len(h.Edges) > 0 && e <= h.Edges[len(h.Edges)-1] {
			h.Shares[len(h.Shares)-1] += per
			continue
		}
		h.Edges = append(h.Edges, e)
		h.Shares = append(h.Shares, per)
	}
	return h, true
}

// driftReference measures the reference distributions on x (the latest
// training snapshot) and its calibrated scores.
func (m *Model) driftReference(x *churn.Matrix, scores []float64) (*DriftReference, error) {
	p := make([]float32, len(scores))
	for i, v := range scores {
		p[i] = float32(v)
	}
	ref := &DriftReference{Rows: x.Rows(), Score: eval.NewHistogram(p, referenceBins)}
	imp, err := m.importances(x, false)
	if err != nil {
		return nil, err
	}
	for _, f := range imp[:min(referenceFeatures, len(imp))] {
		if f.Value <= 0 {
			break
		}
		ref.Features = append(ref.Features, FeatureReference{Name: f.Feature, Importance: f.Value,
			Histogram: eval.NewHistogram(x.Col(f.Feature), referenceBins)})
	}
	return ref, nil
}
