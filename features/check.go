package features

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/telcoretain/churn"
)

// MatrixQuerier runs a query that returns one row per customer (Store's
// first method).
type MatrixQuerier interface {
	QueryMatrix(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Matrix, error)
}

// Sandbox is a scratch copy of the tables a family reads, which the leak
// check may add rows to. Package clickhouse implements it.
type Sandbox interface {
	MatrixQuerier
	// AddFutureRows adds rows dated on or after asOf and returns how many.
	AddFutureRows(ctx context.Context, asOf time.Time) (int64, error)
}

// LeakCheck is what CheckFamily found.
type LeakCheck struct {
	Family    string
	AsOf      time.Time
	Customers int   // customers with a row at the as-of date
	Added     int64 // rows dated on or after the as-of date added
	// Leak is the first value that the added rows changed; nil when none
	// did, i.e. the family passed.
	Leak *Leak
}

// Leak is a value of a family at the as-of date that rows dated on or after
// it changed: the family reads the future.
type Leak struct {
	Feature, Customer string
	Before, After     float32
}

// String says what changed, for people.
func (l Leak) String() string {
	if l.Feature == "" {
		return fmt.Sprintf("customer %s gains or loses its row", l.Customer)
	}
	return fmt.Sprintf("%s of customer %s changes from %v to %v", l.Feature, l.Customer, l.Before, l.After)
}

// CheckFamily proves a family point-in-time on a sandbox: it computes the
// family's values at asOf, adds rows dated on or after asOf to the tables
// the sandbox holds, computes them again and reports the first value that
// changed. A family that keeps the point-in-time rule returns the same
// values, row for row.
func CheckFamily(ctx context.Context, sb Sandbox, fam Family, asOf time.Time) (*LeakCheck, error) {
	asOf = Date(asOf)
	before, err := FamilyValues(ctx, sb, fam, asOf)
	if err != nil {
		return nil, err
	}
	added, err := sb.AddFutureRows(ctx, asOf)
	if err != nil {
		return nil, err
	}
	after, err := FamilyValues(ctx, sb, fam, asOf)
	if err != nil {
		return nil, err
	}
	res := &LeakCheck{Family: fam.Name, AsOf: asOf, Customers: before.Rows(), Added: added, Leak: firstChange(before, after)}
	return res, nil
}

// firstChange compares two family matrices (sorted by id, same columns).
func firstChange(a, b *churn.Matrix) *Leak {
	i, k := 0, 0
	for i < len(a.IDs) || k < len(b.IDs) {
		switch {
		case k == len(b.IDs) || (i < len(a.IDs) && a.IDs[i] < b.IDs[k]):
			return &Leak{Customer: a.IDs[i]}
		case i == len(a.IDs) || b.IDs[k] < a.IDs[i]:
			return &Leak{Customer: b.IDs[k]}
		}
		for j, name := range a.Features {
			x, y := a.Cols[j][i], b.Cols[j][k]
			if x != y && !(math.IsNaN(float64(x)) && math.IsNaN(float64(y))) {
				return &Leak{Feature: name, Customer: a.IDs[i], Before: x, After: y}
			}
		}
		i, k = i+1, k+1
	}
	return nil
}
