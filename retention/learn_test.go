package retention

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/telcoretain/churn"
)

// outcomes makes n treated and m control outcomes of a segment, of which
// the first kt and kc churned; every probability is p.
func outcomes(kind churn.ActionKind, tier churn.ValueTier, reason string, n, kt, m, kc int, p float64) []churn.Outcome {
	var out []churn.Outcome
	for i := range n {
		o := churn.Outcome{CustomerID: fmt.Sprintf("t%s%s%d", tier, reason, i), Group: churn.GroupTreated, Kind: kind, Tier: tier,
			Reason: reason, Probability: p, Churned: i < kt, Outcome: OutcomeDeclined}
		if i%2 == 0 {
			o.Outcome = OutcomeAccepted
		}
		out = append(out, o)
	}
	for i := range m {
		out = append(out, churn.Outcome{CustomerID: fmt.Sprintf("c%s%s%d", tier, reason, i), Group: churn.GroupControl,
			Kind: kind, Tier: tier, Reason: reason, Probability: p, Churned: i < kc})
	}
	return out
}

func TestPosteriorWithoutEvidenceIsThePrior(t *testing.T) {
	e := Posterior(0.3, 20, 0, 0)
	if math.Abs(e.Mean-0.3) > 1e-12 || !(e.Low < 0.3 && e.High > 0.3) {
		t.Fatalf("%+v", e)
	}
	// Beta(6, 14): 95% interval by numerical integration of its density.
	if math.Abs(e.Low-0.12576) > 1e-4 || math.Abs(e.High-0.51203) > 1e-4 {
		t.Fatalf("interval [%g, %g], want [0.12576, 0.51203]", e.Low, e.High)
	}
}

func TestLearnedSaveRateMovesFromThePriorTowardTheOutcomes(t *testing.T) {
	// Control churns 40%, treated 10%: three in four would-be churners kept.
	outs := outcomes(churn.ActionOffer, "B", "price", 1000, 100, 1000, 400, 0.4)
	l := Learn(outs, 20)
	_, ev, ok := l.Segment(churn.ActionOffer, "B", "price")
	if !ok || ev.Treated != 1000 || ev.Control != 1000 || math.Abs(ev.WouldChurn-400) > 1 {
		t.Fatalf("evidence %+v", ev)
	}
	save := l.Save(ev, 0.15)
	if math.Abs(save.Mean-0.74) > 0.02 || !(save.Low < save.Mean && save.Mean < save.High) || save.High-save.Low > 0.1 {
		t.Fatalf("save %+v, want about 0.74 with a narrow interval", save)
	}
	acc := l.Accept(ev, 0.2)
	if math.Abs(acc.Mean-0.5) > 0.01 || acc.N != 1000 {
		t.Fatalf("accept %+v", acc)
	}
	// Few outcomes: the prior still weighs.
	few := Learn(outcomes(churn.ActionOffer, "B", "", 20, 2, 20, 8, 0.4), 20)
	_, ev, _ = few.Segment(churn.ActionOffer, "B", "")
	if m := few.Save(ev, 0.15).Mean; !(m > 0.2 && m < 0.6) {
		t.Fatalf("with little evidence the save rate %g should lie between prior 0.15 and data 0.75", m)
	}
}

func TestLearnedSaveRateOfActionsThatMakeCustomersLeaveIsNearZero(t *testing.T) {
	outs := outcomes(churn.ActionSMS, "C", "", 2000, 300, 2000, 200, 0.1)
	l := Learn(outs, 20)
	_, ev, _ := l.Segment(churn.ActionSMS, "C", "")
	if s := l.Save(ev, 0.05); s.Mean > 0.01 || ev.Kept != 0 {
		t.Fatalf("save %+v from %+v", s, ev)
	}
	// 300 churned where 200 would have: 100 of 1800 would-be stayers woken.
	if h := l.Harm(ev); math.Abs(h.Mean-100.0/1820) > 0.005 || h.Low <= 0.04 {
		t.Fatalf("harm %+v from %+v", h, ev)
	}
}

func TestSegmentUsesAReasonOnlyWithEnoughOutcomes(t *testing.T) {
	outs := append(outcomes(churn.ActionOffer, "B", "price", MinReasonOutcomes, 10, 50, 20, 0.4),
		outcomes(churn.ActionOffer, "B", "network", MinReasonOutcomes-1, 10, 50, 20, 0.4)...)
	l := Learn(outs, 20)
	if k, _, _ := l.Segment(churn.ActionOffer, "B", "price"); k.Reason != "price" {
		t.Errorf("price segment %+v", k)
	}
	if k, e, _ := l.Segment(churn.ActionOffer, "B", "network"); k.Reason != "" || e.Treated != 2*MinReasonOutcomes-1 {
		t.Errorf("network segment %+v %+v: want the tier's", k, e)
	}
	if _, _, ok := l.Segment(churn.ActionSMS, "C", ""); ok {
		t.Error("a segment without outcomes has evidence")
	}
}

func TestDrawBetaHasTheBetaMean(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, ab := range [][2]float64{{2, 8}, {0.5, 0.5}, {30, 10}} {
		sum := 0.0
		for range 20000 {
			x := drawBeta(r, ab[0], ab[1])
			if x < 0 || x > 1 {
				t.Fatalf("draw %g outside [0, 1]", x)
			}
			sum += x
		}
		if want := ab[0] / (ab[0] + ab[1]); math.Abs(sum/20000-want) > 0.01 {
			t.Errorf("Beta(%g, %g) mean %g, want %g", ab[0], ab[1], sum/20000, want)
		}
	}
}

func TestPlanUsesLearnedSaveRates(t *testing.T) {
	p := testPolicy(t, "")
	scores := []churn.Score{score("c1", "C", "high", 0.5, 100)} // 0.5*100*0.1-1 = 4 under the prior
	// Outcomes say SMS to tier C keeps nobody: not worth it any more.
	learned := Learn(outcomes(churn.ActionSMS, "C", "", 3000, 300, 3000, 300, 0.1), p.PriorStrength)
	plan, err := (&Planner{Policy: p, Learned: learned}).Plan("2025-06-01", "r", scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Actions) != 0 || plan.Skipped[SkipNotWorth] != 1 {
		t.Fatalf("actions %d skipped %v", len(plan.Actions), plan.Skipped)
	}
}

func TestExplorationSpendsAtMostItsShareOnActionsNotWorthTheirMean(t *testing.T) {
	p := testPolicy(t, "learning: {exploration_share: 0.1, prior_strength: 2}\n")
	p.Budget = 100
	var scores []churn.Score
	for i := range 300 { // 0.1*100*0.1 - 1 = 0: never worth it on the mean
		scores = append(scores, score(fmt.Sprintf("c%03d", i), "C", "high", 0.1, 100))
	}
	seen := 0
	for seed := range uint64(20) {
		plan, err := (&Planner{Policy: p, Rand: rand.New(rand.NewPCG(seed, 9))}).Plan("2025-06-01", "r", scores, nil)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Spent > 10+1e-9 || plan.Explored != len(plan.Actions) {
			t.Fatalf("seed %d: spent %g on %d explored of %d actions", seed, plan.Spent, plan.Explored, len(plan.Actions))
		}
		if plan.Explored > 0 {
			seen++
		}
		again, _ := (&Planner{Policy: p, Rand: rand.New(rand.NewPCG(seed, 9))}).Plan("2025-06-01", "r", scores, nil)
		if len(again.Actions) != len(plan.Actions) {
			t.Fatalf("seed %d: the same seed planned %d then %d actions", seed, len(plan.Actions), len(again.Actions))
		}
	}
	// A draw above the mean (0.1) happens about half the time.
	if seen < 3 || seen > 17 {
		t.Fatalf("explored in %d of 20 plans", seen)
	}
	plan, _ := (&Planner{Policy: p}).Plan("2025-06-01", "r", scores, nil)
	if len(plan.Actions) != 0 {
		t.Fatalf("without randomness %d actions", len(plan.Actions))
	}
}
