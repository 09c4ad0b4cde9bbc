package clickhouse_test

import (
	"math"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset"
	"github.com/telcoretain/churn/features"
)

// operatorWords renames every enumerated value of the golden data into an
// operator's own words, which operatorVocabulary maps back.
var operatorWords = map[string]string{
	"consumer": "residential", "business": "sme",
	"cash": "wallet", "credit_card": "card", "direct_debit": "dd", "bank_transfer": "giro",
	"month_to_month": "m2m", "one_year": "12m", "two_year": "24m",
	"network": "roaming", "complaint": "formal_complaint",
}

const operatorVocabulary = `
customers:
  segment:
    consumer: [residential]
    business: [sme]
  payment_method:
    cash: [wallet]
    credit_card: [card]
    direct_debit: [dd]
    bank_transfer: [giro]
plan_changes:
  contract:
    month_to_month: [m2m]
    one_year: [12m]
    two_year: [24m]
support_tickets:
  category:
    billing: [billing]
    network: [roaming, network]
    device: [device]
    service: [service]
    complaint: [formal_complaint]
`

func inOperatorWords(d featureData) featureData {
	w := func(s string) string {
		if v, ok := operatorWords[s]; ok {
			return v
		}
		return s
	}
	out := d
	out.customers = nil
	for _, r := range d.customers {
		r.segment, r.payment = w(r.segment), w(r.payment)
		out.customers = append(out.customers, r)
	}
	out.plans = nil
	for _, r := range d.plans {
		r.contract = w(r.contract)
		out.plans = append(out.plans, r)
	}
	out.tickets = nil
	for _, r := range d.tickets {
		r.category = w(r.category)
		out.tickets = append(out.tickets, r)
	}
	return out
}

func TestOperatorVocabularyGivesTheSameFeaturesAsTheDefaultWords(t *testing.T) {
	voc, err := dataset.ParseVocabulary("operator.yaml", []byte(operatorVocabulary))
	if err != nil {
		t.Fatal(err)
	}
	std, _ := chtest.NewDB(t)
	goldenData().insert(t, std)
	op, _ := chtest.NewDB(t)
	inOperatorWords(goldenData()).insert(t, op)

	want := computeAt(t, std, features.Spec{})
	got := computeAt(t, op, features.Spec{Operator: features.Operator{Vocabulary: voc}})
	assertSameMatrix(t, want.Matrix, got.Matrix)

	// Without the vocabulary the operator's words have no category: the
	// categorical features are missing and the renamed tickets not counted.
	raw := computeAt(t, op, features.Spec{})
	row := raw.Row("c1")
	for _, name := range []string{"segment", "payment_method", "contract"} {
		if v := raw.Matrix.Col(name)[row]; !math.IsNaN(float64(v)) {
			t.Errorf("%s of c1 without the vocabulary = %v, want NaN", name, v)
		}
	}
	if v := raw.Matrix.Col("network_tickets_30d")[row]; v != 0 {
		t.Errorf("roaming tickets counted as network without the vocabulary: %v", v)
	}
	if v := got.Matrix.Col("network_tickets_30d")[got.Row("c1")]; v != 1 {
		t.Errorf("network_tickets_30d of c1 with the vocabulary = %v, want 1 (its roaming ticket)", v)
	}
}

func assertSameMatrix(t *testing.T, want, got *churn.Matrix) {
	t.Helper()
	if len(want.IDs) != len(got.IDs) || len(want.Features) != len(got.Features) {
		t.Fatalf("matrix %dx%d, want %dx%d", len(got.IDs), len(got.Features), len(want.IDs), len(want.Features))
	}
	for j, name := range want.Features {
		for i, id := range want.IDs {
			a, b := want.Cols[j][i], got.Cols[j][i]
			if a != b && !(math.IsNaN(float64(a)) && math.IsNaN(float64(b))) {
				t.Errorf("%s of %s = %v, want %v", name, id, b, a)
			}
		}
	}
}
