package model

import (
	"context"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/telcoretain/churn"
)

// weightedFit is a fit sample of 30,000 rows of one snapshot whose
// non-churners carry two sampling weights (as rows of two snapshots sampled
// at different rates do) and churners weight 1.
func weightedFit() (*churn.Matrix, []float32) {
	m := rareSnapshot(30000, month(0), 41)
	w := make([]float32, m.Rows())
	for i, l := range m.Labels {
		switch {
		case l == 1:
			w[i] = 1
		case i%2 == 0:
			w[i] = 4
		default:
			w[i] = 9
		}
	}
	return m, w
}

// classWeights sums the weights of each class (0 non-churners, 1 churners).
func classWeights(labels, weights []float32) (n, w [2]float64) {
	for i, l := range labels {
		n[int(l)]++
		w[int(l)] += float64(weights[i])
	}
	return n, w
}

func TestSubSampleKeepsEveryChurnerAndAtMostTheCapsRows(t *testing.T) {
	m, w := weightedFit()
	const maxRows = 5000
	sub, sw, err := SubSample(m, w, maxRows, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Rows() != maxRows || len(sw) != sub.Rows() {
		t.Fatalf("%d rows and %d weights, want %d of each", sub.Rows(), len(sw), maxRows)
	}
	pos, _ := byClass(m)
	subPos, _ := byClass(sub)
	if len(pos) == 0 || len(pos) > maxRows/2 {
		t.Fatalf("the test wants churners within half the cap, has %d", len(pos))
	}
	if !slices.Equal(subPos, pos) {
		t.Fatalf("sub-sample keeps %d of the %d churners", len(subPos), len(pos))
	}
	// Rows keep their order and their features.
	at := map[string]int{}
	for i, id := range m.IDs {
		at[id] = i
	}
	last := -1
	for i, id := range sub.IDs {
		r, ok := at[id]
		if !ok || r <= last {
			t.Fatalf("row %d (%s) is not a row of the fit sample in its order", i, id)
		}
		for j := range m.Cols {
			if sub.Cols[j][i] != m.Cols[j][r] {
				t.Fatalf("row %s feature %s = %v, fit sample has %v", id, m.Features[j], sub.Cols[j][i], m.Cols[j][r])
			}
		}
		last = r
	}
}

func TestSubSampleIsDeterministicForASeed(t *testing.T) {
	m, w := weightedFit()
	a, aw, err := SubSample(m, w, 4000, 11)
	if err != nil {
		t.Fatal(err)
	}
	b, bw, err := SubSample(m, w, 4000, 11)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.IDs, b.IDs) || !slices.Equal(aw, bw) {
		t.Fatal("the same seed drew different sub-samples")
	}
	c, _, err := SubSample(m, w, 4000, 12)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.IDs, c.IDs) {
		t.Fatal("seeds 11 and 12 drew the same sub-sample")
	}
}

func TestSubSampleWeightsReproduceTheFitSamplesPopulation(t *testing.T) {
	m, w := weightedFit()
	sub, sw, err := SubSample(m, w, 4000, 5)
	if err != nil {
		t.Fatal(err)
	}
	_, full := classWeights(m.Labels, w)
	n, got := classWeights(sub.Labels, sw)
	for c := range got {
		if math.Abs(got[c]-full[c]) > 1e-6*full[c] {
			t.Errorf("class %d weighs %.1f in the sub-sample, %.1f in the fit sample", c, got[c], full[c])
		}
	}
	// The prior correction of a model fitted on the sub-sample: its
	// unweighted log-odds of churn plus PriorOffset must be the population's
	// (the fit sample's weighted) log-odds, as on the fit sample itself.
	logit := func(p float64) float64 { return math.Log(p / (1 - p)) }
	population := logit(full[1] / (full[0] + full[1]))
	corrected := logit(n[1]/(n[0]+n[1])) + PriorOffset(sub.Labels, sw)
	if math.Abs(corrected-population) > 1e-6 {
		t.Fatalf("sub-sample log-odds after the prior correction %.6f, population's %.6f", corrected, population)
	}
	fn, _ := classWeights(m.Labels, w)
	if onFit := logit(fn[1]/(fn[0]+fn[1])) + PriorOffset(m.Labels, w); math.Abs(onFit-population) > 1e-6 {
		t.Fatalf("fit sample log-odds after the prior correction %.6f, population's %.6f", onFit, population)
	}
}

func TestSubSampleSamplesChurnersTooWhenTheyFillHalfTheCap(t *testing.T) {
	m, w := weightedFit()
	pos, _ := byClass(m)
	maxRows := len(pos) // churners would fill all of it
	sub, sw, err := SubSample(m, w, maxRows, 1)
	if err != nil {
		t.Fatal(err)
	}
	subPos, subNeg := byClass(sub)
	if len(subPos) != maxRows/2 || len(subNeg) != maxRows-maxRows/2 {
		t.Fatalf("%d churners and %d non-churners, want %d and %d", len(subPos), len(subNeg), maxRows/2, maxRows-maxRows/2)
	}
	_, full := classWeights(m.Labels, w)
	if _, got := classWeights(sub.Labels, sw); math.Abs(got[1]-full[1]) > 1e-6*full[1] {
		t.Fatalf("sampled churners weigh %.1f, all churners %.1f", got[1], full[1])
	}
}

func TestSubSampleReturnsAFitSampleWithinTheCapAsItIs(t *testing.T) {
	m, w := weightedFit()
	sub, sw, err := SubSample(m, w, m.Rows(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if sub != m || &sw[0] != &w[0] {
		t.Fatal("a fit sample within the cap was copied")
	}
	if _, _, err := SubSample(m, w, 1, 1); err == nil {
		t.Fatal("a cap of 1 row was accepted")
	}
	if _, _, err := SubSample(m, w[1:], 100, 1); err == nil {
		t.Fatal("one weight short was accepted")
	}
}

func TestLogisticCandidatesFitOnTheSubSampleAndPredictThePopulationsRate(t *testing.T) {
	const maxLogistic = 3000
	all := Candidates(2)
	cands := all[1:4] // two logistic regressions sharing a sub-sample, and boosted trees
	fitSnaps := []*churn.Matrix{rareSnapshot(15000, month(0), 51), rareSnapshot(15000, month(1), 52)}
	s := sampleOf(t, 12000, 5, fitSnaps...)
	d := OutOfTime{Fit: s.Matrix(), FitWeights: s.Weights(), MaxLogisticRows: maxLogistic,
		Valid: rareSnapshot(12000, month(2), 53), Holdout: rareSnapshot(12000, month(3), 54),
		Cats: map[string][]string{"plan": {"basic", "standard", "unlimited"}}}
	trained, err := TrainOutOfTime(context.Background(), d, Options{Candidates: cands, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trained {
		want := s.Matrix().Rows()
		if tr.Model.Algorithm == AlgoLogistic {
			want = maxLogistic
		}
		if tr.FitRows != want || tr.Model.Params["fit_rows"] != strconv.Itoa(want) {
			t.Errorf("%s fit on %d rows (params %q), want %d", tr.Name, tr.FitRows, tr.Model.Params["fit_rows"], want)
		}
	}

	// Uncalibrated, a logistic regression fitted on the sub-sample predicts
	// the churn rate of the population the fit sample stands for.
	population := concat(t, fitSnaps...)
	pos, _ := byClass(population)
	rate := float64(len(pos)) / float64(population.Rows())
	sub, sw, err := SubSample(s.Matrix(), s.Weights(), maxLogistic, 1)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fit(context.Background(), cands[0], sub, sw, nil, d.Cats, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := meanProb(t, f, population); math.Abs(got-rate) > 0.15*rate {
		t.Fatalf("mean probability %.4f of the sub-sample's fit, population churn rate %.4f", got, rate)
	}
}
