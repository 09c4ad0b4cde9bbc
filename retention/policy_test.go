package retention

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/telcoretain/churn"
)

func TestDefaultPolicyIsValidAndTreatsCustomersByValue(t *testing.T) {
	p, err := LoadFile("../policies/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.ControlShare != 0.10 || p.Budget <= 0 || len(p.Rules) < 5 || p.Digest == "" || p.ArchiveAfterDays != DefaultArchiveAfterDays {
		t.Fatalf("policy %+v", p)
	}
	cases := []struct {
		tier   churn.ValueTier
		band   churn.RiskBand
		reason string
		want   churn.ActionKind
	}{
		{churn.TierA, churn.RiskHigh, ReasonPrice, churn.ActionSpecialistCall},
		{churn.TierA, churn.RiskMedium, ReasonCompetitor, churn.ActionSpecialistCall},
		{churn.TierB, churn.RiskHigh, ReasonNetwork, churn.ActionOffer},
		{churn.TierB, churn.RiskMedium, ReasonPrice, churn.ActionEmail},
		{churn.TierC, churn.RiskHigh, ReasonService, churn.ActionOffer},
		{churn.TierC, churn.RiskMedium, ReasonService, churn.ActionSMS},
		{churn.TierA, churn.RiskLow, ReasonPrice, churn.ActionNone},
		{churn.TierC, churn.RiskLow, ReasonOther, churn.ActionNone},
	}
	for _, c := range cases {
		r := p.Match(c.tier, c.band, c.reason)
		if r == nil || r.Kind != c.want {
			t.Errorf("%s/%s/%s: rule %+v, want %s", c.tier, c.band, c.reason, r, c.want)
		}
	}
}

func TestPolicyMatchTakesTheFirstRuleThatApplies(t *testing.T) {
	p, err := Parse("t.yaml", []byte(`
budget_per_cycle: 100
actions:
  sms: {channel: sms, cost: 1, save_rate: 0.1}
  specialist_call: {channel: phone, cost: 10, save_rate: 0.3}
rules:
  - {name: a-price, tiers: [A], reasons: [price], action: specialist_call, priority: 1}
  - {name: high, bands: [high], action: sms, offer: x, cost: 2}
  - {name: rest, action: none}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tier   churn.ValueTier
		band   churn.RiskBand
		reason string
		rule   string
	}{
		{"A", "high", "price", "a-price"},
		{"A", "low", "price", "a-price"},
		{"A", "high", "network", "high"},
		{"C", "high", "price", "high"},
		{"B", "medium", "service", "rest"},
	}
	for _, c := range cases {
		if r := p.Match(c.tier, c.band, c.reason); r == nil || r.Name != c.rule {
			t.Errorf("%s/%s/%s matched %+v, want %s", c.tier, c.band, c.reason, r, c.rule)
		}
	}
	high := p.Match("C", "high", "price")
	if high.Cost != 2 || high.SaveRate != 0.1 || high.Channel != "sms" || high.Priority != DefaultPriority {
		t.Fatalf("overrides and catalogue defaults: %+v", high)
	}
	if p.ControlShare != DefaultControlShare || p.Lease != DefaultLease || p.CooldownDays != DefaultCooldownDays {
		t.Fatalf("defaults: %+v", p)
	}
}

func TestPolicyProblemsNameTheLineAndField(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string // "line N: field" prefixes, in order
	}{
		{"syntax", "budget_per_cycle: [1,\nrules: x\n", []string{"line "}},
		{"unknown setting", "budget_per_cycle: 10\nbugdet: 3\nrules: []\n", []string{"line 2"}},
		{"wrong type", "budget_per_cycle: lots\n", []string{"line 1"}},
		{"missing budget and rules", "control_share: 0.1\n", []string{"budget_per_cycle", "rules"}},
		{"bad values", `budget_per_cycle: 10
control_share: 0.9
actions:
  sms: {channel: pigeon, cost: -1, save_rate: 2}
rules:
  - name: r1
    tiers: [D]
    action: sms
  - name: r1
    bands: [hot]
    reasons: [weather]
    action: fax
`, []string{"line 2: control_share", "line 4: actions.sms.channel", "line 4: actions.sms.cost", "line 4: actions.sms.save_rate",
			"line 7: rules[0].tiers[0]", "line 9: rules[1].name", "line 10: rules[1].bands[0]", "line 11: rules[1].reasons[0]", "line 12: rules[1].action"}},
		{"archive days out of range", "budget_per_cycle: 10\narchive_after_days: -1\nrules:\n  - {name: x, action: none}\n",
			[]string{"line 2: archive_after_days: -1 is out of range"}},
		{"action without catalogue entry", "budget_per_cycle: 10\nrules:\n  - name: x\n    action: offer\n", []string{"line 4: rules[0].action"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(c.doc))
			if churn.ErrorKind(err) != churn.KindInvalid {
				t.Fatalf("err %v, want invalid", err)
			}
			probs := Problems(err)
			if len(probs) != len(c.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(probs), len(c.want), err)
			}
			for i, w := range c.want {
				if got := probs[i].String(); !strings.HasPrefix(got, w) {
					t.Errorf("problem %d: %q, want prefix %q", i, got, w)
				}
			}
			if !strings.Contains(err.Error(), "p.yaml:") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestLoadFileOfAMissingFileIsInvalid(t *testing.T) {
	_, err := LoadFile(t.TempDir() + "/nope.yaml")
	if churn.ErrorKind(err) != churn.KindInvalid || churn.ErrorField(err) == "" {
		t.Fatalf("err %v", err)
	}
}

func TestEveryRegistryFeatureHasAReasonOnPurpose(t *testing.T) {
	b, err := os.ReadFile("../features/registry.go")
	if err != nil {
		t.Skip(err)
	}
	// Profile and value features say who the customer is, not why they
	// leave: they are the only ones meant to be "other".
	other := []string{"segment", "region", "payment_method", "revenue_12m", "monthly_revenue", "lifetime_value", "value_tier"}
	for _, line := range strings.Split(string(b), "\n") {
		_, rest, ok := strings.Cut(line, `{Name: "`)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, `"`)
		if ReasonOf(name) == ReasonOther && !slices.Contains(other, name) {
			t.Errorf("feature %s maps to no reason", name)
		}
	}
}
