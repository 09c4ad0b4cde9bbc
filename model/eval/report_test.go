package eval

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/telcoretain/churn"
)

func TestEvaluateAgreesWithTheSingleMetrics(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := 2000
	probs, labels := make([]float64, n), make([]float64, n)
	for i := range probs {
		probs[i] = rng.Float64() * 0.5
		if rng.Float64() < probs[i] {
			labels[i] = 1
		}
	}
	r, err := Evaluate(probs, labels, Options{})
	if err != nil {
		t.Fatal(err)
	}
	auc, _ := AUC(probs, labels)
	ap, _ := AveragePrecision(probs, labels)
	ll, _ := LogLoss(probs, labels)
	br, _ := Brier(probs, labels)
	top, _ := TopFraction(probs, labels, 0.1)
	cal, _ := Calibration(probs, labels, 10, EqualWidth)
	f1, _ := MaxF1(probs, labels)
	if r.AUC != auc || r.PRAUC != ap || r.LogLoss != ll || r.Brier != br || r.Top != top ||
		r.Calibration.ECE != cal.ECE || len(r.Calibration.Bins) != 10 || r.Operating != f1 {
		t.Errorf("Evaluate disagrees with the single metrics:\n%+v", r)
	}
	if r.Rows != n || r.BaseRate != float64(r.Positives)/float64(n) {
		t.Errorf("rows %d positives %d base rate %v", r.Rows, r.Positives, r.BaseRate)
	}

	th := 0.3
	fixed, err := Evaluate(probs, labels, Options{Threshold: &th, TopFraction: 0.2, Bins: 5, Binning: EqualFrequency})
	if err != nil {
		t.Fatal(err)
	}
	at, _ := ConfusionAt(probs, labels, th)
	if fixed.Operating != at || fixed.Top.Rows != 400 || len(fixed.Calibration.Bins) != 5 || fixed.Calibration.Binning != EqualFrequency {
		t.Errorf("options not applied: operating %+v top rows %d bins %d", fixed.Operating, fixed.Top.Rows, len(fixed.Calibration.Bins))
	}
}

func TestReportSurvivesJSONAndFillsModelMetrics(t *testing.T) {
	r, err := Evaluate([]float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err) // an empty bin must not hold NaN, which JSON cannot carry
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.AUC != 0.75 || back.Top != r.Top || back.Operating != r.Operating || len(back.Calibration.Bins) != 10 {
		t.Errorf("round trip changed the report: %s", data)
	}
	m := r.Metrics()
	if m["roc_auc"] != 0.75 || m["pr_auc"] != r.PRAUC || m["top_lift"] != r.Top.Lift || m["ece"] != r.Calibration.ECE {
		t.Errorf("Metrics() = %v", m)
	}
}

func TestEvaluateRejectsOneClassAndNonProbabilities(t *testing.T) {
	tests := []struct {
		name          string
		probs, labels []float64
		opts          Options
		field         string
	}{
		{"one class", []float64{0.1, 0.2}, []float64{0, 0}, Options{}, "labels"},
		{"not a probability", []float64{0.1, 2}, []float64{0, 1}, Options{}, "scores"},
		{"bad fraction", []float64{0.1, 0.2}, []float64{0, 1}, Options{TopFraction: 2}, "fraction"},
		{"bad binning", []float64{0.1, 0.2}, []float64{0, 1}, Options{Binning: "deciles"}, "binning"},
	}
	for _, tt := range tests {
		if _, err := Evaluate(tt.probs, tt.labels, tt.opts); churn.ErrorField(err) != tt.field {
			t.Errorf("%s: err %v, want a %s error", tt.name, err, tt.field)
		}
	}
}

func BenchmarkEvaluateMillionRows(b *testing.B) {
	const n = 1_000_000
	probs, labels := benchRows(n, 9)
	for b.Loop() {
		if _, err := Evaluate(probs, labels, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
