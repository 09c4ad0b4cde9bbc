package clickhouse

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/telcoretain/churn"
)

func TestReasonDecoderAgreesWithEncodingJSON(t *testing.T) {
	sets := [][]churn.Reason{
		nil,
		{},
		{{Feature: "contract", Value: 0, Contribution: 0.4180903136730194, Text: "Contract type of the plan in force: month_to_month"}},
		{{Feature: "data_mb_7d", Value: math.NaN(), Contribution: -1e-9, Text: "Mobile data: none"},
			{Feature: "x", Value: -2.5e21, Contribution: 3, Text: ""}},
		{{Feature: "q", Value: 1, Contribution: 1, Text: `quoted "text" with \ and <tags> & é`}},
	}
	for _, rs := range sets {
		b, err := json.Marshal(reasonsJSON(rs))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseReasons(string(b))
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		var want []reason
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d reasons, want %d", b, len(got), len(want))
		}
		for i, w := range want {
			g := got[i]
			wv := math.NaN()
			if w.Value != nil {
				wv = *w.Value
			}
			if g.Feature != w.Feature || g.Text != w.Text || g.Contribution != w.Contribution ||
				(g.Value != wv && !(math.IsNaN(g.Value) && math.IsNaN(wv))) {
				t.Errorf("%s: reason %d = %+v, want %+v (value %v)", b, i, g, w, wv)
			}
		}
	}
}

func TestReasonDecoderLeavesOtherShapesToEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`[{"text":"t","feature":"f","contribution":1,"value":2}]`, // other key order
		`[ {"feature":"f","value":2,"contribution":1,"text":"t"} ]`,
		`[{"feature":"f","value":2,"contribution":1,"text":"t"}]trailing`,
		`[{"feature":"f","value":"2","contribution":1,"text":"t"}]`,
	} {
		if _, ok := decodeReasons(s); ok {
			t.Errorf("%s: decoded by hand, want it left to encoding/json", s)
		}
	}
	got, err := parseReasons(`[{"text":"t","feature":"f","contribution":1,"value":2}]`)
	if err != nil || len(got) != 1 || got[0].Feature != "f" || got[0].Value != 2 || got[0].Text != "t" {
		t.Errorf("other key order: %+v, %v", got, err)
	}
	if _, err := parseReasons(`[{"feature":`); err == nil {
		t.Error("truncated JSON: no error")
	}
}
