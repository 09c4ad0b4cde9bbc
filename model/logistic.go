package model

import (
	"context"
	"fmt"
	"math"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/liblinear"
)

// Logistic is an L2-regularised logistic regression fitted by golearn's
// liblinear binding in a child process (package model/liblinear). The model
// keeps the learned weights and computes probabilities itself; the weights,
// on standardised inputs, are also what people read to see what drives churn.
type Logistic struct {
	Encoder   *Encoder  `json:"encoder"`
	Coef      []float64 `json:"coef"` // one per encoded column (Encoder.Outputs)
	Intercept float64   `json:"intercept"`
	C         float64   `json:"c"` // inverse regularisation strength used
}

// TrainLogistic fits the model on the labelled rows of m. cats names the
// categorical features and their categories; c is liblinear's C (inverse
// regularisation strength; 1 is a sensible default on standardised inputs).
// liblinear runs in a child process (package model/liblinear) that is killed
// when ctx is cancelled; the encoded rows are streamed to it, never held here.
func TrainLogistic(ctx context.Context, m *churn.Matrix, cats map[string][]string, c float64) (*Logistic, error) {
	const op = "train logistic regression"
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if m.Labels == nil || m.Rows() == 0 {
		return nil, errf(op, "no labelled rows")
	}
	if c <= 0 {
		return nil, churn.Invalid(op, "C", "must be positive, got %g", c)
	}
	var pos int
	for i, l := range m.Labels {
		switch l {
		case 0:
		case 1:
			pos++
		default:
			return nil, churn.Invalid(op, "label", "row %d has label %v, want 0 or 1", i, l)
		}
	}
	if pos == 0 || pos == len(m.Labels) {
		return nil, churn.Invalid(op, "label", "all %d rows have the same label; need both classes", len(m.Labels))
	}
	enc := FitEncoder(m, cats)
	names, _ := enc.Outputs()
	p := liblinear.Problem{Rows: m.Rows(), Cols: len(names), Row: func(i int, dst []float64) bool {
		enc.EncodeRow(m, i, dst)
		return m.Labels[i] == 1
	}}
	w, err := liblinear.Fit(ctx, p, liblinear.Params{C: c, Eps: 1e-4})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return &Logistic{Encoder: enc, Coef: w.Coef, Intercept: w.Bias, C: c}, nil
}

// Margins returns the log-odds of churn for every row of m.
func (l *Logistic) Margins(m *churn.Matrix) ([]float64, error) {
	if err := l.Encoder.check(m); err != nil {
		return nil, err
	}
	names, _ := l.Encoder.Outputs()
	row := make([]float64, len(names))
	out := make([]float64, m.Rows())
	for i := range out {
		l.Encoder.EncodeRow(m, i, row)
		z := l.Intercept
		for k, v := range row {
			z += l.Coef[k] * v
		}
		out[i] = z
	}
	return out, nil
}

// Contributions returns, for row i of m, each input feature's contribution
// to the log-odds relative to an average customer (coefficient x
// standardised value, summed over a categorical feature's one-hot columns).
func (l *Logistic) Contributions(m *churn.Matrix, i int, dst []float64) []float64 {
	names, source := l.Encoder.Outputs()
	row := make([]float64, len(names))
	l.Encoder.EncodeRow(m, i, row)
	for j := range dst {
		dst[j] = 0
	}
	for k, v := range row {
		dst[source[k]] += l.Coef[k] * v
	}
	return dst
}

// Sigmoid maps log-odds to a probability.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
