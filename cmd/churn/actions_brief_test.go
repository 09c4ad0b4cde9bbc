package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

func TestBriefReportHeadsWithTheSavedRateAndListsRatesByActionAndTierOnly(t *testing.T) {
	var outs []churn.Outcome
	add := func(n, churners int, grp string, reason string) {
		for i := range n {
			outs = append(outs, churn.Outcome{Cycle: "2025-06-01", CustomerID: fmt.Sprint(grp, reason, i), ActionID: fmt.Sprint(grp, reason, i),
				Group: grp, Kind: churn.ActionOffer, Tier: churn.TierC, Reason: reason, Probability: 0.3, Churned: i < churners,
				ChurnedAt: time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)})
		}
	}
	for _, reason := range []string{"price", "competitor"} {
		add(300, 60, churn.GroupTreated, reason) // 20%
		add(200, 60, churn.GroupControl, reason) // 30%
	}
	pol, err := loadPolicy("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	printBrief(&b, retention.Measure(outs), retention.Learn(outs, pol.PriorStrength).Rates(pol))
	out := b.String()
	first, _, _ := strings.Cut(out, "\n")
	if !strings.Contains(first, "over 1 cycles: +10.00 pts, 95% CI [+") {
		t.Errorf("first line %q: want the saved rate of every planned customer with its interval", first)
	}
	if strings.Contains(out, "competitor") || strings.Count(out, "  offer   C  ") != 1 {
		t.Errorf("want one rate row for offer x tier C and none by reason:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n > 12 {
		t.Errorf("%d lines; the brief report should stay short:\n%s", n, out)
	}
}
