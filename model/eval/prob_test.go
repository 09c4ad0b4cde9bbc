package eval

import "testing"

func TestLogLossClipsCertainMistakes(t *testing.T) {
	tests := []struct {
		name          string
		probs, labels []float64
		want          float64
	}{
		// -(ln 0.8 + ln 0.6) / 2
		{"plain", []float64{0.8, 0.4}, []float64{1, 0}, 0.36698458754010022},
		// A churner given 0 costs -ln(1e-15); a retained customer given 0 costs ~0.
		{"clipped", []float64{0, 0}, []float64{1, 0}, 34.538776394910684 / 2},
		{"certain and right", []float64{1, 0}, []float64{1, 0}, 1e-15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LogLoss(tt.probs, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want, 1e-12) {
				t.Errorf("LogLoss = %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestBrierHandCases(t *testing.T) {
	tests := []struct {
		name          string
		probs, labels []float64
		want          float64
	}{
		{"perfect", []float64{1, 0}, []float64{1, 0}, 0},
		{"constant half", []float64{0.5, 0.5, 0.5}, []float64{1, 0, 0}, 0.25},
		// (0.2^2 + 0.4^2 + 1^2) / 3
		{"mixed", []float64{0.8, 0.4, 0}, []float64{1, 0, 1}, (0.04 + 0.16 + 1) / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Brier(tt.probs, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want, 1e-12) {
				t.Errorf("Brier = %v, want %v", got, tt.want)
			}
		})
	}
}
