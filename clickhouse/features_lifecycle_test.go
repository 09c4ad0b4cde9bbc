package clickhouse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/features"
)

// lifecycleData are prepaid customers and win-backs around the as-of date
// 2024-06-01 with a 30-day horizon and 60 days of inactivity:
//
//	p1 prepaid, uses the line until 2024-07-15: active, label 0 (last activity after the horizon)
//	p2 prepaid, last usage 05-20, a top-up 06-10, then silent: label 1 (churn date 06-10)
//	p3 prepaid, last usage 03-01 (92 days before): churned before, absent
//	p6 prepaid, signed up 05-15, never active: active, label 1 (churn date: signup)
//	p7 prepaid, usage 05-25, silent 56 days, back on 07-20: label 0 (silence too short)
//	p8 prepaid, top-ups only, the last on 04-15: active, label 1
//	w1 postpaid, churned 01-10, came back 02-01: active, label 0
//	w2 postpaid, churned 01-10, comes back 07-01: absent at the as-of date
//	w3 postpaid, churned 01-10, came back 02-01, churns again 06-15: active, label 1
func lifecycleData() featureData {
	var cs []customerRow
	for _, id := range []string{"p1", "p2", "p3", "p7", "p8", "w1", "w2", "w3"} {
		cs = append(cs, customerRow{id, "2023-01-01", "north", "consumer", "cash"})
	}
	cs = append(cs, customerRow{"p6", "2024-05-15", "north", "consumer", "cash"})
	return featureData{
		customers: cs,
		prepaid:   []string{"p1", "p2", "p3", "p6", "p7", "p8"},
		usage: []usageRow{
			{"p1", "2024-05-30", 5, 0, 0, 1, 0, 0, 0},
			{"p1", "2024-07-15", 5, 0, 0, 1, 0, 0, 0},
			{"p2", "2024-05-20", 5, 0, 0, 1, 0, 0, 0},
			{"p3", "2024-03-01", 5, 0, 0, 1, 0, 0, 0},
			{"p7", "2024-05-25", 5, 0, 0, 1, 0, 0, 0},
			{"p7", "2024-07-20", 5, 0, 0, 1, 0, 0, 0},
			{"w1", "2024-12-01", 0, 0, 0, 0, 0, 0, 0}, // the data's end
		},
		topups: []topupRow{
			{"k1", "p2", "2024-06-10", 10},
			{"k2", "p8", "2024-03-20", 15},
			{"k3", "p8", "2024-04-15", 10},
		},
		churns: []churnRow{
			{"w1", "2024-01-10", "price", "voluntary"},
			{"w2", "2024-01-10", "price", "voluntary"},
			{"w3", "2024-01-10", "price", "voluntary"},
			{"w3", "2024-06-15", "competitor", "voluntary"},
		},
		returns: []returnRow{{"w1", "2024-02-01"}, {"w2", "2024-07-01"}, {"w3", "2024-02-01"}},
	}
}

func TestSnapshotFollowsEachBillingsChurnDefinition(t *testing.T) {
	c, _ := chtest.NewDB(t)
	lifecycleData().insert(t, c)
	s := computeAt(t, c, features.Spec{Inactivity: 60})
	if !s.Labeled || s.Settle != 60 {
		t.Fatalf("labeled = %v, settle = %d; want labels known with 60 days to settle", s.Labeled, s.Settle)
	}
	want := map[string]float32{"p1": 0, "p2": 1, "p6": 1, "p7": 0, "p8": 1, "w1": 0, "w3": 1}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range want {
			if !yield(id) {
				return
			}
		}
	})
	if !slices.Equal(s.Matrix.IDs, ids) {
		t.Fatalf("active customers = %v, want %v", s.Matrix.IDs, ids)
	}
	for id, w := range want {
		if got := s.Matrix.Labels[s.Row(id)]; got != w {
			t.Errorf("label of %s = %v, want %v", id, got, w)
		}
	}
	prepaid := s.Matrix.Col(features.NameBilling)
	for id, w := range map[string]float32{"p1": 1, "w1": 0} {
		if got := prepaid[s.Row(id)]; got != w {
			t.Errorf("billing of %s = %v, want %v", id, got, w)
		}
	}
	row := func(id, name string) float64 { return float64(s.Matrix.Col(name)[s.Row(id)]) }
	for _, v := range []struct {
		id, name string
		want     float64
	}{
		{"p8", "days_since_last_topup", 47}, {"p8", "topups_90d", 2}, {"p8", "topup_amount_90d", 25},
		{"p8", "monthly_revenue", 25.0 / 3}, {"p8", "revenue_12m", 25},
		{"w3", "past_churns", 1}, {"w3", "winbacks", 1}, {"w3", "days_since_winback", 121},
	} {
		if got := row(v.id, v.name); !closeTo(got, v.want) {
			t.Errorf("%s %s = %v, want %v", v.id, v.name, got, v.want)
		}
	}
}

func TestPrepaidLabelsWaitForTheInactivityDays(t *testing.T) {
	c, _ := chtest.NewDB(t)
	lifecycleData().insert(t, c)
	// 30 days of horizon have passed, but not the 60 that confirm a silence.
	s := computeAt(t, c, features.Spec{Inactivity: 60, DataEnd: day(t, "2024-08-01")})
	if s.Labeled {
		t.Fatalf("labels known at %s with prepaid customers, want unknown until the inactivity days pass", s.DataEnd.Format("2006-01-02"))
	}
	for i, l := range s.Matrix.Labels {
		if l == l {
			t.Errorf("label of %s = %v, want NaN", s.Matrix.IDs[i], l)
		}
	}
}

func TestLifecycleFeaturesIgnoreRowsDatedOnOrAfterAsOf(t *testing.T) {
	c, _ := chtest.NewDB(t)
	lifecycleData().insert(t, c)
	spec := features.Spec{Inactivity: 60, DataEnd: day(t, "2024-12-01")}
	before := computeAt(t, c, spec)
	featureData{
		usage:   []usageRow{{"p3", "2024-06-01", 5, 5, 1, 1, 0, 0, 0}, {"p8", "2024-06-02", 5, 5, 1, 1, 0, 0, 0}, {"p8", "2024-07-10", 5, 5, 1, 1, 0, 0, 0}},
		topups:  []topupRow{{"k9", "p8", "2024-06-01", 50}, {"k8", "p1", "2024-06-05", 30}},
		terms:   []termRow{{"w1", "2024-06-01", "2025-06-01"}},
		returns: []returnRow{{"w2", "2024-06-01"}, {"w1", "2024-06-03"}},
		churns:  []churnRow{{"w1", "2024-06-20", "price", "voluntary"}},
	}.insert(t, c)
	after := computeAt(t, c, spec)
	if !slices.Equal(before.Matrix.IDs, after.Matrix.IDs) {
		t.Fatalf("customers changed from %v to %v", before.Matrix.IDs, after.Matrix.IDs)
	}
	for j, name := range before.Matrix.Features {
		for i, id := range before.Matrix.IDs {
			b, a := before.Matrix.Cols[j][i], after.Matrix.Cols[j][i]
			if b != a && !(b != b && a != a) {
				t.Errorf("%s %s changed from %v to %v after rows dated on or after the as-of date", id, name, b, a)
			}
		}
	}
	// Labels may change: p8 is back and still active after the horizon, w1
	// churns in the window.
	for id, want := range map[string]float32{"p8": 0, "w1": 1} {
		if got := after.Matrix.Labels[after.Row(id)]; got != want {
			t.Errorf("label of %s after the late rows = %v, want %v", id, got, want)
		}
	}
}

func TestChurnedBetweenFollowsEachBillingsChurnDefinition(t *testing.T) {
	c, _ := chtest.NewDB(t)
	lifecycleData().insert(t, c)
	got, err := c.ChurnedBetween(context.Background(), day(t, "2024-06-01"), day(t, "2024-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"p2": "2024-06-10", "p6": "2024-05-15", "p8": "2024-04-15", "w3": "2024-06-15"}
	if len(got) != len(want) {
		t.Errorf("churned = %v, want %v", got, want)
	}
	for id, d := range want {
		if !got[id].Equal(day(t, d)) {
			t.Errorf("%s churned on %v, want %s", id, got[id], d)
		}
	}
}

func TestCustomerDatesGivesTheDepartureInForce(t *testing.T) {
	c, _ := chtest.NewDB(t)
	lifecycleData().insert(t, c)
	for id, want := range map[string]string{"w1": "", "w2": "2024-01-10", "w3": "2024-06-15", "p3": ""} {
		_, churned, err := c.CustomerDates(context.Background(), id, day(t, "2024-06-01"))
		if err != nil {
			t.Fatal(err)
		}
		if (want == "" && !churned.IsZero()) || (want != "" && !churned.Equal(day(t, want))) {
			t.Errorf("%s churned = %v, want %q (the first churn after the latest return before the as-of date; prepaid: zero)", id, churned, want)
		}
	}
}
