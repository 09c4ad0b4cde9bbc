package features

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

// fakeStore answers the snapshot query with a fixed matrix and records what
// it was asked.
type fakeStore struct {
	raw          *churn.Matrix
	regions      []string
	first, last  time.Time
	gotParams    map[string]any
	gotQuery     string
	regionsAsked time.Time
	err          error
}

func (f *fakeStore) QueryMatrix(_ context.Context, q string, p map[string]any, _ func(done, total int64)) (*churn.Matrix, error) {
	f.gotQuery, f.gotParams = q, p
	return f.raw, f.err
}

func (f *fakeStore) Regions(_ context.Context, before time.Time) ([]string, error) {
	f.regionsAsked = before
	return f.regions, nil
}

func (f *fakeStore) HasPrepaid(context.Context) (bool, error) { return false, nil }

func (f *fakeStore) UsageRange(context.Context) (time.Time, time.Time, error) {
	return f.first, f.last, nil
}

// rawMatrix is what the SQL would return for ids: every non-derived
// registry column, filled with v, and the given labels.
func rawMatrix(ids []string, labels []float32, v func(name string, row int) float32) *churn.Matrix {
	m := &churn.Matrix{IDs: ids, Labels: labels}
	for _, name := range QueryColumns(Registry()) {
		col := make([]float32, len(ids))
		for i := range col {
			col[i] = v(name, i)
		}
		m.Features = append(m.Features, name)
		m.Cols = append(m.Cols, col)
	}
	return m
}

func TestComputeTakesDefaultsFromTheData(t *testing.T) {
	st := &fakeStore{
		// postpaid customers (billing 0): labels need the horizon only
		raw: rawMatrix([]string{"a", "b"}, []float32{1, 0}, func(name string, _ int) float32 {
			if name == NameBilling {
				return 0
			}
			return 1
		}),
		regions: []string{"north", "south"},
		first:   d("2023-01-01"), last: d("2024-05-31"),
	}
	s, err := Compute(context.Background(), st, Spec{AsOf: time.Date(2024, 5, 1, 15, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !s.DataEnd.Equal(d("2024-06-01")) || !s.Labeled || s.Horizon != 30 {
		t.Errorf("data end %s, labeled %v, horizon %d; want 2024-06-01, true, 30", s.DataEnd, s.Labeled, s.Horizon)
	}
	if st.gotParams["as_of"] != "2024-05-01" || st.gotParams["horizon_days"] != 30 {
		t.Errorf("params = %v", st.gotParams)
	}
	if !st.regionsAsked.Equal(d("2024-05-01")) || !slices.Equal(st.gotParams["regions"].([]string), []string{"north", "south"}) {
		t.Errorf("regions asked before %s, sent %v", st.regionsAsked, st.gotParams["regions"])
	}
	if !slices.Equal(s.Matrix.Features, Names(Registry())) || !s.Matrix.AsOf.Equal(d("2024-05-01")) {
		t.Errorf("matrix features %v as of %s", s.Matrix.Features, s.Matrix.AsOf)
	}
	if !slices.Equal(s.Matrix.Labels, []float32{1, 0}) {
		t.Errorf("labels %v", s.Matrix.Labels)
	}
	if tier := s.Matrix.Col(NameValueTier); tier[0] != 0 || tier[1] != 2 {
		// equal value: a wins the tie by id and fills A (at least 1 of 2)
		t.Errorf("tiers %v", tier)
	}
}

func TestComputeLeavesLabelsUnknownUntilTheHorizonPasses(t *testing.T) {
	st := &fakeStore{raw: rawMatrix([]string{"a"}, []float32{0}, func(string, int) float32 { return 0 })}
	s, err := Compute(context.Background(), st, Spec{AsOf: d("2024-05-03"), DataEnd: d("2024-06-01"), Features: WithRegions(Registry(), nil)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Labeled || !isNaN(s.Matrix.Labels[0]) {
		t.Errorf("labeled %v, label %v; want unknown: 2024-05-03 + 30 days is after the data's end", s.Labeled, s.Matrix.Labels[0])
	}
	s, err = Compute(context.Background(), st, Spec{AsOf: d("2024-05-02"), DataEnd: d("2024-06-01"), Features: WithRegions(Registry(), nil)})
	if err != nil || !s.Labeled {
		t.Errorf("as of 2024-05-02 the window ends on the data's end: want labeled (err %v)", err)
	}
}

func TestComputeRejects(t *testing.T) {
	other := Registry()[1:]
	tests := []struct {
		name string
		spec Spec
		raw  *churn.Matrix
		kind churn.Kind
	}{
		{"no as-of date", Spec{}, nil, churn.KindInvalid},
		{"negative horizon", Spec{AsOf: d("2024-01-01"), Horizon: -3}, nil, churn.KindInvalid},
		{"a feature set that is not the registry", Spec{AsOf: d("2024-01-01"), Features: other}, nil, churn.KindInvalid},
		{"bad value settings", Spec{AsOf: d("2024-01-01"), Value: ValueConfig{MarginRate: 3}}, nil, churn.KindInvalid},
		{"columns out of order", Spec{AsOf: d("2024-01-01")}, func() *churn.Matrix {
			m := rawMatrix([]string{"a"}, nil, func(string, int) float32 { return 0 })
			m.Features[0], m.Features[1] = m.Features[1], m.Features[0]
			return m
		}(), churn.KindInternal},
		{"rows not sorted", Spec{AsOf: d("2024-01-01")}, rawMatrix([]string{"b", "a"}, nil, func(string, int) float32 { return 0 }), churn.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{raw: tt.raw, last: d("2024-06-01")}
			_, err := Compute(context.Background(), st, tt.spec)
			if err == nil || churn.ErrorKind(err) != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
		})
	}
}

func TestComputePassesStoreErrorsOn(t *testing.T) {
	down := churn.Unavailable("query", errors.New("connection refused"))
	st := &fakeStore{err: down, last: d("2024-06-01")}
	_, err := Compute(context.Background(), st, Spec{AsOf: d("2024-01-01")})
	if churn.ErrorKind(err) != churn.KindUnavailable || !strings.Contains(err.Error(), "2024-01-01") {
		t.Fatalf("err = %v, want unavailable naming the as-of date", err)
	}
}

func TestWriteCSVWritesCategoriesByNameAndMissingAsEmpty(t *testing.T) {
	fs := WithRegions(Registry(), []string{"north", "south"})
	st := &fakeStore{raw: rawMatrix([]string{"a", "b"}, []float32{1, 0}, func(name string, row int) float32 {
		switch {
		case name == NameRegion && row == 0:
			return 1
		case name == NameContract && row == 1:
			return churn.NaN32
		case name == NameMonthlyFee:
			return 12.5
		}
		return 0
	})}
	s, err := Compute(context.Background(), st, Spec{AsOf: d("2024-01-01"), DataEnd: d("2024-06-01"), Features: fs})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, s); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	if header[0] != "customer_id" || header[len(header)-1] != "label" || len(header) != len(fs)+2 {
		t.Fatalf("header = %v", header)
	}
	col := func(name string) int { return slices.Index(header, name) }
	checks := []struct {
		row  int
		col  string
		want string
	}{
		{1, "customer_id", "a"}, {1, NameRegion, "south"}, {2, NameRegion, "north"},
		{1, NameContract, "month_to_month"}, {2, NameContract, ""},
		{1, NameMonthlyFee, "12.5"}, {1, NameValueTier, "A"}, {2, NameValueTier, "C"},
		{1, "label", "1"}, {2, "label", "0"},
	}
	for _, c := range checks {
		if got := recs[c.row][col(c.col)]; got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}

	s.Labeled = false
	for i := range s.Matrix.Labels {
		s.Matrix.Labels[i] = churn.NaN32
	}
	buf.Reset()
	if err := WriteCSV(&buf, s); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); !strings.HasSuffix(lines[1], ",") {
		t.Errorf("unknown label written as %q, want an empty last cell", lines[1])
	}
}
