package clickhouse_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/features"
)

// The golden snapshot is taken at asOf with a 30-day horizon, so labels
// cover churns in [2024-06-01, 2024-07-01).
const asOf = "2024-06-01"

// goldenData are the customers of the golden tests:
//
//	c1 a full history in every table, churns in the window (label 1)
//	c2 no usage, invoices, payments, tickets or plans (label 0)
//	c3 signs up on the as-of date (absent)
//	c4 churned before the as-of date (absent)
//	c5 a plan and no invoices; churns on as-of + horizon, outside the window (label 0)
//	c6 churns on the as-of date (present, label 1)
//	c7 churns on the last day of the window (label 1)
//	c8 no rows at all besides the customer (label 0)
//
// c1 also has a renewed contract term and a past churn it came back from
// (a win-back); c5's only term has ended.
func goldenData() featureData {
	return featureData{
		customers: []customerRow{
			{"c1", "2023-01-01", "north", "consumer", "cash"},
			{"c2", "2024-05-01", "south", "business", "credit_card"},
			{"c3", "2024-06-01", "zeta", "consumer", "cash"},
			{"c4", "2023-06-01", "east", "consumer", "cash"},
			{"c5", "2024-01-01", "north", "business", "direct_debit"},
			{"c6", "2023-02-01", "north", "consumer", "bank_transfer"},
			{"c7", "2023-03-01", "south", "consumer", "cash"},
			{"c8", "2024-01-15", "south", "consumer", "cash"},
		},
		usage: []usageRow{
			{"c1", "2024-05-31", 10, 100, 1, 2, 1, 0, 1}, // 1 day before as-of
			{"c1", "2024-05-26", 5, 0, 0, 1, 0, 2, 0},    // 6
			{"c1", "2024-05-10", 0, 50, 2, 0, 0, 0, 0},   // 22
			{"c1", "2024-04-20", 0, 0, 0, 0, 0, 0, 0},    // 42: a row without activity
			{"c1", "2024-03-15", 20, 50, 0, 4, 0, 5, 0},  // 78
			{"c1", "2023-09-01", 7, 0, 0, 1, 0, 0, 1},    // 274
			{"c1", "2023-05-01", 100, 0, 0, 9, 0, 0, 9},  // 397: outside the year
			{"c4", "2024-05-10", 50, 50, 5, 5, 0, 0, 0},  // churned customer
			{"c3", "2024-06-01", 50, 50, 5, 5, 0, 0, 0},  // new customer
			{"c6", "2024-05-31", 1, 1, 1, 1, 0, 0, 0},    // keeps a usage day before as-of
			{"c7", "2023-11-14", 3, 0, 0, 1, 0, 0, 0},    // 200: active only before the last 90 days
			{"c6", "2024-07-31", 1, 1, 1, 1, 0, 0, 0},    // the data's end: 2024-08-01
		},
		invoices: []invoiceRow{
			{"i0", "c1", "2023-05-01", "2023-05-15", 20},
			{"i1", "c1", "2024-03-01", "2024-03-15", 30},
			{"i2", "c1", "2024-04-01", "2024-04-15", 30},
			{"i3", "c1", "2024-05-01", "2024-05-15", 60},
			{"i4", "c1", "2024-05-25", "2024-06-08", 45},
		},
		payments: []paymentRow{
			{"i0", "c1", "2023-05-10", 20},
			{"i1", "c1", "2024-03-20", 30}, // late
			{"i2", "c1", "2024-04-10", 30},
			{"i3", "c1", "2024-05-20", 10}, // partial: missed
		},
		tickets: []ticketRow{
			{"t1", "c1", "2024-05-20 10:00:00", "complaint", "2024-05-21 10:00:00", 2},
			{"t2", "c1", "2024-05-30 10:00:00", "network", "", 0},
			{"t3", "c1", "2024-03-10 09:00:00", "billing", "2024-03-12 09:00:00", 4},
			{"t4", "c1", "2024-05-28 08:00:00", "device", "2024-06-03 08:00:00", 5}, // resolved after as-of
			{"t5", "c1", "2024-02-01 12:00:00", "service", "2024-02-02 12:00:00", 0},
			{"t6", "c1", "2024-04-25 12:00:00", "complaint", "2024-04-26 12:00:00", 3},
		},
		plans: []planRow{
			{"c1", "2023-01-01", "basic", "month_to_month", 20},
			{"c1", "2023-11-15", "plus", "month_to_month", 30},
			{"c1", "2024-04-01", "max", "one_year", 35},
			{"c5", "2024-01-01", "pro", "two_year", 50},
		},
		churns: []churnRow{
			{"c1", "2024-06-10", "price", "voluntary"},
			{"c4", "2024-05-20", "network", "voluntary"},
			{"c5", "2024-07-01", "moved", "voluntary"},
			{"c6", "2024-06-01", "other", "involuntary"},
			{"c7", "2024-06-30", "competitor", "voluntary"},
			{"c1", "2023-07-01", "price", "voluntary"},
		},
		returns: []returnRow{{"c1", "2023-07-20"}},
		terms: []termRow{
			{"c1", "2023-01-01", "2024-01-01"},
			{"c1", "2024-01-01", "2025-01-01"},
			{"c5", "2024-01-01", "2024-05-01"},
		},
	}
}

// lateData are rows dated on or after the as-of date: none may change a
// feature of the golden snapshot, only c2's label (it churns in the window).
func lateData() featureData {
	return featureData{
		customers: []customerRow{{"c9", "2024-06-01", "aaa", "consumer", "cash"}}, // would shift region indexes
		usage: []usageRow{
			{"c1", "2024-06-01", 1000, 1e5, 500, 900, 800, 700, 600},
			{"c1", "2024-06-05", 1000, 1e5, 500, 900, 800, 700, 600},
			{"c2", "2024-06-01", 1000, 1e5, 500, 900, 800, 700, 600},
			{"c8", "2024-06-02", 1000, 1e5, 500, 900, 800, 700, 600},
		},
		invoices: []invoiceRow{
			{"i5", "c1", "2024-06-01", "2024-06-15", 500},
			{"i6", "c2", "2024-06-10", "2024-06-24", 900},
		},
		payments: []paymentRow{
			{"i3", "c1", "2024-06-01", 50},
			{"i4", "c1", "2024-06-05", 45},
			{"i6", "c2", "2024-06-11", 900},
		},
		tickets: []ticketRow{
			{"t7", "c1", "2024-06-01 00:00:00", "complaint", "2024-06-01 01:00:00", 1},
			{"t8", "c2", "2024-06-02 00:00:00", "billing", "", 0},
		},
		plans: []planRow{
			{"c1", "2024-06-01", "promo", "two_year", 25},
			{"c2", "2024-06-03", "basic", "month_to_month", 10},
		},
		churns: []churnRow{
			{"c2", "2024-06-15", "price", "voluntary"}, // in the window: label 0 -> 1
			{"c8", "2024-07-20", "price", "voluntary"}, // after the window
		},
		returns: []returnRow{{"c4", "2024-06-01"}}, // c4 comes back on the as-of date: still absent
		topups:  []topupRow{{"k1", "c1", "2024-06-01", 20}, {"k2", "c2", "2024-06-20", 10}},
		terms:   []termRow{{"c5", "2024-06-01", "2025-06-01"}, {"c2", "2024-06-10", "2026-06-10"}},
	}
}

func computeAt(t *testing.T, c *clickhouse.Client, spec features.Spec) *features.Snapshot {
	t.Helper()
	if spec.AsOf.IsZero() {
		spec.AsOf = day(t, asOf)
	}
	s, err := features.Compute(context.Background(), c, spec)
	if err != nil {
		t.Fatalf("compute snapshot: %v", err)
	}
	return s
}

func TestSnapshotHoldsActiveCustomersWithLabels(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	s := computeAt(t, c, features.Spec{})

	wantIDs := []string{"c1", "c2", "c5", "c6", "c7", "c8"}
	if !slices.Equal(s.Matrix.IDs, wantIDs) {
		t.Fatalf("customers = %v, want %v (signed up before and not churned before the as-of date)", s.Matrix.IDs, wantIDs)
	}
	wantLabels := []float32{1, 0, 0, 1, 1, 0}
	if !slices.Equal(s.Matrix.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", s.Matrix.Labels, wantLabels)
	}
	if !s.Labeled || !s.DataEnd.Equal(day(t, "2024-08-01")) {
		t.Errorf("labeled = %v with data end %s, want true with 2024-08-01", s.Labeled, s.DataEnd)
	}
	if r := s.Features[slices.Index(s.Matrix.Features, features.NameRegion)]; !slices.Equal(r.Categories, []string{"east", "north", "south"}) {
		t.Errorf("region categories = %v, want the regions of customers signed up before the as-of date", r.Categories)
	}
	if err := s.Matrix.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotLabelsAreUnknownBeforeTheHorizonPasses(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	s := computeAt(t, c, features.Spec{AsOf: day(t, "2024-07-15")})
	if s.Labeled {
		t.Fatalf("labeled, but 2024-07-15 + 30 days is after the data's end %s", s.DataEnd)
	}
	for i, l := range s.Matrix.Labels {
		if !math.IsNaN(float64(l)) {
			t.Errorf("label of %s = %v, want NaN", s.Matrix.IDs[i], l)
		}
	}
}

// nan marks a value that must be missing in golden tables.
var nan = math.NaN()

func TestSnapshotMatchesHandComputedValues(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	s := computeAt(t, c, features.Spec{})

	// c1: every feature family from rows written out above. c5: the fee
	// stands in for revenue without invoices. c2: an empty history.
	golden := map[string]map[string]float64{
		"c1": {
			"days_since_last_usage": 1, "active_days_365d": 5, "days_since_last_payment": 12, "payments_365d": 3, "paid_amount_365d": 70,
			"voice_minutes_7d": 15, "voice_minutes_30d": 15, "voice_minutes_90d": 35,
			"data_mb_7d": 100, "data_mb_30d": 150, "data_mb_90d": 200, "sms_30d": 3, "calls_30d": 3,
			"active_days_30d": 3, "active_days_90d": 4,
			"voice_trend_30d": 1.5, "data_trend_30d": 6, "active_days_trend_30d": 6,
			"dropped_calls_30d": 1, "dropped_call_rate_30d": 1.0 / 3, "dropped_call_rate_90d": 1.0 / 7,
			"intl_share_90d": 1.0 / 35, "roaming_share_90d": 0.2,
			"avg_invoice_6m": 41.25, "last_invoice_amount": 45, "bill_shock": 1.125, "outstanding_balance": 95,
			"late_payments_12m": 1, "missed_payments_12m": 1, "days_past_due": 17,
			"billing_tickets_30d": 0, "billing_tickets_90d": 1, "network_tickets_30d": 1, "network_tickets_90d": 1,
			"device_tickets_30d": 1, "device_tickets_90d": 1, "service_tickets_30d": 0, "service_tickets_90d": 0,
			"complaint_tickets_30d": 1, "complaint_tickets_90d": 2,
			"unresolved_tickets": 2, "last_satisfaction": 2, "days_since_last_complaint": 12,
			"contract": 1, "monthly_fee": 35, "fee_change_last": 5, "days_since_plan_change": 61, "plan_changes_12m": 2,
			"tenure_days": 517, "segment": 0, "region": 1, "payment_method": 3,
			"revenue_12m": 165, "monthly_revenue": 45,
			"clv":        0.35 * 45 * 0.985 / (1.01 - 0.985),
			"value_tier": 1, // B
			"billing":    0, "days_since_last_topup": nan, "topups_90d": 0, "topup_amount_90d": 0, "topup_trend_30d": nan,
			"term_days_left": 214, "days_since_term_end": nan, "out_of_contract": 0, "contract_renewals": 1,
			"past_churns": 1, "winbacks": 1, "days_since_winback": 317,
			// weekly slopes: voice 15 minutes (10 + 5 in the newest week, wk 3.5), data 100 (wk 3.5) + 50 (wk 0.5)
			"voice_slope_8w": 52.5 * 8 / (42 * 15), "data_slope_8w": 375.0 * 8 / (42 * 150),
			// last 14 days: voice 15, data 100; the 76 days before: voice 20, data 100
			"usage_level_14d": (15.0/20 + 100.0/100) * 76 / 28,
		},
		"c5": {
			"contract": 2, "monthly_fee": 50, "fee_change_last": 0, "days_since_plan_change": 152, "plan_changes_12m": 1,
			"tenure_days": 152, "segment": 1, "region": 1, "payment_method": 0,
			"revenue_12m": 0, "monthly_revenue": 50,
			"clv":            0.35 * 50 * 0.992 / (1.01 - 0.992),
			"value_tier":     0, // A: the top customer
			"term_days_left": nan, "days_since_term_end": 31, "out_of_contract": 1, "contract_renewals": 0,
		},
		"c7": {"days_since_last_usage": 200, "active_days_365d": 1, "active_days_90d": 0, "voice_minutes_90d": 0, "voice_trend_30d": nan},
		"c2": {
			"days_since_last_usage": nan, "active_days_365d": 0, "days_since_last_payment": nan, "payments_365d": 0, "paid_amount_365d": 0,
			"voice_minutes_7d": 0, "voice_minutes_30d": 0, "voice_minutes_90d": 0,
			"data_mb_7d": 0, "data_mb_30d": 0, "data_mb_90d": 0, "sms_30d": 0, "calls_30d": 0,
			"active_days_30d": 0, "active_days_90d": 0,
			"voice_trend_30d": nan, "data_trend_30d": nan, "active_days_trend_30d": nan,
			"dropped_calls_30d": 0, "dropped_call_rate_30d": nan, "dropped_call_rate_90d": nan,
			"intl_share_90d": nan, "roaming_share_90d": nan,
			"avg_invoice_6m": nan, "last_invoice_amount": nan, "bill_shock": nan, "outstanding_balance": 0,
			"late_payments_12m": 0, "missed_payments_12m": 0, "days_past_due": 0,
			"billing_tickets_30d": 0, "billing_tickets_90d": 0, "network_tickets_30d": 0, "network_tickets_90d": 0,
			"device_tickets_30d": 0, "device_tickets_90d": 0, "service_tickets_30d": 0, "service_tickets_90d": 0,
			"complaint_tickets_30d": 0, "complaint_tickets_90d": 0,
			"unresolved_tickets": 0, "last_satisfaction": nan, "days_since_last_complaint": nan,
			"contract": nan, "monthly_fee": nan, "fee_change_last": nan, "days_since_plan_change": nan, "plan_changes_12m": 0,
			"tenure_days": 31, "segment": 1, "region": 2, "payment_method": 1,
			"revenue_12m": 0, "monthly_revenue": 0, "clv": 0, "value_tier": 2, // C
			"billing": 0, "days_since_last_topup": nan, "topups_90d": 0, "topup_amount_90d": 0, "topup_trend_30d": nan,
			"term_days_left": nan, "days_since_term_end": nan, "out_of_contract": nan, "contract_renewals": 0,
			"past_churns": 0, "winbacks": 0, "days_since_winback": nan,
			"voice_slope_8w": nan, "data_slope_8w": nan, "usage_level_14d": nan,
		},
	}
	if got := len(golden["c1"]); got != len(features.Registry()) {
		t.Fatalf("the c1 golden row has %d values, the registry %d features: cover every feature", got, len(features.Registry()))
	}
	for id, want := range golden {
		i := s.Row(id)
		if i < 0 {
			t.Fatalf("%s is not in the snapshot", id)
		}
		for name, w := range want {
			col := s.Matrix.Col(name)
			if col == nil {
				t.Fatalf("no feature %s in the snapshot", name)
			}
			got := float64(col[i])
			if !closeTo(got, w) {
				t.Errorf("%s %s = %v, want %v", id, name, got, w)
			}
		}
	}
}

// closeTo compares a float32 result with an exact expectation; NaN equals NaN.
func closeTo(got, want float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-5*math.Max(1, math.Abs(want))
}

func TestSnapshotIgnoresRowsDatedOnOrAfterAsOf(t *testing.T) {
	_, before, after := goldenBeforeAndAfter(t, lateData())
	if !slices.EqualFunc(before.Features, after.Features, featureEqual) {
		t.Errorf("feature definitions (categories) changed")
	}
	sameValues(t, before, after, "after rows dated on or after the as-of date")
	for i, id := range before.Matrix.IDs {
		b, a := before.Matrix.Labels[i], after.Matrix.Labels[i]
		want := b
		if id == "c2" {
			want = 1 // churned in the window
		}
		if a != want {
			t.Errorf("label of %s = %v after the late rows, want %v (was %v)", id, a, want, b)
		}
	}
}

// oldData are billing and support rows dated more than features.HistoryDays
// (730) days before the as-of date, 2022-06-01 at the latest (the window
// starts on 2022-06-02), and a payment made inside the window for an
// invoice issued before it. Read whole, they would raise c1's balance by
// 400 and its days past due to 868, count an old unresolved ticket, and
// give c2 (an empty history) a last invoice, a last payment, a rating and
// a complaint.
func oldData() featureData {
	return featureData{
		invoices: []invoiceRow{
			{"o1", "c1", "2022-01-01", "2022-01-15", 500},
			{"o2", "c2", "2022-06-01", "2022-06-15", 70},
		},
		payments: []paymentRow{
			{"o1", "c1", "2023-06-01", 100}, // inside the window, for an invoice before it: no credit
			{"o2", "c2", "2022-06-01", 70},
		},
		tickets: []ticketRow{
			{"o3", "c1", "2021-12-01 10:00:00", "complaint", "", 0},
			{"o4", "c2", "2022-06-01 23:59:59", "complaint", "2022-06-03 10:00:00", 5},
		},
	}
}

func TestSnapshotReadsTwoYearsOfBillingAndSupportHistory(t *testing.T) {
	c, before, after := goldenBeforeAndAfter(t, oldData())
	sameValues(t, before, after, fmt.Sprintf("after rows dated before the %d-day window", features.HistoryDays))

	// The window's first day counts: c8 (no other rows) has a ticket
	// opened on 2022-06-02 and an invoice of that day, unpaid; and an
	// invoice not yet due, paid in part, which its balance counts too.
	featureData{
		tickets:  []ticketRow{{"o5", "c8", "2022-06-02 00:00:00", "service", "", 0}},
		invoices: []invoiceRow{{"o6", "c8", "2022-06-02", "2022-06-16", 25}, {"o7", "c8", "2024-05-20", "2024-06-10", 40}},
		payments: []paymentRow{{"o7", "c8", "2024-05-25", 15}},
	}.insert(t, c)
	s := computeAt(t, c, features.Spec{DataEnd: day(t, "2024-08-01")})
	i := s.Row("c8")
	for name, want := range map[string]float64{
		"unresolved_tickets": 1, "last_invoice_amount": 40, "outstanding_balance": 50, "days_past_due": 716,
	} {
		if got := float64(s.Matrix.Col(name)[i]); !closeTo(got, want) {
			t.Errorf("c8 %s = %v with rows of the window's first day, want %v", name, got, want)
		}
	}
}

// goldenBeforeAndAfter takes the golden snapshot, adds more rows and takes
// it again; the data's end is fixed so that only the rows can differ, and the
// customers must not.
func goldenBeforeAndAfter(t *testing.T, more featureData) (*clickhouse.Client, *features.Snapshot, *features.Snapshot) {
	t.Helper()
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	spec := features.Spec{DataEnd: day(t, "2024-08-01")}
	before := computeAt(t, c, spec)
	more.insert(t, c)
	after := computeAt(t, c, spec)
	if !slices.Equal(before.Matrix.IDs, after.Matrix.IDs) {
		t.Fatalf("customers changed from %v to %v", before.Matrix.IDs, after.Matrix.IDs)
	}
	return c, before, after
}

// sameValues fails for every feature value of the same customers that
// differs, bit for bit (NaN equals NaN), between two snapshots.
func sameValues(t *testing.T, before, after *features.Snapshot, when string) {
	t.Helper()
	for j, name := range before.Matrix.Features {
		for i, id := range before.Matrix.IDs {
			b, a := before.Matrix.Cols[j][i], after.Matrix.Cols[j][i]
			if math.Float32bits(b) != math.Float32bits(a) && !(b != b && a != a) {
				t.Errorf("%s %s changed from %v to %v %s", id, name, b, a, when)
			}
		}
	}
}

func featureEqual(a, b churn.Feature) bool {
	return a.Name == b.Name && slices.Equal(a.Categories, b.Categories)
}

func TestSnapshotEmptyHistoryIsMissingOnlyWhereDocumented(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	s := computeAt(t, c, features.Spec{})
	i := s.Row("c8") // a customer row and nothing else
	for j, f := range s.Features {
		v := s.Matrix.Cols[j][i]
		isNaN := v != v
		if isNaN && f.Missing == "" {
			t.Errorf("%s is NaN for an empty history but its Missing note says it never is", f.Name)
		}
		if math.IsInf(float64(v), 0) {
			t.Errorf("%s is %v for an empty history", f.Name, v)
		}
	}
}

func TestSnapshotEncodesUnknownCategoriesAsNaN(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	// A model trained when only "north" existed: other regions are unknown.
	fs := features.WithRegions(features.Registry(), []string{"north"})
	s := computeAt(t, c, features.Spec{Features: fs})
	region := s.Matrix.Col(features.NameRegion)
	for id, want := range map[string]float64{"c1": 0, "c2": nan, "c5": 0} {
		if got := float64(region[s.Row(id)]); !closeTo(got, want) {
			t.Errorf("region of %s = %v, want %v", id, got, want)
		}
	}
}

func TestUsageRangeOfEmptyTableIsNotFound(t *testing.T) {
	c, _ := chtest.NewDB(t)
	if _, _, err := c.UsageRange(context.Background()); churn.ErrorKind(err) != churn.KindNotFound {
		t.Fatalf("UsageRange on an empty table: %v, want a not-found error", err)
	}
	goldenData().insert(t, c)
	first, last, err := c.UsageRange(context.Background())
	if err != nil || !first.Equal(day(t, "2023-05-01")) || !last.Equal(day(t, "2024-07-31")) {
		t.Fatalf("UsageRange = %s, %s, %v; want 2023-05-01, 2024-07-31", first, last, err)
	}
}

func TestCustomerDatesSaysWhyACustomerIsAbsent(t *testing.T) {
	c, _ := chtest.NewDB(t)
	goldenData().insert(t, c)
	ctx := context.Background()
	signup, churned, err := c.CustomerDates(ctx, "c4", day(t, asOf))
	if err != nil || !signup.Equal(day(t, "2023-06-01")) || !churned.Equal(day(t, "2024-05-20")) {
		t.Errorf("CustomerDates(c4) = %s, %s, %v", signup, churned, err)
	}
	if _, churned, err := c.CustomerDates(ctx, "c2", day(t, asOf)); err != nil || !churned.IsZero() {
		t.Errorf("CustomerDates(c2) churned = %s, %v; want zero", churned, err)
	}
	_, _, err = c.CustomerDates(ctx, "nobody' OR 1=1 --", day(t, asOf))
	if churn.ErrorKind(err) != churn.KindNotFound {
		t.Errorf("unknown customer: %v, want not found", err)
	}
}

func TestQueryMatrixRejectsNonFloatColumns(t *testing.T) {
	c, _ := chtest.NewDB(t)
	_, err := c.QueryMatrix(context.Background(), "SELECT 'a' AS id, toUInt8(1) AS x", nil, nil)
	if err == nil {
		t.Fatal("a UInt8 feature column was accepted")
	}
}

var _ features.Store = (*clickhouse.Client)(nil)
