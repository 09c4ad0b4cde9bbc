package model

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/model/eval"
)

// DefaultMaxFitRows is the default cap on the rows the learners fit on in a
// training run on the contract tables. A million rows of about fifty float32
// features is some 200 MB in Go and about as much in XGBoost, and with every
// churner kept it holds tens of thousands of them, more than the models need
// to rank well.
const DefaultMaxFitRows = 1_000_000

// FitSample gathers the fit rows of an out-of-time training run from
// snapshots added one at a time, so that memory is bounded by the cap (and
// the one snapshot being added) instead of growing with customers x
// snapshots.
//
// Sampling is stratified by snapshot and by class: each snapshot gets an
// equal share of the cap; within it every churner is kept and the
// non-churners are sampled without replacement down to what is left of the
// share (when churners take more than half of it, as many non-churners as
// churners are kept, so the cap may bend but the classes stay both present).
// A kept non-churner carries the weight (the snapshot's non-churners / the
// kept ones), churners weight 1, so weighted counts reproduce each snapshot's
// population. A snapshot within its share is kept whole, with weights 1.
//
// The sample is deterministic: the non-churners kept are those whose
// priority, a hash of the seed, the snapshot date and the customer id, is
// lowest in their snapshot (bottom-k sampling), whatever the row order.
type FitSample struct {
	shares []int // row budget of each snapshot, summing to the cap
	seed   uint64
	m      *churn.Matrix
	w      []float32
	added  int // snapshots added
	seen   int // rows offered
}

// NewFitSample prepares the sample of snapshots snapshots capped at maxRows
// rows (DefaultMaxFitRows when 0).
func NewFitSample(maxRows, snapshots int, seed uint64) (*FitSample, error) {
	const op = "sample fit rows"
	if maxRows == 0 {
		maxRows = DefaultMaxFitRows
	}
	if snapshots <= 0 {
		return nil, churn.Invalid(op, "snapshots", "must be positive, got %d", snapshots)
	}
	if maxRows < 2*snapshots {
		return nil, churn.Invalid(op, "max_fit_rows", "%d rows cannot hold both classes of %d snapshots", maxRows, snapshots)
	}
	s := &FitSample{seed: seed, m: &churn.Matrix{}}
	for i := range snapshots {
		s.shares = append(s.shares, maxRows*(i+1)/snapshots-maxRows*i/snapshots)
	}
	return s, nil
}

// Add samples one labelled snapshot into the fit rows. Snapshots must all
// have the same features; at most as many as NewFitSample was told may be
// added.
func (s *FitSample) Add(snap *churn.Matrix) error {
	const op = "sample fit rows"
	k := s.added
	if k >= len(s.shares) {
		return churn.Errorf(churn.KindInternal, op, "snapshot %d added to a sample planned for %d", k+1, len(s.shares))
	}
	if err := snap.Validate(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if snap.Labels == nil {
		return churn.Invalid(op, "labels", "the snapshot of %s is unlabelled", snap.AsOf.Format(time.DateOnly))
	}
	pos, neg, bad := eval.ClassRows(snap.Labels)
	if bad >= 0 {
		return churn.Invalid(op, "label", "snapshot %s row %d (%s) has label %v, want 0 or 1",
			snap.AsOf.Format(time.DateOnly), bad, snap.IDs[bad], snap.Labels[bad])
	}
	share := s.shares[k]
	keepNeg := neg
	weight := float32(1)
	if len(pos)+len(neg) > share {
		q := max(share-len(pos), min(len(neg), len(pos)))
		keepNeg = s.lowestPriority(snap, neg, q)
		weight = float32(float64(len(neg)) / float64(q))
	}
	keep := slices.Concat(pos, keepNeg)
	slices.Sort(keep)
	if s.m.Rows() == 0 && s.m.Features == nil {
		s.m.Features = slices.Clone(snap.Features)
		s.m.Cols = make([][]float32, len(snap.Features))
		// Room for every snapshot's share, or for all rows when they fit.
		capacity := min(s.cap(), snap.Rows()*len(s.shares))
		for j := range s.m.Cols {
			s.m.Cols[j] = make([]float32, 0, capacity)
		}
		s.m.Labels = make([]float32, 0, capacity)
		s.m.AsOf = snap.AsOf
	}
	if !slices.Equal(s.m.Features, snap.Features) {
		return churn.Errorf(churn.KindInternal, op, "the snapshot of %s has other features than the first", snap.AsOf.Format(time.DateOnly))
	}
	if !s.m.AsOf.Equal(snap.AsOf) {
		s.m.AsOf = time.Time{}
	}
	for j, col := range snap.Cols {
		for _, r := range keep {
			s.m.Cols[j] = append(s.m.Cols[j], col[r])
		}
	}
	for _, r := range keep {
		s.m.IDs = append(s.m.IDs, snap.IDs[r])
		s.m.Labels = append(s.m.Labels, snap.Labels[r])
		w := float32(1)
		if snap.Labels[r] == 0 {
			w = weight
		}
		s.w = append(s.w, w)
	}
	s.seen += snap.Rows()
	s.added++
	return nil
}

// lowestPriority returns the q rows of idx with the lowest priority, in row
// order.
func (s *FitSample) lowestPriority(snap *churn.Matrix, idx []int, q int) []int {
	type ranked struct {
		prio uint64
		row  int
	}
	date := snap.AsOf.Format(time.DateOnly)
	rs := make([]ranked, len(idx))
	for i, r := range idx {
		rs[i] = ranked{priority(s.seed, date, snap.IDs[r]), r}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.prio, b.prio); c != 0 {
			return c
		}
		return cmp.Compare(snap.IDs[a.row], snap.IDs[b.row])
	})
	out := make([]int, q)
	for i := range out {
		out[i] = rs[i].row
	}
	slices.Sort(out)
	return out
}

// priority hashes (seed, snapshot date, customer id) with FNV-1a and mixes the
// result with SplitMix64's finaliser, so that nearby ids get unrelated
// priorities.
func priority(seed uint64, date, id string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := range 8 {
		h = (h ^ (seed >> (8 * i) & 0xff)) * prime
	}
	for _, s := range []string{date, "\x00", id} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

func (s *FitSample) cap() int {
	n := 0
	for _, x := range s.shares {
		n += x
	}
	return n
}

// Matrix returns the sampled fit rows, in the order the snapshots were added
// and by row within each.
func (s *FitSample) Matrix() *churn.Matrix { return s.m }

// Weights returns one weight per fit row: 1 for churners, the inverse of its
// snapshot's sampling rate for a non-churner.
func (s *FitSample) Weights() []float32 { return s.w }

// Seen returns the rows of all snapshots added, before sampling.
func (s *FitSample) Seen() int { return s.seen }

// PriorOffset is the log-odds correction for a sample with these labels and
// weights: log(r0/r1), where rc is the sampling rate of class c (rows kept
// over weighted rows). A model fitted without the weights overstates the odds
// of churn by the factor r1/r0; adding PriorOffset to its log-odds restores
// the population's (King and Zeng's prior correction, exact for logistic
// regression when each class is sampled at one rate). It is 0 for a sample
// with weights 1 or nil.
func PriorOffset(labels, weights []float32) float64 {
	if weights == nil {
		return 0
	}
	var n, w [2]float64
	for i, l := range labels {
		c := 0
		if l == 1 {
			c = 1
		}
		n[c]++
		w[c] += float64(weights[i])
	}
	if n[0] == 0 || n[1] == 0 || w[0] == 0 || w[1] == 0 {
		return 0
	}
	return math.Log(n[0]/w[0]) - math.Log(n[1]/w[1])
}
