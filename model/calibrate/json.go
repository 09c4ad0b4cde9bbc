package calibrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/telcoretain/churn"
)

// document is the JSON form of a Calibrator: the method and its parameters,
// e.g. {"method":"platt","platt":{"slope":1.2,"intercept":-0.3}}.
type document struct {
	Method   Method    `json:"method"`
	Platt    *Platt    `json:"platt,omitempty"`
	Isotonic *Isotonic `json:"isotonic,omitempty"`
}

// Marshal encodes a Platt or Isotonic calibrator as JSON. Floats are written
// in their shortest exact form, so Unmarshal gives back identical predictions.
func Marshal(c Calibrator) ([]byte, error) {
	var d document
	switch c := c.(type) {
	case *Platt:
		d = document{Method: MethodPlatt, Platt: c}
	case *Isotonic:
		d = document{Method: MethodIsotonic, Isotonic: c}
	default:
		return nil, churn.Errorf(churn.KindInternal, "marshal calibrator", "cannot save a %T", c)
	}
	if err := validate(d); err != nil {
		return nil, err
	}
	return json.Marshal(d)
}

// Unmarshal decodes a calibrator written by Marshal and checks it, so a
// damaged model file fails on load rather than producing wrong probabilities.
func Unmarshal(data []byte) (Calibrator, error) {
	const op = "load calibrator"
	var d document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, &churn.Error{Op: op, Kind: churn.KindInvalid, Msg: "not a calibrator document", Err: err}
	}
	if err := validate(d); err != nil {
		return nil, err
	}
	if d.Method == MethodPlatt {
		return d.Platt, nil
	}
	return d.Isotonic, nil
}

// validate checks that a document describes one usable calibrator.
func validate(d document) error {
	const op = "calibrator"
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch d.Method {
	case MethodPlatt:
		if d.Platt == nil || d.Isotonic != nil {
			return churn.Invalid(op, "platt", "method platt needs exactly its own parameters")
		}
		if !finite(d.Platt.Slope) || !finite(d.Platt.Intercept) {
			return churn.Invalid(op, "platt", "slope %g and intercept %g must be finite", d.Platt.Slope, d.Platt.Intercept)
		}
	case MethodIsotonic:
		c := d.Isotonic
		if c == nil || d.Platt != nil {
			return churn.Invalid(op, "isotonic", "method isotonic needs exactly its own parameters")
		}
		if len(c.X) == 0 || len(c.X) != len(c.Y) {
			return churn.Invalid(op, "isotonic", "%d knot scores and %d values, want the same number and at least one", len(c.X), len(c.Y))
		}
		if !(c.Eps >= 0 && c.Eps < 0.5) {
			return churn.Invalid(op, "isotonic.eps", "%g is not in [0, 0.5)", c.Eps)
		}
		for i := range c.X {
			if !finite(c.X[i]) || !(c.Y[i] >= 0 && c.Y[i] <= 1) {
				return churn.Invalid(op, "isotonic", "knot %d (%g, %g) is not a finite score with a probability", i, c.X[i], c.Y[i])
			}
			if i > 0 && (c.X[i] <= c.X[i-1] || c.Y[i] < c.Y[i-1]) {
				return churn.Invalid(op, "isotonic", "knot %d breaks the order: scores must increase and values must not decrease", i)
			}
		}
	default:
		return churn.Invalid(op, "method", "%q, want %q or %q", d.Method, MethodPlatt, MethodIsotonic)
	}
	return nil
}

// Saved carries a Calibrator inside a struct encoded as JSON, such as a model
// file: a field of type Saved encodes as Marshal's document, or null for an
// uncalibrated model, and decodes with Unmarshal's checks.
type Saved struct {
	Calibrator Calibrator
}

// Calibrate applies the saved calibrator, or returns p unchanged when none is
// saved.
func (s Saved) Calibrate(p float64) float64 {
	if s.Calibrator == nil {
		return p
	}
	return s.Calibrator.Calibrate(p)
}

// MarshalJSON implements json.Marshaler.
func (s Saved) MarshalJSON() ([]byte, error) {
	if s.Calibrator == nil {
		return []byte("null"), nil
	}
	return Marshal(s.Calibrator)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Saved) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		s.Calibrator = nil
		return nil
	}
	c, err := Unmarshal(data)
	if err != nil {
		return err
	}
	s.Calibrator = c
	return nil
}

// String names the method for logs, e.g. "platt(slope=1.2, intercept=-0.3)".
func (s Saved) String() string {
	switch c := s.Calibrator.(type) {
	case nil:
		return "none"
	case *Platt:
		return fmt.Sprintf("platt(slope=%.4g, intercept=%.4g)", c.Slope, c.Intercept)
	case *Isotonic:
		return fmt.Sprintf("isotonic(%d knots)", len(c.X))
	default:
		return fmt.Sprintf("%T", c)
	}
}
