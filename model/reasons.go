package model

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/telcoretain/churn"
)

// MaxReasons is how many reason codes a score carries.
const MaxReasons = 3

// Reasons picks, for row i of x, the features that raised its churn score the
// most (largest positive contributions to the log-odds, at most MaxReasons)
// and says each in words from the feature's description, unit and the usual
// (training median) value. contribs holds one value per feature for row i.
func (m *Model) Reasons(x *churn.Matrix, i int, contribs []float32) []churn.Reason {
	type cand struct {
		j int
		c float32
	}
	var top []cand
	for j, c := range contribs {
		if c > 0 {
			top = append(top, cand{j, c})
		}
	}
	sort.Slice(top, func(a, b int) bool {
		if top[a].c != top[b].c {
			return top[a].c > top[b].c
		}
		return top[a].j < top[b].j
	})
	if len(top) > MaxReasons {
		top = top[:MaxReasons]
	}
	out := make([]churn.Reason, len(top))
	for k, t := range top {
		f := m.Features[t.j]
		v := float64(x.Cols[t.j][i])
		out[k] = churn.Reason{Feature: f.Name, Value: v, Contribution: float64(t.c), Text: ReasonText(f, v)}
	}
	return out
}

// ReasonText says a feature's value for people, e.g. "Dropped-call rate in the
// last 30 days: 6.1% (4.1x the usual 1.5%)".
func ReasonText(f FeatureInfo, v float64) string {
	// The description's parenthetical notes are for the catalogue, not for a
	// one-line reason.
	label, _, _ := strings.Cut(f.Description, " (")
	if label == "" {
		label = strings.ReplaceAll(f.Name, "_", " ")
	}
	if math.IsNaN(v) {
		return label + ": unknown"
	}
	if f.Categories != nil {
		i := int(v)
		if i >= 0 && i < len(f.Categories) {
			return label + ": " + f.Categories[i]
		}
		return label + ": unknown"
	}
	s := label + ": " + formatValue(f.Unit, v)
	u := f.Median
	switch {
	case u > 0 && v >= 1.5*u:
		s += fmt.Sprintf(" (%.1fx the usual %s)", v/u, formatValue(f.Unit, u))
	case u > 0 && v <= u/1.5:
		s += fmt.Sprintf(" (usual %s)", formatValue(f.Unit, u))
	case u == 0 && v > 0:
		s += " (usually none)"
	}
	return s
}

func formatValue(unit string, v float64) string {
	switch unit {
	case "ratio":
		return fmt.Sprintf("%.1f%%", 100*v)
	case "days":
		if v == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%.0f days", v)
	case "currency":
		return fmt.Sprintf("%.2f", v)
	case "minutes", "MB":
		return fmt.Sprintf("%.0f %s", v, unit)
	case "count":
		return fmt.Sprintf("%.0f", v)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Importance is a feature's mean absolute contribution to the log-odds.
type Importance struct {
	Feature string
	Value   float64
}

// importanceRows caps the rows importances explain: exact TreeSHAP costs
// about a millisecond a row for a large ensemble, and the mean over an even
// sample of a few thousand rows ranks features as well as all rows do.
const importanceRows = 5000

// Importances ranks the features by mean absolute SHAP contribution over the
// rows of x (an even sample of at most 5,000), largest first: what drives the
// model's scores overall.
func (m *Model) Importances(x *churn.Matrix) ([]Importance, error) {
	return m.importances(x, true)
}

// importances ranks features by exact or, with exact false, approximate
// contributions (see Contributions).
func (m *Model) importances(x *churn.Matrix, exact bool) ([]Importance, error) {
	if n := x.Rows(); n > importanceRows {
		idx := make([]int, importanceRows)
		for i := range idx {
			idx[i] = i * n / importanceRows
		}
		x = Subset(x, idx)
	}
	// At most importanceRows rows: seconds at worst, not worth a context.
	c, err := m.Contributions(context.Background(), x, exact)
	if err != nil {
		return nil, err
	}
	nf := len(m.Features)
	sum := make([]float64, nf)
	for i := range x.Rows() {
		for j := range nf {
			sum[j] += math.Abs(float64(c[i*nf+j]))
		}
	}
	out := make([]Importance, nf)
	for j := range nf {
		out[j] = Importance{m.Features[j].Name, sum[j] / float64(max(1, x.Rows()))}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Value > out[b].Value })
	return out, nil
}
