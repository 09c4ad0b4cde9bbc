package model

import (
	"slices"
	"sort"

	"github.com/telcoretain/churn"
)

// Histogram is a reference distribution kept in a model file for drift
// checks: quantile bin edges and the share of the reference values that fell
// in each bin. Bin 0 holds values below Edges[0], bin i values in
// [Edges[i-1], Edges[i]), the last bin values from the last edge up; missing
// values (NaN) have a share of their own. Shares are measured, not assumed to
// be equal, because tied values (isotonic calibration steps, counts that are
// mostly zero) make quantile bins uneven.
type Histogram struct {
	Edges   []float64 `json:"edges"`
	Shares  []float64 `json:"shares"` // len(Edges)+1, summing with Missing to 1
	Missing float64   `json:"missing,omitempty"`
}

// NewHistogram cuts values into at most bins quantile bins. Values are
// compared at float32 precision, the precision scores and features are stored
// with, so that a value equal to an edge falls in the same bin wherever it was
// read from.
func NewHistogram(values []float32, bins int) Histogram {
	var s []float64
	missing := 0
	for _, v := range values {
		if isNaN32(v) {
			missing++
			continue
		}
		s = append(s, float64(v))
	}
	slices.Sort(s)
	var h Histogram
	for k := 1; k < bins && len(s) > 0; k++ {
		e := s[min(len(s)-1, k*len(s)/bins)]
		if len(h.Edges) == 0 || e > h.Edges[len(h.Edges)-1] {
			h.Edges = append(h.Edges, e)
		}
	}
	// An edge at the minimum leaves bin 0 empty by construction; drop it.
	if len(h.Edges) > 0 && len(s) > 0 && h.Edges[0] <= s[0] {
		h.Edges = h.Edges[1:]
	}
	h.Shares, h.Missing = h.Distribution(values)
	return h
}

// Distribution returns the shares of values in each bin of h and the share
// of missing values; all zero when values is empty.
func (h Histogram) Distribution(values []float32) (shares []float64, missing float64) {
	shares = make([]float64, len(h.Edges)+1)
	if len(values) == 0 {
		return shares, 0
	}
	n := 0
	for _, v := range values {
		if isNaN32(v) {
			n++
			continue
		}
		// The first edge above v is v's bin: bin i covers [Edges[i-1], Edges[i]).
		shares[sort.Search(len(h.Edges), func(i int) bool { return h.Edges[i] > float64(v) })]++
	}
	for i := range shares {
		shares[i] /= float64(len(values))
	}
	return shares, float64(n) / float64(len(values))
}

// FeatureReference is the reference distribution of one input feature and
// how much it drives the model's scores.
type FeatureReference struct {
	Name       string  `json:"name"`
	Importance float64 `json:"importance"` // mean absolute contribution to the log-odds
	Histogram
}

// DriftReference is what drift checks compare a scoring run with: the
// distribution of the calibrated scores and of the most important features
// on the latest snapshot the model was trained with.
type DriftReference struct {
	Rows     int                `json:"rows"`
	Score    Histogram          `json:"score"`
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
func (m *Model) ScoreReference() (Histogram, bool) {
	if m.Drift != nil {
		return m.Drift.Score, true
	}
	if len(m.TrainScores) == 0 {
		return Histogram{}, false
	}
	var h Histogram
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
	ref := &DriftReference{Rows: x.Rows(), Score: NewHistogram(p, referenceBins)}
	imp, err := m.importances(x, false)
	if err != nil {
		return nil, err
	}
	for _, f := range imp[:min(referenceFeatures, len(imp))] {
		if f.Value <= 0 {
			break
		}
		ref.Features = append(ref.Features, FeatureReference{Name: f.Feature, Importance: f.Value,
			Histogram: NewHistogram(x.Col(f.Feature), referenceBins)})
	}
	return ref, nil
}
