package uplift

import (
	"encoding/json"
	"fmt"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/xgboost"
)

// FormatVersion is the version of the uplift model file this build writes
// and reads.
const FormatVersion = 1

// Algorithm names the learner in the model registry.
const Algorithm = "two_model"

// Holdout is the out-of-time evaluation of an uplift model on the latest
// labelled cycle: the Qini curves and coefficients of the ranking by uplift
// and of the ranking by churn probability (what risk targeting does) of
// the same customers.
type Holdout struct {
	Cycle     string  `json:"cycle"`
	Treated   int     `json:"treated"`
	Control   int     `json:"control"`
	Qini      float64 `json:"qini"`
	QiniRisk  float64 `json:"qini_risk"`
	Curve     []Point `json:"curve"`
	RiskCurve []Point `json:"risk_curve"`
}

// file is the model file: self-describing like the churn model's, the
// boosters as XGBoost's binary JSON.
type file struct {
	Format   int             `json:"format"`
	Kind     churn.ModelKind `json:"kind"`
	Features []churn.Feature `json:"features"`
	Treated  []byte          `json:"treated"`
	Control  []byte          `json:"control,omitempty"`
	Shift    float64         `json:"shift"`
	Holdout  *Holdout        `json:"holdout,omitempty"`
}

// Marshal writes the model file. Defs must describe Features.
func (t *TwoModel) Marshal() ([]byte, error) {
	const op = "save uplift model"
	if len(t.Defs) != len(t.Features) {
		return nil, fmt.Errorf("%s: %d feature definitions for %d features", op, len(t.Defs), len(t.Features))
	}
	f := file{Format: FormatVersion, Kind: churn.ModelUplift, Features: t.Defs, Shift: t.shift, Holdout: t.Holdout}
	var err error
	if f.Treated, err = t.treated.Save("ubj"); err != nil {
		return nil, fmt.Errorf("%s: treated: %w", op, err)
	}
	if t.control != nil {
		if f.Control, err = t.control.Save("ubj"); err != nil {
			return nil, fmt.Errorf("%s: control: %w", op, err)
		}
	}
	return json.Marshal(f)
}

// Unmarshal reads a model file written by Marshal. Close the model after use.
func Unmarshal(data []byte) (*TwoModel, error) {
	const op = "load uplift model file"
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, churn.Invalid(op, "file", "not an uplift model file: %v", err)
	}
	if f.Kind != churn.ModelUplift {
		return nil, churn.Invalid(op, "kind", "%q: not an uplift model", f.Kind)
	}
	if f.Format != FormatVersion {
		return nil, churn.Invalid(op, "format", "uplift model file format %d, this build reads %d", f.Format, FormatVersion)
	}
	t := &TwoModel{Defs: f.Features, Holdout: f.Holdout, shift: f.Shift}
	for _, d := range f.Features {
		t.Features = append(t.Features, d.Name)
	}
	var err error
	if t.treated, err = xgboost.Load(f.Treated, 0); err != nil {
		return nil, fmt.Errorf("%s: treated: %w", op, err)
	}
	if len(f.Control) > 0 {
		if t.control, err = xgboost.Load(f.Control, 0); err != nil {
			t.Close()
			return nil, fmt.Errorf("%s: control: %w", op, err)
		}
	}
	return t, nil
}

// ReadHoldout returns the holdout evaluation kept in a model file, without
// loading its boosters; nil when the file has none.
func ReadHoldout(data []byte) (*Holdout, error) {
	var f struct {
		Kind    churn.ModelKind `json:"kind"`
		Holdout *Holdout        `json:"holdout"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Kind != churn.ModelUplift {
		return nil, churn.Invalid("read uplift model file", "file", "not an uplift model file")
	}
	return f.Holdout, nil
}
