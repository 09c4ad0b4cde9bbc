package jobs

import (
	"context"
	"slices"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/features"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/retention"
)

// cycleData is the planned customers of labelled cycles as an uplift
// model sees them: their point-in-time features at the cycle's as-of date,
// whether they were treated or held out, whether they churned within the
// horizon (Labels), and the churn probability the plan ranked them by.
type cycleData struct {
	m        *churn.Matrix
	treated  []bool
	baseline []float64
	nt, nc   int
	missing  int // labelled customers absent from the cycle's snapshot
}

// labelledCycles groups outcomes by cycle, oldest cycle first, each with
// one outcome per customer.
func labelledCycles(outs []churn.Outcome) ([]string, map[string][]churn.Outcome) {
	by := map[string][]churn.Outcome{}
	seen := map[[2]string]bool{}
	for _, o := range outs {
		k := [2]string{o.Cycle, o.CustomerID}
		if seen[k] {
			continue // a customer is planned once a cycle; a second row would count twice
		}
		seen[k] = true
		by[o.Cycle] = append(by[o.Cycle], o)
	}
	cycles := make([]string, 0, len(by))
	for c := range by {
		cycles = append(cycles, c)
	}
	slices.Sort(cycles)
	return cycles, by
}

// snapshotFunc computes the point-in-time features of one as-of date.
type snapshotFunc func(ctx context.Context, asOf time.Time) (*features.Snapshot, error)

// cycleMatrix joins the outcomes of one cycle with the snapshot at its
// as-of date.
func cycleMatrix(ctx context.Context, snap snapshotFunc, cycle string, outs []churn.Outcome) (*cycleData, error) {
	day, err := retention.CycleDate(cycle)
	if err != nil {
		return nil, err
	}
	s, err := snap(ctx, day)
	if err != nil {
		return nil, err
	}
	d := &cycleData{}
	rows := make([]int, 0, len(outs))
	kept := make([]churn.Outcome, 0, len(outs))
	for _, o := range outs {
		r := s.Row(o.CustomerID)
		if r < 0 {
			d.missing++
			continue
		}
		rows = append(rows, r)
		kept = append(kept, o)
	}
	d.m = subsetRows(s.Matrix, rows)
	d.m.Labels = make([]float32, len(kept))
	d.treated = make([]bool, len(kept))
	d.baseline = make([]float64, len(kept))
	for i, o := range kept {
		if o.Churned {
			d.m.Labels[i] = 1
		}
		d.treated[i] = o.Group == churn.GroupTreated
		if d.treated[i] {
			d.nt++
		} else {
			d.nc++
		}
		d.baseline[i] = o.Probability
	}
	return d, nil
}

// append adds another cycle's rows.
func (d *cycleData) append(o *cycleData) error {
	if d.m == nil {
		d.m = &churn.Matrix{}
	}
	if err := d.m.Append(o.m); err != nil {
		return err
	}
	d.treated = append(d.treated, o.treated...)
	d.baseline = append(d.baseline, o.baseline...)
	d.nt, d.nc, d.missing = d.nt+o.nt, d.nc+o.nc, d.missing+o.missing
	return nil
}

// subsetRows returns the rows of m, without labels (a snapshot's labels
// are the churn horizon's, not an outcome's).
func subsetRows(m *churn.Matrix, rows []int) *churn.Matrix {
	out := model.Subset(m, rows)
	out.Labels = nil
	return out
}
