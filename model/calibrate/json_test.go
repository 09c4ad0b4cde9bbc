package calibrate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestJSONRoundTripGivesIdenticalPredictions(t *testing.T) {
	scores, labels := draw(5, 5000, func(s float64) float64 { return s * s })
	platt, err := FitPlatt(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	iso, err := FitIsotonic(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Calibrator{platt, iso} {
		data, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("Unmarshal(%s): %v", data[:min(len(data), 80)], err)
		}
		for p := 0.0; p <= 1; p += 0.0007 {
			if a, b := c.Calibrate(p), back.Calibrate(p); a != b {
				t.Fatalf("%T: Calibrate(%v) = %v before and %v after the round trip", c, p, a, b)
			}
		}
	}
}

func TestSavedEmbedsInAModelFile(t *testing.T) {
	type modelFile struct {
		Algorithm   string `json:"algorithm"`
		Calibration Saved  `json:"calibration"`
	}
	in := modelFile{Algorithm: "xgboost", Calibration: Saved{&Platt{Slope: 1.5, Intercept: -0.25}}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"algorithm":"xgboost","calibration":{"method":"platt","platt":{"slope":1.5,"intercept":-0.25}}}`
	if string(data) != want {
		t.Errorf("encoded %s, want %s", data, want)
	}
	var out modelFile
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Calibration.Calibrate(0.3) != in.Calibration.Calibrate(0.3) || out.Calibration.String() != "platt(slope=1.5, intercept=-0.25)" {
		t.Errorf("decoded %v", out.Calibration)
	}

	// A model without calibration saves null and passes scores through.
	data, _ = json.Marshal(modelFile{Algorithm: "logistic"})
	if !strings.Contains(string(data), `"calibration":null`) {
		t.Errorf("uncalibrated model encoded as %s", data)
	}
	out = modelFile{}
	if err := json.Unmarshal(data, &out); err != nil || out.Calibration.Calibrator != nil || out.Calibration.Calibrate(0.37) != 0.37 {
		t.Errorf("uncalibrated model decoded as %v, err %v", out.Calibration, err)
	}
}

func TestUnmarshalRejectsDamagedDocuments(t *testing.T) {
	tests := []struct {
		name, doc, field string
	}{
		{"unknown method", `{"method":"beta","platt":{"slope":1,"intercept":0}}`, "method"},
		{"missing parameters", `{"method":"platt"}`, "platt"},
		{"both parameter sets", `{"method":"platt","platt":{"slope":1,"intercept":0},"isotonic":{"x":[0.5],"y":[0.5],"eps":0}}`, "platt"},
		{"lengths differ", `{"method":"isotonic","isotonic":{"x":[0.1,0.2],"y":[0.5],"eps":0}}`, "isotonic"},
		{"no knots", `{"method":"isotonic","isotonic":{"x":[],"y":[],"eps":0}}`, "isotonic"},
		{"decreasing values", `{"method":"isotonic","isotonic":{"x":[0.1,0.2],"y":[0.6,0.5],"eps":0}}`, "isotonic"},
		{"repeated score", `{"method":"isotonic","isotonic":{"x":[0.1,0.1],"y":[0.5,0.6],"eps":0}}`, "isotonic"},
		{"value above 1", `{"method":"isotonic","isotonic":{"x":[0.1],"y":[1.5],"eps":0}}`, "isotonic"},
		{"eps too large", `{"method":"isotonic","isotonic":{"x":[0.1],"y":[0.5],"eps":0.7}}`, "isotonic.eps"},
	}
	for _, tt := range tests {
		_, err := Unmarshal([]byte(tt.doc))
		if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != tt.field {
			t.Errorf("%s: err %v, want an invalid %s error", tt.name, err, tt.field)
		}
	}
	if _, err := Unmarshal([]byte(`{"method":"platt","platt":{"slope":1,"intercept":0},"extra":1}`)); churn.ErrorKind(err) != churn.KindInvalid {
		t.Errorf("unknown field: err %v, want invalid", err)
	}
}
