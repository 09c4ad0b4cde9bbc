package dataset

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

const operatorVocabulary = `
customers:
  segment:
    consumer: [residential]
    business: [sme, corporate]
  payment_method:
    credit_card: [card, wallet]
    cash: [cash]
`

func TestShippedVocabularyIsTheDefault(t *testing.T) {
	b, err := os.ReadFile("../docs/vocabulary.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVocabulary("docs/vocabulary.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range churn.EnumColumns() {
		if got := v.Values(c.Key()); !slices.Equal(got, c.Categories) {
			t.Errorf("%s: shipped values %v, default %v", c.Key(), got, c.Categories)
		}
		if _, ok := v.Terms[c.Key()]; !ok {
			t.Errorf("docs/vocabulary.yaml does not list %s", c.Key())
		}
	}
}

func TestVocabularyMapsOperatorValuesToCategories(t *testing.T) {
	v, err := ParseVocabulary("op.yaml", []byte(operatorVocabulary))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, value, want string }{
		{"customers.segment", "sme", "business"},
		{"customers.segment", "residential", "consumer"},
		{"customers.payment_method", "wallet", "credit_card"},
		{"plan_changes.contract", "one_year", "one_year"}, // left out: defaults
	} {
		if got, ok := v.Category(c.key, c.value); !ok || got != c.want {
			t.Errorf("%s %q: category %q, %v; want %q", c.key, c.value, got, ok, c.want)
		}
	}
	if _, ok := v.Category("customers.segment", "consumer"); ok {
		t.Error("a listed column still accepts a default value it does not list")
	}
}

func TestVocabularyRejectsUnknownColumnsCategoriesAndDuplicates(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"column", "customers:\n  region:\n    north: [n]\n", "customers.region is not an enumerated contract column"},
		{"category", "customers:\n  segment:\n    sme: [sme]\n", `customers.segment: category "sme" is not one of consumer, business`},
		{"duplicate", "customers:\n  segment:\n    consumer: [x]\n    business: [x]\n", `"x" is listed under both consumer and business`},
		{"empty", "customers:\n  segment:\n    consumer: []\n", "customers.segment: no values"},
		{"yaml", "customers: [\n", "bad.yaml"},
	} {
		_, err := ParseVocabulary("bad.yaml", []byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%s: error %v, want it to name bad.yaml and say %q", c.name, err, c.want)
		}
	}
}

func TestImportRefusesValueOutsideVocabularyNamingTheFile(t *testing.T) {
	v, err := ParseVocabulary("/etc/churn/vocabulary.yaml", []byte(operatorVocabulary))
	if err != nil {
		t.Fatal(err)
	}
	tb := mustTable(t, "customers").WithVocabulary(v)
	in := "customer_id,signup_date,region,segment,payment_method\n" +
		"C1,2024-01-02,north,sme,wallet\n" +
		"C2,2024-01-02,north,consumer,cash\n"
	_, err = ReadCSV(context.Background(), strings.NewReader(in), tb, ReadOptions{Name: "customers.csv"})
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("error %v, want problems", err)
	}
	want := `customers.csv:3: segment: "consumer" is not one of residential, sme, corporate; add it to /etc/churn/vocabulary.yaml`
	if got := probs.Lines(); len(got) != 1 || got[0] != want {
		t.Fatalf("problems %q, want exactly %q", got, want)
	}

	ok := "customer_id,signup_date,region,segment,payment_method\nC1,2024-01-02,north,sme,wallet\n"
	cols, err := ReadCSV(context.Background(), strings.NewReader(ok), tb, ReadOptions{Name: "customers.csv"})
	if err != nil || cols.Value(0, "segment") != "sme" {
		t.Fatalf("operator values refused: %v", err)
	}
}

func TestDefaultVocabularyErrorSaysWhereToAddAValue(t *testing.T) {
	tb := mustTable(t, "support_tickets").WithVocabulary(churn.Vocabulary{})
	in := "ticket_id,customer_id,opened_at,category,resolved_at,satisfaction\nT1,C1,2024-01-02 10:00:00,roaming,,\n"
	_, err := ReadCSV(context.Background(), strings.NewReader(in), tb, ReadOptions{Name: "t.csv"})
	if err == nil || !strings.Contains(err.Error(), `t.csv:2: category: "roaming" is not one of billing, network, device, service, complaint; add it to `+DefaultVocabularyHint) {
		t.Fatalf("error %v", err)
	}
}
