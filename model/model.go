package model

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/calibrate"
	"github.com/telcoretain/churn/model/eval"
	"github.com/telcoretain/churn/model/xgboost"
)

// Algorithms of the candidates.
const (
	AlgoLogistic = "logistic"
	AlgoXGBoost  = "xgboost"
)

// FormatVersion is the version of the model file layout.
const FormatVersion = 1

// FeatureInfo is what a model file keeps about each input feature: enough to
// encode it and to explain a score in words without the feature registry.
type FeatureInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	Categories  []string `json:"categories"` // null for numeric features, a list (possibly empty) for categorical ones
	// Median of the training rows (NaN-free; 0 when all were missing): the
	// "usual" value reason codes compare a customer with.
	Median float64 `json:"median"`
}

// Model is a trained, calibrated churn classifier. Its JSON form is the
// self-describing model file: algorithm, features and encodings, the fitted
// model (logistic weights, or the XGBoost booster in XGBoost's own JSON so
// that python3-xgboost can load it), the calibrator, the operating threshold,
// how it was validated and with which library versions.
type Model struct {
	Format      int               `json:"format"`
	Algorithm   string            `json:"algorithm"`
	CreatedAt   time.Time         `json:"created_at"`
	Features    []FeatureInfo     `json:"features"`
	Params      map[string]string `json:"params"`
	Logistic    *Logistic         `json:"logistic,omitempty"`
	XGBoost     []byte            `json:"xgboost,omitempty"` // booster in XGBoost JSON, base64 in the file
	Calibration json.RawMessage   `json:"calibration"`
	Threshold   float64           `json:"threshold"` // operating point on calibrated probabilities
	Schema      *Schema           `json:"schema,omitempty"`
	Validation  string            `json:"validation"` // how Report was measured
	Report      *eval.Report      `json:"report,omitempty"`
	Libraries   map[string]string `json:"libraries"`
	// Training window (contract-table models): first and last training
	// snapshot and the out-of-time holdout.
	TrainFrom   time.Time `json:"train_from,omitzero"`
	TrainTo     time.Time `json:"train_to,omitzero"`
	HoldoutAsOf time.Time `json:"holdout_as_of,omitzero"`
	// TrainScores are the calibrated training scores' decile edges, kept as
	// the reference distribution for drift.
	TrainScores []float64 `json:"train_score_deciles,omitempty"`
	// Drift is the reference for drift checks (contract-table models).
	Drift *DriftReference `json:"drift_reference,omitempty"`

	once    sync.Once
	booster *xgboost.Booster
	cal     calibrate.Calibrator
	loadErr error
}

// FeatureNames returns the model's input features in column order.
func (m *Model) FeatureNames() []string {
	out := make([]string, len(m.Features))
	for i, f := range m.Features {
		out[i] = f.Name
	}
	return out
}

// Categories returns the categorical features and their categories.
func (m *Model) Categories() map[string][]string {
	out := map[string][]string{}
	for _, f := range m.Features {
		if f.Categories != nil {
			out[f.Name] = f.Categories
		}
	}
	return out
}

// Libraries returns the versions of the libraries models are built with.
func Libraries() map[string]string {
	return map[string]string{
		"go":      runtime.Version(),
		"xgboost": xgboost.Version(),
		"golearn": "v0.0.0-20221228163002-74ae077eafb2 (liblinear)",
	}
}

// Marshal writes the model file.
func (m *Model) Marshal() ([]byte, error) {
	return json.Marshal(m)
}

// Unmarshal reads a model file and prepares it for prediction.
func Unmarshal(data []byte) (*Model, error) {
	const op = "load model file"
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, churn.Invalid(op, "file", "not a churn model file: %v", err)
	}
	if m.Format != FormatVersion {
		return nil, churn.Invalid(op, "format", "model file format %d, this build reads %d", m.Format, FormatVersion)
	}
	if err := m.prepare(); err != nil {
		return nil, err
	}
	return &m, nil
}

// prepare loads the booster and the calibrator once.
func (m *Model) prepare() error {
	m.once.Do(func() {
		switch m.Algorithm {
		case AlgoLogistic:
			if m.Logistic == nil || len(m.Logistic.Coef) == 0 {
				m.loadErr = churn.Invalid("load model", "logistic", "model file has no weights")
				return
			}
		case AlgoXGBoost:
			if m.booster == nil {
				m.booster, m.loadErr = xgboost.Load(m.XGBoost, 0)
				if m.loadErr != nil {
					return
				}
			}
		default:
			m.loadErr = churn.Invalid("load model", "algorithm", "unknown algorithm %q", m.Algorithm)
			return
		}
		if len(m.Calibration) > 0 {
			m.cal, m.loadErr = calibrate.Unmarshal(m.Calibration)
		}
	})
	return m.loadErr
}

// Close frees the booster's C memory. The model must not be used afterwards.
func (m *Model) Close() error {
	if m.booster != nil {
		return m.booster.Close()
	}
	return nil
}

// checkFeatures verifies x has the model's features in order.
func (m *Model) checkFeatures(x *churn.Matrix) error {
	return checkFeatureOrder("predict", x.Features, m.FeatureNames())
}

// predictChunk is how many rows one XGBoost call predicts or explains. ctx
// is checked between chunks: at a million rows prediction takes about 9 s,
// and a stopped run must end within 5 s.
const predictChunk = 1 << 16

// ByChunks calls fn with a DMatrix of each of consecutive chunks of x's rows
// (lo is the chunk's first row), checking ctx before each: how an XGBoost
// model predicts for many rows in bounded memory and stops soon after ctx
// ends. margin, when not nil, are the rows' base margins.
func ByChunks(ctx context.Context, x *churn.Matrix, margin []float32, fn func(d *xgboost.DMatrix, lo int) error) error {
	n := x.Rows()
	if margin != nil && len(margin) != n {
		return churn.Errorf(churn.KindInvalid, "predict", "%d base margins for %d rows", len(margin), n)
	}
	sub := make([][]float32, len(x.Cols))
	for lo := 0; ; lo += predictChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+predictChunk, n)
		for j, c := range x.Cols {
			sub[j] = c[lo:hi]
		}
		var o xgboost.MatrixOptions
		if margin != nil {
			o.BaseMargin = margin[lo:hi]
		}
		d, err := xgboost.NewDMatrixFromColumns(sub, o)
		if err != nil {
			return err
		}
		err = fn(d, lo)
		d.Close()
		if err != nil || hi >= n {
			return err
		}
	}
}

// Margins returns the uncalibrated log-odds of churn of every row. An
// XGBoost model predicts predictChunk rows at a time and stops with ctx's
// error once ctx ends.
func (m *Model) Margins(ctx context.Context, x *churn.Matrix) ([]float64, error) {
	if err := m.prepare(); err != nil {
		return nil, err
	}
	if err := m.checkFeatures(x); err != nil {
		return nil, err
	}
	if m.Algorithm == AlgoLogistic {
		return m.Logistic.Margins(x)
	}
	out := make([]float64, x.Rows())
	err := ByChunks(ctx, x, nil, func(d *xgboost.DMatrix, lo int) error {
		z, err := m.booster.PredictMargin(d)
		if err != nil {
			return err
		}
		for i, v := range z {
			out[lo+i] = float64(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Predict returns the calibrated churn probability of every row (see
// Margins for ctx).
func (m *Model) Predict(ctx context.Context, x *churn.Matrix) ([]float64, error) {
	z, err := m.Margins(ctx, x)
	if err != nil {
		return nil, err
	}
	for i, v := range z {
		z[i] = m.calibrate(Sigmoid(v))
	}
	return z, nil
}

func (m *Model) calibrate(p float64) float64 {
	if m.cal == nil {
		return p
	}
	return m.cal.Calibrate(p)
}

// Contributions returns each feature's contribution to every row's log-odds,
// row-major with one value per feature: for XGBoost exact TreeSHAP values, or
// with exact false Saabas' path attribution (which ranks features much the
// same at a small fraction of the cost: what batch scoring uses for reason
// codes); for the logistic model, coefficient x standardised value either
// way. The bias is left out.
//
// Saabas contributions are walked in Go over the booster's trees
// (xgboost.Forest, copied once per model): they cost rows x trees x depth
// on every core and read x's columns in place, where XGBoost 1.7's own
// ContribsApprox costs rows x trees x features after copying x into a
// DMatrix: 6-7 times the time and CPU (xgboost's BenchmarkSaabasGoVsXGBoost),
// 42.3 s for 801,907 customers where the Go walk took 6.1 s. They equal
// XGBoost's up to float32 rounding. A model the Go walk cannot reproduce
// (DART, categorical splits) falls back to XGBoost's ContribsApprox.
//
// The work stops with ctx's error once ctx ends.
func (m *Model) Contributions(ctx context.Context, x *churn.Matrix, exact bool) ([]float32, error) {
	if err := m.prepare(); err != nil {
		return nil, err
	}
	if err := m.checkFeatures(x); err != nil {
		return nil, err
	}
	nf := len(m.Features)
	out := make([]float32, x.Rows()*nf)
	if m.Algorithm == AlgoLogistic {
		row := make([]float64, nf)
		for i := range x.Rows() {
			m.Logistic.Contributions(x, i, row)
			for j, v := range row {
				out[i*nf+j] = float32(v)
			}
		}
		return out, nil
	}
	if !exact {
		f, err := m.booster.Forest()
		if err == nil {
			return f.Contribs(ctx, x.Cols)
		}
		if !errors.Is(err, xgboost.ErrForestUnsupported) {
			return nil, err
		}
	}
	contribs := m.booster.ContribsApprox
	if exact {
		contribs = m.booster.Contribs
	}
	err := ByChunks(ctx, x, nil, func(d *xgboost.DMatrix, lo int) error {
		c, err := contribs(d)
		if err != nil {
			return err
		}
		for i := range d.Rows() {
			copy(out[(lo+i)*nf:(lo+i+1)*nf], c[i*(nf+1):i*(nf+1)+nf])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deciles returns the 10%, 20%, ..., 90% quantiles of v.
func deciles(v []float64) []float64 {
	s := append([]float64(nil), v...)
	slices.Sort(s)
	out := make([]float64, 9)
	for k := 1; k <= 9; k++ {
		out[k-1] = s[min(len(s)-1, int(math.Floor(float64(k)*float64(len(s))/10)))]
	}
	return out
}
