package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telcoretain/churn"
)

// Expected values marked "sklearn" were produced once with scikit-learn 1.2.1
// (Debian python3-sklearn) by this script and are kept here as numbers:
//
//	from sklearn.metrics import average_precision_score as ap, roc_auc_score as auc, log_loss, brier_score_loss as brier
//	cases = {
//	 "mixed": ([0.1,0.4,0.35,0.8],[0,0,1,1]),
//	 "ties": ([0.9,0.9,0.7,0.7,0.7,0.2,0.2,0.1],[1,0,1,1,0,0,1,0]),
//	 "tiedtop": ([0.5,0.5,0.5,0.3,0.3,0.1],[0,1,0,1,0,0]),
//	 "dup12": ([0.05,0.1,0.15,0.2,0.2,0.3,0.45,0.45,0.6,0.6,0.6,0.9],[0,0,1,0,1,0,0,1,1,0,1,1]),
//	}
//	for k,(s,y) in cases.items():
//	    print(k, repr(ap(y,s)), repr(auc(y,s)), repr(log_loss(y,s)), repr(brier(y,s)))
//
// Output:
//
//	mixed 0.8333333333333333 0.75 0.47228795380917615 0.15812500000000002
//	ties 0.5678571428571428 0.625 0.7829012850326762 0.2725
//	tiedtop 0.3666666666666667 0.5625 0.6242416342670551 0.22333333333333336
//	dup12 0.7203703703703703 0.7222222222222222 0.6402231162213046 0.225
var sklearnCases = []struct {
	name                    string
	scores, labels          []float64
	ap, auc, logLoss, brier float64
}{
	{"mixed", []float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1},
		0.8333333333333333, 0.75, 0.47228795380917615, 0.15812500000000002},
	{"ties", []float64{0.9, 0.9, 0.7, 0.7, 0.7, 0.2, 0.2, 0.1}, []float64{1, 0, 1, 1, 0, 0, 1, 0},
		0.5678571428571428, 0.625, 0.7829012850326762, 0.2725},
	{"tiedtop", []float64{0.5, 0.5, 0.5, 0.3, 0.3, 0.1}, []float64{0, 1, 0, 1, 0, 0},
		0.3666666666666667, 0.5625, 0.6242416342670551, 0.22333333333333336},
	{"dup12", []float64{0.05, 0.1, 0.15, 0.2, 0.2, 0.3, 0.45, 0.45, 0.6, 0.6, 0.6, 0.9}, []float64{0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1},
		0.7203703703703703, 0.7222222222222222, 0.6402231162213046, 0.225},
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAUCCountsTiesAsHalf(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float64
		want           float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []float64{0, 0, 1, 1}, 1},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []float64{0, 0, 1, 1}, 0},
		// Pairs (pos, neg): (0.35,0.1) win, (0.35,0.4) loss, (0.8,*) two wins: 3/4.
		{"one inversion", []float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}, 0.75},
		{"all tied", []float64{0.3, 0.3, 0.3, 0.3, 0.3}, []float64{0, 1, 0, 1, 0}, 0.5},
		// 2 positives x 2 negatives; pos 0.5 ties neg 0.5 (1/2) and beats
		// neg 0.2 (1); pos 0.2 ties neg 0.2 (1/2) and loses to 0.5: 2/4.
		{"ties across classes", []float64{0.5, 0.5, 0.2, 0.2}, []float64{1, 0, 1, 0}, 0.5},
		// Negatives 0.9 (0 above + 1/2 tied), 0.7 (1 + 2/2), 0.2 (3 + 1/2), 0.1 (4): 10/16.
		{"grouped ties", []float64{0.9, 0.9, 0.7, 0.7, 0.7, 0.2, 0.2, 0.1}, []float64{1, 0, 1, 1, 0, 0, 1, 0}, 0.625},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AUC(tt.scores, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want, 1e-12) {
				t.Errorf("AUC = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAUCMatchesPairCountOnRandomScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300
	scores, labels := make([]float64, n), make([]float64, n)
	for i := range scores {
		// Rounded to 1 decimal so many ties occur.
		scores[i] = math.Round(rng.Float64()*10) / 10
		if rng.Float64() < scores[i] {
			labels[i] = 1
		}
	}
	var wins, pairs float64
	for i := range scores {
		for j := range scores {
			if labels[i] != 1 || labels[j] != 0 {
				continue
			}
			pairs++
			switch {
			case scores[i] > scores[j]:
				wins++
			case scores[i] == scores[j]:
				wins += 0.5
			}
		}
	}
	got, err := AUC(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, wins/pairs, 1e-12) {
		t.Errorf("AUC = %v, brute-force pair count gives %v", got, wins/pairs)
	}
}

func TestAveragePrecisionHandCases(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float64
		want           float64
	}{
		{"perfect", []float64{0.9, 0.8, 0.1}, []float64{1, 1, 0}, 1},
		// Positives at ranks 1 and 3: (1/2)(1/1) + (1/2)(2/3) = 5/6.
		{"one inversion", []float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}, 5.0 / 6},
		// One tie group of 4 with 2 positives: recall 0 -> 1 at precision 1/2.
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []float64{1, 0, 0, 1}, 0.5},
		// Groups 0.9 {1,0}: +1/4 x 1/2; 0.7 {1,1,0}: +2/4 x 3/5; 0.2 {0,1}: +1/4 x 4/7.
		{"grouped ties", []float64{0.9, 0.9, 0.7, 0.7, 0.7, 0.2, 0.2, 0.1}, []float64{1, 0, 1, 1, 0, 0, 1, 0},
			0.25*0.5 + 0.5*0.6 + 0.25*4.0/7},
		{"no negatives", []float64{0.3, 0.2}, []float64{1, 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AveragePrecision(tt.scores, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want, 1e-12) {
				t.Errorf("AveragePrecision = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRankingAndProbabilityMetricsMatchScikitLearn(t *testing.T) {
	for _, tt := range sklearnCases {
		t.Run(tt.name, func(t *testing.T) {
			check := func(name string, f func(s, l []float64) (float64, error), want float64) {
				got, err := f(tt.scores, tt.labels)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !near(got, want, 1e-12) {
					t.Errorf("%s = %.17g, sklearn gives %.17g", name, got, want)
				}
			}
			check("AveragePrecision", AveragePrecision, tt.ap)
			check("AUC", AUC, tt.auc)
			check("LogLoss", LogLoss, tt.logLoss)
			check("Brier", Brier, tt.brier)
		})
	}
}

func TestMetricsRejectBadInput(t *testing.T) {
	type metric func(s, l []float64) (float64, error)
	metrics := map[string]metric{"AUC": AUC, "AveragePrecision": AveragePrecision, "LogLoss": LogLoss, "Brier": Brier}
	tests := []struct {
		name           string
		scores, labels []float64
		field          string
		only           []string // metrics that reject; all when nil
	}{
		{"mismatched lengths", []float64{0.1, 0.2}, []float64{1}, "labels", nil},
		{"empty", nil, nil, "scores", nil},
		{"NaN score", []float64{0.1, math.NaN()}, []float64{0, 1}, "scores", nil},
		{"label 2", []float64{0.1, 0.2}, []float64{0, 2}, "labels", nil},
		{"NaN label", []float64{0.1, 0.2}, []float64{0, math.NaN()}, "labels", nil},
		{"only negatives", []float64{0.1, 0.2}, []float64{0, 0}, "labels", []string{"AUC", "AveragePrecision"}},
		{"only positives", []float64{0.1, 0.2}, []float64{1, 1}, "labels", []string{"AUC"}},
		{"score above 1", []float64{0.1, 1.5}, []float64{0, 1}, "scores", []string{"LogLoss", "Brier"}},
	}
	for _, tt := range tests {
		for name, f := range metrics {
			rejects := tt.only == nil
			for _, o := range tt.only {
				rejects = rejects || o == name
			}
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				_, err := f(tt.scores, tt.labels)
				if !rejects {
					if err != nil {
						t.Errorf("unexpected error: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatal("no error")
				}
				if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) != tt.field {
					t.Errorf("error %q: kind %v field %q, want invalid %q", err, churn.ErrorKind(err), churn.ErrorField(err), tt.field)
				}
			})
		}
	}
}

func TestFloat64sKeepsNaNSoUnknownLabelsAreRejected(t *testing.T) {
	got := Float64s([]float32{0, 1, churn.NaN32})
	if got[0] != 0 || got[1] != 1 || !math.IsNaN(got[2]) {
		t.Fatalf("Float64s = %v", got)
	}
	if _, err := AUC([]float64{0.1, 0.2, 0.3}, got); churn.ErrorField(err) != "labels" {
		t.Errorf("AUC with a NaN label: err %v, want a labels error", err)
	}
}

// benchRows are n uniform scores whose positive rate grows with the score,
// for the benchmarks of the metrics.
func benchRows(n int, seed uint64) (scores, labels []float64) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	scores, labels = make([]float64, n), make([]float64, n)
	for i := range scores {
		scores[i] = rng.Float64()
		if rng.Float64() < scores[i]*0.2 {
			labels[i] = 1
		}
	}
	return scores, labels
}

func BenchmarkAUCMillionRows(b *testing.B) {
	const n = 1_000_000
	scores, labels := benchRows(n, 7)
	for b.Loop() {
		if _, err := AUC(scores, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
