package features

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/telcoretain/churn"
)

// DefaultHorizon is the label window in days when none is given.
const DefaultHorizon = 30

// DefaultInactivity is the days without usage and without a top-up after
// which a prepaid customer has churned, when none is given.
const DefaultInactivity = churn.DefaultPrepaidInactivity

// HistoryDays is how far back a snapshot reads billing and support history:
// invoices issued, payments made and tickets opened in the 730 days before
// the as-of date. The features that span the whole history (the balance, the
// days past due, the latest invoice, payment, rating and complaint, the
// unresolved tickets) span these two years, so that a snapshot's cost stops
// growing with the years of history an operator loads (docs/scaling.md).
// Usage is read for the year before the as-of date.
const HistoryDays = churn.FeatureHistoryDays

// Store runs feature queries. Package clickhouse implements it; tests use
// fakes.
type Store interface {
	// QueryMatrix runs query with its named parameters bound client-side and
	// streams the rows into a matrix: the first result column is the row id,
	// a column named "label" (if any) fills Labels, every other column is a
	// float32 feature named after the column. progress, when not nil, is
	// told the rows the server has read so far and its estimate of the total.
	QueryMatrix(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Matrix, error)
	// QueryTable runs a per-customer query whose first column is the UInt64
	// key k (a snapshot side) and returns its rows, in no particular order:
	// numeric and Date columns (as day numbers) as float64, String columns
	// as strings. Parameters and progress are QueryMatrix's. A store with a
	// SnapshotQueries() int method says how many of a snapshot's sides
	// RawSnapshot runs at once.
	QueryTable(ctx context.Context, query string, params map[string]any, progress func(done, total int64)) (*churn.Table, error)
	// Regions returns the distinct regions of customers who signed up before
	// the given date, sorted.
	Regions(ctx context.Context, before time.Time) ([]string, error)
	// UsageRange returns the first and the latest day in usage_daily; a
	// KindNotFound error when the table is empty.
	UsageRange(ctx context.Context) (first, last time.Time, err error)
	// HasPrepaid reports whether any customer is prepaid: their labels need
	// the inactivity days after the horizon, which moves the holdout back.
	HasPrepaid(ctx context.Context) (bool, error)
}

// Spec says which snapshot to compute.
type Spec struct {
	AsOf    time.Time // the as-of date T (a calendar date; the time of day is ignored)
	Horizon int       // label window in days; 0 means DefaultHorizon
	// Inactivity is the days without usage and top-up after which a prepaid
	// customer has churned; 0 means DefaultInactivity.
	Inactivity int
	// DataEnd is the day after the latest usage day. Labels are known (0 or
	// 1) only when AsOf+Horizon <= DataEnd (plus Inactivity when the
	// snapshot holds prepaid customers), else NaN. Zero: read it from the
	// store.
	DataEnd time.Time
	// Features fixes the feature set and its category encodings, e.g. the
	// features a model was trained with; their names must be the registry's.
	// Nil: the registry with the regions of the customers who signed up
	// before AsOf.
	Features []churn.Feature
	Value    ValueConfig // zero value: DefaultValueConfig
	// Operator holds the operator's vocabulary (the zero value is the
	// default) and its feature families: a feature of Features that the
	// registry lacks comes from the family that declares it.
	Operator Operator
	// Progress, when not nil, is told the rows ClickHouse has read so far
	// and the estimated total.
	Progress func(done, total int64)
}

// Snapshot is the point-in-time feature matrix of the customers active at
// one as-of date.
type Snapshot struct {
	Matrix   *churn.Matrix   // one row per active customer, sorted by id; Labels always set
	Features []churn.Feature // the definitions of Matrix's columns, with their categories
	Horizon  int             // days
	// Settle is the days after the horizon a label needs: the inactivity
	// days when the snapshot holds prepaid customers, else 0.
	Settle  int
	DataEnd time.Time
	Labeled bool // the horizon (and Settle) has fully passed: labels are 0 or 1, not NaN
}

// Row returns the row index of a customer, or -1 when the customer is not in
// the snapshot.
func (s *Snapshot) Row(customerID string) int {
	i, ok := slices.BinarySearch(s.Matrix.IDs, customerID)
	if !ok {
		return -1
	}
	return i
}

// Date truncates t to its calendar date in UTC, the form every as-of date
// takes here.
func Date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Compute builds the snapshot of spec: the aggregation runs in ClickHouse,
// as the snapshot's sides (sides.go), one row per customer and side crosses
// the wire, the sides are joined here, and the value features that need the
// whole population (lifetime value, tiers) are added.
func Compute(ctx context.Context, st Store, spec Spec) (*Snapshot, error) {
	const op = "compute features"
	if spec.AsOf.IsZero() {
		return nil, churn.Invalid(op, "as_of", "is required")
	}
	asOf := Date(spec.AsOf)
	h := spec.Horizon
	if h == 0 {
		h = DefaultHorizon
	}
	if h < 0 {
		return nil, churn.Invalid(op, "horizon", "%d days: must be positive", h)
	}
	n := spec.Inactivity
	if n == 0 {
		n = DefaultInactivity
	}
	if n < 0 || n > 365 {
		return nil, churn.Invalid(op, "inactivity", "%d days: want 1 to 365", n)
	}
	vc := spec.Value
	if vc.isZero() {
		vc = DefaultValueConfig()
	}
	if err := vc.Validate(); err != nil {
		return nil, err
	}
	dataEnd := Date(spec.DataEnd)
	if spec.DataEnd.IsZero() {
		_, last, err := st.UsageRange(ctx)
		if err != nil {
			return nil, err
		}
		dataEnd = DataEnd(last)
	}
	feats := spec.Features
	if feats == nil {
		regions, err := st.Regions(ctx, asOf)
		if err != nil {
			return nil, err
		}
		feats = WithRegions(Catalog(spec.Operator.Families), regions)
	}
	fams, err := checkNames(feats, spec.Operator.Families)
	if err != nil {
		return nil, err
	}
	base := feats[:len(feats)-familyFeatures(fams)]

	params := snapshotParams(asOf, h, n, base, spec.Operator.Vocabulary)
	raw, err := RawSnapshot(ctx, st, sides(), params, spec.Progress)
	if err != nil {
		return nil, fmt.Errorf("features as of %s: %w", asOf.Format(time.DateOnly), err)
	}
	m, err := assemble(raw, base, vc)
	if err != nil {
		return nil, err
	}
	for _, fam := range fams {
		fm, err := FamilyValues(ctx, st, fam, asOf)
		if err != nil {
			return nil, err
		}
		joinFamily(m, fm)
	}
	m.AsOf = asOf
	settle := 0
	if hasPrepaid(m, feats) {
		settle = n
	}
	labeled := !asOf.AddDate(0, 0, h+settle).After(dataEnd)
	if !labeled || m.Labels == nil {
		m.Labels = make([]float32, m.Rows())
		for i := range m.Labels {
			m.Labels[i] = churn.NaN32
		}
	}
	return &Snapshot{Matrix: m, Features: feats, Horizon: h, Settle: settle, DataEnd: dataEnd, Labeled: labeled}, nil
}

// hasPrepaid reports whether any row of m is a prepaid customer.
func hasPrepaid(m *churn.Matrix, fs []churn.Feature) bool {
	f, _ := Lookup(fs, NameBilling)
	code := float32(slices.Index(f.Categories, churn.BillingPrepaid))
	return code >= 0 && slices.Contains(m.Col(NameBilling), code)
}

// DataEnd returns the end of the data given its latest usage day: the day
// after it. Commands use it as the default as-of date (never the wall clock),
// and a label is known when as-of + horizon <= DataEnd.
func DataEnd(latestUsageDay time.Time) time.Time {
	return Date(latestUsageDay).AddDate(0, 0, 1)
}

// checkNames rejects a feature set that is not the registry followed by
// whole feature families: the SQL computes the registry, so a model trained
// on another version of it cannot be scored with this one. It returns the
// families of the features after the registry, in order.
func checkNames(fs []churn.Feature, fams []Family) ([]Family, error) {
	want := Names(Registry())
	got := Names(fs)
	if len(got) < len(want) || !slices.Equal(want, got[:len(want)]) {
		return nil, churn.Errorf(churn.KindInvalid, "compute features",
			"feature set of %d features does not match the registry of %d (%s): retrain the model with this version",
			len(got), len(want), firstDifference(want, got))
	}
	var out []Family
	for rest := got[len(want):]; len(rest) > 0; {
		fam, ok := familyOf(fams, rest[0])
		if !ok {
			return nil, churn.Errorf(churn.KindInvalid, "compute features",
				"feature %s is in no feature family of the features folder (--features-dir, CHURN_FEATURES_DIR): add its SQL file back or retrain", rest[0])
		}
		n := len(fam.Features)
		if len(rest) < n || !slices.Equal(rest[:n], Names(fam.Features)) {
			return nil, churn.Errorf(churn.KindInvalid, "compute features",
				"the features of family %s (%s) are now %v: retrain the model with this version of the file", fam.Name, fam.Path, Names(fam.Features))
		}
		out = append(out, fam)
		rest = rest[n:]
	}
	return out, nil
}

// familyFeatures counts the features of the families.
func familyFeatures(fams []Family) int {
	n := 0
	for _, f := range fams {
		n += len(f.Features)
	}
	return n
}

func firstDifference(want, got []string) string {
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return fmt.Sprintf("feature %d is %q, want %q", i, got[i], want[i])
		}
	}
	return "lengths differ"
}

// snapshotParams are the sides' parameters, and the features RawSnapshot
// computes from them.
func snapshotParams(asOf time.Time, horizon, inactivity int, fs []churn.Feature, voc churn.Vocabulary) map[string]any {
	cats := func(name string) []string {
		f, _ := Lookup(fs, name)
		if f.Categories == nil {
			return []string{}
		}
		return f.Categories
	}
	p := map[string]any{
		"as_of":           asOf.Format(time.DateOnly),
		"horizon_days":    horizon,
		"inactivity_days": inactivity,
		"history_days":    HistoryDays,
		"features":        QueryColumns(fs),
		"contracts":       cats(NameContract),
		"segments":        cats("segment"),
		"regions":         cats(NameRegion),
		"payment_methods": cats("payment_method"),
		"billings":        cats(NameBilling),
	}
	// The operator's values and their categories, per vocabulary column.
	for _, c := range [...]struct{ param, key string }{
		{"segment", "customers.segment"}, {"payment", "customers.payment_method"},
		{"contract", "plan_changes.contract"}, {"ticket", "support_tickets.category"},
	} {
		p[c.param+"_values"], p[c.param+"_categories"] = voc.Mapping(c.key)
	}
	return p
}

// assemble puts the SQL's columns in registry order and adds the derived
// value features.
func assemble(raw *churn.Matrix, fs []churn.Feature, vc ValueConfig) (*churn.Matrix, error) {
	if err := raw.Validate(); err != nil {
		return nil, fmt.Errorf("compute features: %w", err)
	}
	want := QueryColumns(fs)
	if !slices.Equal(raw.Features, want) {
		return nil, churn.Errorf(churn.KindInternal, "compute features",
			"the snapshot query returned columns that are not the registry's (%s)", firstDifference(want, raw.Features))
	}
	if !slices.IsSorted(raw.IDs) {
		return nil, churn.Errorf(churn.KindInternal, "compute features", "the snapshot query returned rows not sorted by customer id")
	}
	m := &churn.Matrix{IDs: raw.IDs, Labels: raw.Labels, Features: Names(fs), Cols: make([][]float32, len(fs))}
	k := 0
	for j, f := range fs {
		if !derived(f.Name) {
			m.Cols[j] = raw.Cols[k]
			k++
		}
	}
	contract, _ := Lookup(fs, NameContract)
	clv := LifetimeValues(m.Col(NameMonthlyRev), m.Col(NameContract), contract.Categories, vc)
	m.Cols[slices.Index(m.Features, NameLifetimeValue)] = clv
	tiers := AssignTiers(m.IDs, clv, vc.Tiers)
	tierCol := make([]float32, len(tiers))
	for i, t := range tiers {
		tierCol[i] = tierValue(t)
	}
	m.Cols[slices.Index(m.Features, NameValueTier)] = tierCol
	return m, nil
}

// isNaN reports whether a float32 is NaN.
func isNaN(v float32) bool { return math.IsNaN(float64(v)) }
