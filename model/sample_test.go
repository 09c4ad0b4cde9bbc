package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

// rareSnapshot is a snapshot of n customers as of asOf where about 3.5% churn,
// with the features of synthMatrix: P(churn) = sigmoid(1.5a - 2b + [plan 2] - 6.5).
func rareSnapshot(n int, asOf time.Time, seed uint64) *churn.Matrix {
	r := rand.New(rand.NewPCG(seed, 2))
	m := &churn.Matrix{Features: []string{"a", "b", "plan"}, Cols: make([][]float32, 3), AsOf: asOf}
	for i := range n {
		a, b, plan := r.NormFloat64(), r.NormFloat64(), r.IntN(3)
		z := 1.5*a - 2*b - 6.5
		if plan == 2 {
			z++
		}
		label := float32(0)
		if r.Float64() < Sigmoid(z) {
			label = 1
		}
		m.IDs = append(m.IDs, fmt.Sprintf("c%07d", i))
		m.Cols[0] = append(m.Cols[0], float32(a))
		m.Cols[1] = append(m.Cols[1], float32(b))
		m.Cols[2] = append(m.Cols[2], float32(plan))
		m.Labels = append(m.Labels, label)
	}
	return m
}

func month(k int) time.Time { return time.Date(2025, time.Month(1+k), 1, 0, 0, 0, 0, time.UTC) }

// churners returns the ids of a matrix's churners, and of its non-churners.
func byClass(m *churn.Matrix) (pos, neg []string) {
	for i, l := range m.Labels {
		if l == 1 {
			pos = append(pos, m.IDs[i])
		} else {
			neg = append(neg, m.IDs[i])
		}
	}
	return pos, neg
}

// concat appends snapshots into one matrix: the population a sample of them
// stands for.
func concat(t *testing.T, snaps ...*churn.Matrix) *churn.Matrix {
	t.Helper()
	out := &churn.Matrix{}
	for _, m := range snaps {
		if err := out.Append(m); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func sampleOf(t *testing.T, maxRows int, seed uint64, snaps ...*churn.Matrix) *FitSample {
	t.Helper()
	s, err := NewFitSample(maxRows, len(snaps), seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range snaps {
		if err := s.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestFitSampleKeepsEveryChurnerAndWeightsEachSnapshotBackToItsPopulation(t *testing.T) {
	// Snapshots of different sizes, as when the customer base grows.
	snaps := []*churn.Matrix{rareSnapshot(4000, month(0), 1), rareSnapshot(6000, month(1), 2), rareSnapshot(9000, month(2), 3)}
	const maxRows = 3000
	s := sampleOf(t, maxRows, 7, snaps...)
	got, w := s.Matrix(), s.Weights()
	if got.Rows() > maxRows || len(w) != got.Rows() {
		t.Fatalf("%d rows and %d weights, want one weight per row and at most %d rows", got.Rows(), len(w), maxRows)
	}
	if s.Seen() != 19000 {
		t.Fatalf("Seen() = %d, want 19000", s.Seen())
	}
	// Rows arrive snapshot by snapshot; ids repeat across snapshots, so
	// split the sample at the points where ids restart.
	start := 0
	for k, snap := range snaps {
		end := start + 1
		for end < got.Rows() && got.IDs[end] > got.IDs[end-1] {
			end++
		}
		part := &churn.Matrix{IDs: got.IDs[start:end], Labels: got.Labels[start:end]}
		pos, neg := byClass(snap)
		keptPos, keptNeg := byClass(part)
		if !slices.Equal(keptPos, pos) {
			t.Errorf("snapshot %d: kept %d of %d churners", k, len(keptPos), len(pos))
		}
		if share := maxRows / len(snaps); part.Rows() > share {
			t.Errorf("snapshot %d: %d rows, more than its share %d", k, part.Rows(), share)
		}
		var weighted float64
		for i := start; i < end; i++ {
			if got.Labels[i] == 0 {
				weighted += float64(w[i])
			} else if w[i] != 1 {
				t.Fatalf("snapshot %d: churner %s has weight %v, want 1", k, got.IDs[i], w[i])
			}
		}
		if math.Abs(weighted-float64(len(neg))) > 0.01*float64(len(neg)) || len(keptNeg) == 0 {
			t.Errorf("snapshot %d: %d kept non-churners weigh %.1f, want the population's %d", k, len(keptNeg), weighted, len(neg))
		}
		// The kept rows are the snapshot's own, with their features.
		for i := start; i < end; i++ {
			r, _ := slices.BinarySearch(snap.IDs, got.IDs[i])
			if got.Cols[1][i] != snap.Cols[1][r] {
				t.Fatalf("snapshot %d: row %s has b=%v, the snapshot %v", k, got.IDs[i], got.Cols[1][i], snap.Cols[1][r])
			}
		}
		start = end
	}
	if start != got.Rows() {
		t.Fatalf("found %d snapshot parts covering %d of %d rows", len(snaps), start, got.Rows())
	}
}

func TestFitSampleKeepsASnapshotWithinItsShareWhole(t *testing.T) {
	snap := rareSnapshot(500, month(0), 1)
	s := sampleOf(t, 1000, 1, snap)
	if !slices.Equal(s.Matrix().IDs, snap.IDs) {
		t.Fatalf("kept %d of %d rows under the cap", s.Matrix().Rows(), snap.Rows())
	}
	for i, w := range s.Weights() {
		if w != 1 {
			t.Fatalf("row %d has weight %v, want 1 when nothing was sampled", i, w)
		}
	}
	if off := PriorOffset(s.Matrix().Labels, s.Weights()); off != 0 {
		t.Fatalf("PriorOffset = %v for an unsampled fit, want 0", off)
	}
}

func TestFitSampleIsDeterministicForASeedWhateverTheRowOrder(t *testing.T) {
	snap := rareSnapshot(5000, month(3), 4)
	kept := func(seed uint64, m *churn.Matrix) []string {
		ids := slices.Clone(sampleOf(t, 1000, seed, m).Matrix().IDs)
		slices.Sort(ids)
		return ids
	}
	// The same rows in another order.
	perm := rand.New(rand.NewPCG(9, 9)).Perm(snap.Rows())
	shuffled := Subset(snap, perm)
	shuffled.AsOf = snap.AsOf
	a, b := kept(11, snap), kept(11, shuffled)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed kept other customers when the rows came in another order")
	}
	if c := kept(12, snap); slices.Equal(a, c) {
		t.Fatal("another seed kept the same customers")
	}
}

func TestFitSampleBendsTheCapRatherThanDropChurners(t *testing.T) {
	snap := rareSnapshot(20000, month(0), 5)
	pos, _ := byClass(snap)
	// Churners take three quarters of the cap.
	s := sampleOf(t, len(pos)*4/3, 1, snap)
	keptPos, keptNeg := byClass(s.Matrix())
	if len(keptPos) != len(pos) || len(keptNeg) != len(pos) {
		t.Fatalf("kept %d churners of %d and %d non-churners; want every churner and as many non-churners", len(keptPos), len(pos), len(keptNeg))
	}
}

func TestFitSampleRejectsWhatItCannotSample(t *testing.T) {
	if _, err := NewFitSample(3, 2, 1); churn.ErrorKind(err) != churn.KindInvalid {
		t.Errorf("cap 3 for 2 snapshots: err %v, want invalid", err)
	}
	s, err := NewFitSample(100, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	bad := rareSnapshot(10, month(0), 1)
	bad.Labels[3] = churn.NaN32
	if err := s.Add(bad); churn.ErrorKind(err) != churn.KindInvalid {
		t.Errorf("unknown label: err %v, want invalid", err)
	}
	if err := s.Add(rareSnapshot(10, month(0), 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(rareSnapshot(10, month(1), 1)); err == nil {
		t.Error("a second snapshot in a sample planned for one was accepted")
	}
}

func TestPriorOffsetIsTheLogOfTheNonChurnerSamplingRate(t *testing.T) {
	// 10 churners kept whole, 40 non-churners kept of 200 (rate 0.2).
	var labels, weights []float32
	for i := range 50 {
		if i < 10 {
			labels, weights = append(labels, 1), append(weights, 1)
		} else {
			labels, weights = append(labels, 0), append(weights, 5)
		}
	}
	if got, want := PriorOffset(labels, weights), math.Log(0.2); math.Abs(got-want) > 1e-12 {
		t.Fatalf("PriorOffset = %v, want log(0.2) = %v", got, want)
	}
	if got := PriorOffset(labels, nil); got != 0 {
		t.Fatalf("PriorOffset without weights = %v, want 0", got)
	}
}

// meanProb is the mean uncalibrated probability of a fitted candidate on m.
func meanProb(t *testing.T, f *fitted, m *churn.Matrix) float64 {
	t.Helper()
	p, err := f.probs(m)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, x := range p {
		s += x
	}
	return s / float64(len(p))
}

func TestSampledFitsPredictThePopulationsChurnRate(t *testing.T) {
	snaps := []*churn.Matrix{rareSnapshot(15000, month(0), 21), rareSnapshot(15000, month(1), 22)}
	population := concat(t, snaps...)
	pos, _ := byClass(population)
	rate := float64(len(pos)) / float64(population.Rows())
	// Keep about a fifth of the rows: non-churners at roughly 1 in 6.
	s := sampleOf(t, 6000, 3, snaps...)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	for _, c := range smallCandidates() {
		t.Run(c.Algorithm, func(t *testing.T) {
			if c.Algorithm == AlgoXGBoost {
				c.Rounds = 100
			}
			corrected, err := fit(context.Background(), c, s.Matrix(), s.Weights(), nil, cats, max(c.Rounds, 1))
			if err != nil {
				t.Fatal(err)
			}
			defer corrected.close()
			naive, err := fit(context.Background(), c, s.Matrix(), nil, nil, cats, max(c.Rounds, 1))
			if err != nil {
				t.Fatal(err)
			}
			defer naive.close()
			got, biased := meanProb(t, corrected, population), meanProb(t, naive, population)
			if math.Abs(got-rate) > 0.15*rate {
				t.Errorf("mean probability %.4f after the correction, population churn rate %.4f", got, rate)
			}
			// Without the correction the sample's churn rate shows through:
			// the test would notice a correction that does nothing.
			if biased < 2*rate {
				t.Errorf("uncorrected mean probability %.4f, expected well above the churn rate %.4f", biased, rate)
			}
		})
	}
}

func TestOutOfTimeTrainingOnASampleIsCalibratedOnTheHoldout(t *testing.T) {
	fitSnaps := []*churn.Matrix{rareSnapshot(12000, month(0), 31), rareSnapshot(12000, month(1), 32)}
	s := sampleOf(t, 5000, 5, fitSnaps...)
	valid, hold := rareSnapshot(12000, month(2), 33), rareSnapshot(12000, month(3), 34)
	cats := map[string][]string{"plan": {"basic", "standard", "unlimited"}}
	c := smallCandidates()
	trained, err := TrainOutOfTime(context.Background(), OutOfTime{
		Fit: s.Matrix(), FitWeights: s.Weights(), Valid: valid, Holdout: hold, Cats: cats,
		TrainFrom: month(0), TrainTo: month(2), HoldoutAsOf: month(3),
	}, Options{Candidates: c, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pos, _ := byClass(hold)
	rate := float64(len(pos)) / float64(hold.Rows())
	for _, tr := range trained {
		p, err := tr.Model.Predict(context.Background(), hold)
		if err != nil {
			t.Fatal(err)
		}
		var mean float64
		for _, x := range p {
			mean += x / float64(len(p))
		}
		if math.Abs(mean-rate) > 0.15*rate {
			t.Errorf("%s: mean calibrated probability %.4f on the holdout, churn rate %.4f", tr.Name, mean, rate)
		}
		if tr.Model.Report.AUC < 0.85 {
			t.Errorf("%s: holdout ROC-AUC %.3f on a strong signal", tr.Name, tr.Model.Report.AUC)
		}
	}
}
