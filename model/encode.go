package model

import (
	"fmt"
	"math"
	"slices"

	"github.com/telcoretain/churn"
)

// Column describes one input feature to the encoder: numeric, or categorical
// with the category index stored in the matrix (churn.Feature.Categories).
type Column struct {
	Name       string   `json:"name"`
	Categories []string `json:"categories"` // non-nil (possibly empty) for categorical features; null for numeric
	// Learned on the training rows:
	Median  float64 `json:"median"`            // imputation value for missing numerics
	Mean    float64 `json:"mean"`              // of the imputed values
	Std     float64 `json:"std"`               // of the imputed values; 1 when constant
	Missing bool    `json:"missing,omitempty"` // training rows had missing values: add an indicator
}

// Encoder turns a churn.Matrix into the dense design matrix a linear model
// needs: numeric features imputed with the training median, standardised, and
// followed by a missing-value indicator when the training data had gaps;
// categorical features one-hot encoded over the training categories (an unseen
// or missing category is all zeros). The learned statistics travel in the
// model file so scoring replays exactly the training transformation.
type Encoder struct {
	Columns []Column `json:"columns"`
}

// Outputs returns the names of the encoded columns and, for each, the index
// of the input column it comes from.
func (e *Encoder) Outputs() (names []string, source []int) {
	for j, c := range e.Columns {
		if c.Categories != nil {
			for _, cat := range c.Categories {
				names = append(names, c.Name+"="+cat)
				source = append(source, j)
			}
			continue
		}
		names = append(names, c.Name)
		source = append(source, j)
		if c.Missing {
			names = append(names, c.Name+"_missing")
			source = append(source, j)
		}
	}
	return names, source
}

// FitEncoder learns imputation and scaling statistics from m. cats gives the
// categories of categorical features by name; other features are numeric.
func FitEncoder(m *churn.Matrix, cats map[string][]string) *Encoder {
	e := &Encoder{}
	for j, name := range m.Features {
		col := Column{Name: name}
		if c, ok := cats[name]; ok {
			col.Categories = slices.Clone(c)
			if col.Categories == nil {
				col.Categories = []string{}
			}
			e.Columns = append(e.Columns, col)
			continue
		}
		vals := make([]float64, 0, len(m.Cols[j]))
		for _, v := range m.Cols[j] {
			if !isNaN32(v) {
				vals = append(vals, float64(v))
			}
		}
		col.Missing = len(vals) < len(m.Cols[j])
		col.Median = median(vals)
		n := float64(len(m.Cols[j]))
		var sum, sq float64
		for _, v := range m.Cols[j] {
			x := col.Median
			if !isNaN32(v) {
				x = float64(v)
			}
			sum += x
			sq += x * x
		}
		if n > 0 {
			col.Mean = sum / n
			variance := sq/n - col.Mean*col.Mean
			col.Std = math.Sqrt(math.Max(variance, 0))
		}
		if col.Std < 1e-12 {
			col.Std = 1
		}
		e.Columns = append(e.Columns, col)
	}
	return e
}

// check verifies that m has the encoder's features in the same order.
func (e *Encoder) check(m *churn.Matrix) error {
	names := make([]string, len(e.Columns))
	for j, c := range e.Columns {
		names[j] = c.Name
	}
	return checkFeatureOrder("encode", m.Features, names)
}

// checkFeatureOrder reports the first difference between the features of
// some data and those a model expects, naming the expected feature.
func checkFeatureOrder(op string, got, want []string) error {
	if len(got) != len(want) {
		return churn.Invalid(op, "features", "data has %d features, the model was trained on %d", len(got), len(want))
	}
	for j, name := range want {
		if got[j] != name {
			return churn.Invalid(op, name, "feature %d is %q, the model expects %q", j, got[j], name)
		}
	}
	return nil
}

// EncodeRow writes the encoded values of row i of m into dst, which must have
// one slot per output column, and returns dst.
func (e *Encoder) EncodeRow(m *churn.Matrix, i int, dst []float64) []float64 {
	k := 0
	for j, c := range e.Columns {
		v := m.Cols[j][i]
		if c.Categories != nil {
			for ci := range c.Categories {
				dst[k] = 0
				if !isNaN32(v) && int(v) == ci {
					dst[k] = 1
				}
				k++
			}
			continue
		}
		x := c.Median
		if !isNaN32(v) {
			x = float64(v)
		}
		dst[k] = (x - c.Mean) / c.Std
		k++
		if c.Missing {
			dst[k] = 0
			if isNaN32(v) {
				dst[k] = 1
			}
			k++
		}
	}
	return dst
}

func isNaN32(v float32) bool { return v != v }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func errf(op, format string, args ...any) error {
	return &churn.Error{Op: op, Kind: churn.KindInvalid, Msg: fmt.Sprintf(format, args...)}
}
