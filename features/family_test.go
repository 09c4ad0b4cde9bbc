package features

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

const npsFamily = `-- feature: nps_last (score 0-10): Latest NPS answer
-- missing: nps_last: NaN without a survey.
-- feature: nps_count (count): Surveys answered
SELECT customer_id, toFloat32(argMax(score, answered_at)) AS nps_last, toFloat32(count()) AS nps_count
FROM nps_surveys WHERE answered_at < toDate(@as_of) GROUP BY customer_id
`

func TestParseFamilyReadsHeaderAndTables(t *testing.T) {
	fam, err := ParseFamily("/op/features/nps.sql", npsFamily)
	if err != nil {
		t.Fatal(err)
	}
	if fam.Name != "nps" || !slices.Equal(Names(fam.Features), []string{"nps_last", "nps_count"}) || !slices.Equal(fam.Tables, []string{"nps_surveys"}) {
		t.Fatalf("family %s, features %v, tables %v", fam.Name, Names(fam.Features), fam.Tables)
	}
	f := fam.Features[0]
	if f.Unit != "score 0-10" || f.Description != "Latest NPS answer" || f.Missing != "NaN without a survey." || f.Family != "nps" {
		t.Errorf("feature %+v", f)
	}
	if m := fam.Features[1].Missing; !strings.Contains(m, "no row for the customer") {
		t.Errorf("undeclared missing note %q: a customer without a row is NaN all the same", m)
	}
}

func TestParseFamilyRefusesSQLWithoutTheAsOfParameter(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"no as_of", strings.ReplaceAll(npsFamily, "toDate(@as_of)", "today()"), "does not use @as_of"},
		{"as_of only in a comment", "-- feature: x (count): X\n-- WHERE d < @as_of\nSELECT customer_id, toFloat32(1) AS x FROM t\n", "does not use @as_of"},
		{"as_of only in a string", "-- feature: x (count): X\nSELECT customer_id, toFloat32(1) AS x FROM t WHERE s = '@as_of'\n", "does not use @as_of"},
		{"other parameter", strings.ReplaceAll(npsFamily, "GROUP BY", "AND x = @horizon_days GROUP BY"), "uses @horizon_days: only @as_of is bound"},
		{"no feature", "SELECT customer_id FROM t WHERE d < @as_of", "declares no feature"},
		{"bad header", "-- feature: x: no unit\n" + npsFamily, "line 1: want `-- feature: name (unit): description`"},
		{"label", "-- feature: label (count): X\nSELECT 1 WHERE d < @as_of", `not "label"`},
		{"stray missing", "-- missing: y: z\n" + npsFamily, "`-- missing: y` names no declared feature"},
	} {
		_, err := ParseFamily("/op/features/nps.sql", c.src)
		if err == nil || !strings.Contains(err.Error(), "/op/features/nps.sql") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to name the file and say %q", c.name, err, c.want)
		}
	}
}

func TestLoadFamiliesRefusesAFeatureTheRegistryHas(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("nps.sql", npsFamily)
	write("notes.txt", "not a family")
	fams, err := LoadFamilies(dir)
	if err != nil || len(fams) != 1 {
		t.Fatalf("families %v, %v", fams, err)
	}
	write("usage.sql", "-- feature: tenure_days (days): Tenure\nSELECT customer_id, toFloat32(1) AS tenure_days FROM t WHERE d < @as_of")
	if _, err := LoadFamilies(dir); err == nil || !strings.Contains(err.Error(), "usage.sql: feature tenure_days is already defined by the built-in registry") {
		t.Fatalf("error %v", err)
	}
	if _, err := LoadFamilies(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing folder loaded")
	}
}

// familyStore answers the snapshot's sides as fakeStore does and a family's query with
// its own matrix.
type familyStore struct {
	fakeStore
	fams map[string]*churn.Matrix // by query
}

func (f *familyStore) QueryMatrix(ctx context.Context, q string, p map[string]any, prog func(done, total int64)) (*churn.Matrix, error) {
	if m, ok := f.fams[q]; ok {
		return m, nil
	}
	return f.fakeStore.QueryMatrix(ctx, q, p, prog)
}

func TestComputeJoinsFamilyColumnsAfterTheRegistry(t *testing.T) {
	fam, err := ParseFamily("nps.sql", npsFamily)
	if err != nil {
		t.Fatal(err)
	}
	st := &familyStore{
		fakeStore: fakeStore{sides: fakeSides(fakeCustomer{id: "a", churns: true}, fakeCustomer{id: "b"}, fakeCustomer{id: "c"}),
			first: d("2023-01-01"), last: d("2024-05-31")},
		// unsorted, and with a customer the snapshot does not hold
		fams: map[string]*churn.Matrix{fam.SQL: {IDs: []string{"c", "a", "z"}, Features: []string{"nps_last", "nps_count"},
			Cols: [][]float32{{9, 3, 1}, {2, 1, 5}}}},
	}
	s, err := Compute(context.Background(), st, Spec{AsOf: d("2024-05-01"), Operator: Operator{Families: []Family{fam}}})
	if err != nil {
		t.Fatal(err)
	}
	n := len(Registry())
	if !slices.Equal(s.Matrix.Features[n:], []string{"nps_last", "nps_count"}) || len(s.Features) != n+2 {
		t.Fatalf("features after the registry %v", s.Matrix.Features[n:])
	}
	last, count := s.Matrix.Col("nps_last"), s.Matrix.Col("nps_count")
	if last[0] != 3 || count[0] != 1 || last[2] != 9 || count[2] != 2 || !math.IsNaN(float64(last[1])) || !math.IsNaN(float64(count[1])) {
		t.Fatalf("nps_last %v, nps_count %v; want a=3/1, b=NaN/NaN, c=9/2", last, count)
	}

	// Scoring a model that has the family without its file is an error
	// that says what to do.
	_, err = Compute(context.Background(), st, Spec{AsOf: d("2024-05-01"), Features: s.Features})
	if err == nil || !strings.Contains(err.Error(), "feature nps_last is in no feature family") {
		t.Fatalf("error %v", err)
	}
}

func TestFamilyValuesRefusesDuplicateCustomersAndOtherColumns(t *testing.T) {
	fam, _ := ParseFamily("nps.sql", npsFamily)
	for _, c := range []struct {
		m    *churn.Matrix
		want string
	}{
		{&churn.Matrix{IDs: []string{"a", "a"}, Features: []string{"nps_last", "nps_count"}, Cols: [][]float32{{1, 2}, {1, 1}}}, "returns customer a twice"},
		{&churn.Matrix{IDs: []string{"a"}, Features: []string{"nps_count"}, Cols: [][]float32{{1}}}, "returns columns [nps_count]"},
	} {
		st := &familyStore{fams: map[string]*churn.Matrix{fam.SQL: c.m}}
		_, err := FamilyValues(context.Background(), st, fam, d("2024-05-01"))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nps.sql") {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

func TestFirstChangeFindsChangedValuesAndRows(t *testing.T) {
	m := func(ids []string, v ...float32) *churn.Matrix {
		return &churn.Matrix{IDs: ids, Features: []string{"x"}, Cols: [][]float32{v}}
	}
	nan := float32(math.NaN())
	if l := firstChange(m([]string{"a", "b"}, 1, nan), m([]string{"a", "b"}, 1, nan)); l != nil {
		t.Errorf("equal matrices: %v", l)
	}
	if l := firstChange(m([]string{"a", "b"}, 1, 2), m([]string{"a", "b"}, 1, 3)); l == nil || *l != (Leak{Feature: "x", Customer: "b", Before: 2, After: 3}) {
		t.Errorf("changed value: %v", l)
	}
	if l := firstChange(m([]string{"a"}, 1), m([]string{"a", "b"}, 1, 1)); l == nil || l.Customer != "b" || l.Feature != "" {
		t.Errorf("new row: %v", l)
	}
}
