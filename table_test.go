package churn_test

import (
	"testing"

	"github.com/telcoretain/churn"
)

// Tasks that start one after another, of very different sizes (a
// snapshot's sides): the share reported never falls, though a plain sum of
// the totals known so far would fall as each task starts, and it ends at
// the rows of all tasks.
func TestShareProgressNeverFallsAsTasksStart(t *testing.T) {
	sizes := []int64{1_000, 72_000, 13_000, 15_000, 500}
	var got [][2]int64
	report := churn.ShareProgress(len(sizes), func(done, total int64) { got = append(got, [2]int64{done, total}) })
	var all int64
	for i, n := range sizes {
		f := report(i)
		for d := n / 4; d <= n; d += n / 4 {
			f(d, n)
		}
		all += n
	}
	last := 0.0
	for _, p := range got {
		if p[1] < p[0] {
			t.Fatalf("total %d below the rows done %d", p[1], p[0])
		}
		share := float64(p[0]) / float64(p[1])
		if share < last-1e-9 {
			t.Fatalf("the share fell from %.4f to %.4f (%d of %d) in %v", last, share, p[0], p[1], got)
		}
		last = share
	}
	if end := got[len(got)-1]; end != [2]int64{all, all} {
		t.Errorf("at the end %d of %d, want %d of %d", end[0], end[1], all, all)
	}
	if churn.ShareProgress(3, nil)(0) != nil {
		t.Error("a nil progress gives its tasks a progress")
	}
}
