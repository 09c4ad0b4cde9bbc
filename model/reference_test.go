package model

import (
	"math"
	"slices"
	"testing"
)

func TestScoreReferenceOfAnOldModelFileMergesTiedDeciles(t *testing.T) {
	m := &Model{TrainScores: []float64{.01, .01, .01, .02, .03, .04, .05, .05, .2}}
	h, ok := m.ScoreReference()
	want := []float64{.1, .3, .1, .1, .1, .2, .1}
	if !ok || len(h.Edges) != 6 || !near(h.Shares, want) {
		t.Fatalf("edges %v shares %v, want 6 edges and shares %v", h.Edges, h.Shares, want)
	}
	if _, ok := (&Model{}).ScoreReference(); ok {
		t.Fatal("a model without training scores has no reference")
	}
}

func near(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) < 1e-9 })
}
