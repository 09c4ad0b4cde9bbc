package features

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

// fakeStore answers the snapshot's sides with fixed tables (a side it has
// none of has no rows) and records what it was asked.
type fakeStore struct {
	sides        map[string]*churn.Table
	regions      []string
	first, last  time.Time
	mu           sync.Mutex // the sides are asked at once
	gotParams    map[string]any
	regionsAsked time.Time
	err          error
}

func (f *fakeStore) QueryMatrix(context.Context, string, map[string]any, func(done, total int64)) (*churn.Matrix, error) {
	return nil, errors.New("the fake store has no feature families")
}

func (f *fakeStore) QueryTable(_ context.Context, q string, p map[string]any, _ func(done, total int64)) (*churn.Table, error) {
	f.mu.Lock()
	f.gotParams = p
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	side := strings.SplitN(q, "\"", 3)[1]
	if t, ok := f.sides[side]; ok {
		return t, nil
	}
	return sideTable(side, 0), nil
}

func (f *fakeStore) Regions(_ context.Context, before time.Time) ([]string, error) {
	f.regionsAsked = before
	return f.regions, nil
}

func (f *fakeStore) HasPrepaid(context.Context) (bool, error) { return false, nil }

func (f *fakeStore) UsageRange(context.Context) (time.Time, time.Time, error) {
	return f.first, f.last, nil
}

// sideTable is a side's table of n rows of zeros and empty strings, keyed
// 0 to n-1.
func sideTable(side string, n int) *churn.Table {
	cols := SideColumns(side)
	t := &churn.Table{Names: cols, Keys: make([]uint64, n), Nums: make([][]float64, len(cols)), Strs: make([][]string, len(cols))}
	for i := range t.Keys {
		t.Keys[i] = uint64(i)
	}
	for j, c := range cols {
		if StringColumn(c) {
			t.Strs[j] = make([]string, n)
		} else {
			t.Nums[j] = make([]float64, n)
		}
	}
	return t
}

// fakeCustomer is what the sides say of one postpaid customer.
type fakeCustomer struct {
	id, region string
	churns     bool    // a churn event in the horizon: label 1
	contract   string  // of the plan in force; "" with fee 0: no plan
	fee        float64 // monthly fee of that plan
}

// fakeSides are the customers, lifecycle and plan sides of the customers.
func fakeSides(cs ...fakeCustomer) map[string]*churn.Table {
	cust, life, plan := sideTable("customers", len(cs)), sideTable("lifecycle", len(cs)), sideTable("plan", 0)
	set := func(t *churn.Table, col string, i int, v any) {
		j := t.Column(col)
		if s, ok := v.(string); ok {
			t.Strs[j][i] = s
		} else {
			t.Nums[j][i] = v.(float64)
		}
	}
	for i, c := range cs {
		set(cust, "c_id", i, c.id)
		set(cust, "c_region", i, c.region)
		set(cust, "c_billing", i, churn.BillingPostpaid)
		set(cust, "c_tenure", i, 400.)
		if c.churns {
			set(life, "w_label", i, 1.)
		}
		if c.contract != "" || c.fee != 0 {
			row := sideTable("plan", 1)
			row.Keys[0] = uint64(i)
			set(row, "p_present", 0, 1.)
			set(row, "p_contract", 0, c.contract)
			set(row, "p_fee", 0, c.fee)
			if err := plan.Append(row); err != nil {
				panic(err)
			}
		}
	}
	return map[string]*churn.Table{"customers": cust, "lifecycle": life, "plan": plan}
}

func TestComputeTakesDefaultsFromTheData(t *testing.T) {
	st := &fakeStore{
		// postpaid customers: labels need the horizon only
		sides: fakeSides(fakeCustomer{id: "b", region: "south", contract: "one_year", fee: 1},
			fakeCustomer{id: "a", region: "north", churns: true, contract: "one_year", fee: 1}),
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
	st := &fakeStore{sides: fakeSides(fakeCustomer{id: "a"})}
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
	swapped := fakeSides(fakeCustomer{id: "a"})
	swapped["plan"].Names[0], swapped["plan"].Names[1] = swapped["plan"].Names[1], swapped["plan"].Names[0]
	retyped := fakeSides(fakeCustomer{id: "a"})
	retyped["customers"].Strs[5], retyped["customers"].Nums[5] = nil, []float64{0}
	tests := []struct {
		name  string
		spec  Spec
		sides map[string]*churn.Table
		kind  churn.Kind
	}{
		{"no as-of date", Spec{}, nil, churn.KindInvalid},
		{"negative horizon", Spec{AsOf: d("2024-01-01"), Horizon: -3}, nil, churn.KindInvalid},
		{"a feature set that is not the registry", Spec{AsOf: d("2024-01-01"), Features: other}, nil, churn.KindInvalid},
		{"bad value settings", Spec{AsOf: d("2024-01-01"), Value: ValueConfig{MarginRate: 3}}, nil, churn.KindInvalid},
		{"a side's columns out of order", Spec{AsOf: d("2024-01-01")}, swapped, churn.KindInternal},
		{"a side's String column as a number", Spec{AsOf: d("2024-01-01")}, retyped, churn.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{sides: tt.sides, last: d("2024-06-01")}
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
	st := &fakeStore{sides: fakeSides(fakeCustomer{id: "b", region: "north"},
		fakeCustomer{id: "a", region: "south", churns: true, contract: "month_to_month", fee: 12.5})}
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

func TestRawSnapshotJoinsSidesByKeyInIDOrder(t *testing.T) {
	cust := sideTable("customers", 4)
	cust.Keys = []uint64{7, 3, 9, 3} // "a" twice, as a customers table may hold it
	ids, billing := cust.Column("c_id"), cust.Column("c_billing")
	cust.Strs[ids] = []string{"c", "a", "b", "a"}
	for i := range cust.Keys {
		cust.Strs[billing][i] = churn.BillingPostpaid
	}
	support := sideTable("support", 2)
	support.Keys = []uint64{42, 3} // 42 is no customer's
	support.Nums[support.Column("s_network_30")] = []float64{5, 2}
	bill := sideTable("billing", 1)
	bill.Keys[0] = 7
	bill.Nums[bill.Column("b_outstanding")][0] = math.Copysign(0, -1)
	st := &fakeStore{sides: map[string]*churn.Table{"customers": cust, "support": support, "billing": bill}}

	fs := WithRegions(Registry(), nil)
	sides, params := SnapshotSides(d("2024-05-01"), 30, 60, fs)
	m, err := RawSnapshot(context.Background(), st, sides, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.IDs, []string{"a", "a", "b", "c"}) {
		t.Fatalf("ids %v, want a a b c", m.IDs)
	}
	if got := m.Col("network_tickets_30d"); !slices.Equal(got, []float32{2, 2, 0, 0}) {
		t.Errorf("network_tickets_30d %v, want 2 2 0 0", got)
	}
	if got := m.Col("outstanding_balance")[3]; got != 0 || math.Signbit(float64(got)) {
		t.Errorf("outstanding balance of c is %v (sign bit %v), want +0", got, math.Signbit(float64(got)))
	}
	if got := m.Col("last_satisfaction"); !isNaN(got[2]) {
		t.Errorf("last_satisfaction of b, who has no ticket, is %v, want NaN", got[2])
	}
}
