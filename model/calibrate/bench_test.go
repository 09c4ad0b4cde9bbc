package calibrate

import "testing"

func benchmarkFit(b *testing.B, fit func(s, l []float64) (Calibrator, error)) {
	const n = 1_000_000
	scores, labels := draw(11, n, func(s float64) float64 { return s * s })
	for b.Loop() {
		if _, err := fit(scores, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkFitPlattMillionRows(b *testing.B) {
	benchmarkFit(b, func(s, l []float64) (Calibrator, error) { return FitPlatt(s, l) })
}

func BenchmarkFitIsotonicMillionRows(b *testing.B) {
	benchmarkFit(b, func(s, l []float64) (Calibrator, error) { return FitIsotonic(s, l) })
}
