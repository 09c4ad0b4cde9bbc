package uplift

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/dataset/synth"
	"github.com/telcoretain/churn/model"
	"github.com/telcoretain/churn/model/xgboost"
)

// cycle is one simulated retention cycle of the synthetic operator's
// customers: features, churn probability and reason, and both potential
// outcomes of an action of one kind, drawn by the operator's planted
// retention effect (synth.RetentionEffect: offers keep price-driven
// churners, calls those leaving over service or the network, nothing keeps
// those who move away).
type cycle struct {
	m      *churn.Matrix
	p      []float64 // churn probability without action
	stays  []bool    // potential outcome without action: retained
	saved  []int     // potential outcome with the action: +1 kept, -1 woken, 0 no change
	reason []string
}

var simFeatures = []string{"price_sensitivity", "monthly_fee", "complaints_90d", "dropped_call_rate", "tenure_months", "usage_decline", "noise_a", "noise_b"}

func simulate(n int, seed uint64, kind string, eff synth.RetentionEffect) *cycle {
	r := rand.New(rand.NewPCG(seed, 77))
	c := &cycle{m: &churn.Matrix{Features: simFeatures, Cols: make([][]float32, len(simFeatures)), IDs: make([]string, n)},
		p: make([]float64, n), stays: make([]bool, n), saved: make([]int, n), reason: make([]string, n)}
	for j := range c.m.Cols {
		c.m.Cols[j] = make([]float32, n)
	}
	for i := range n {
		ps, fee, compl := r.Float64(), 10+50*r.Float64(), float64(r.IntN(5)*r.IntN(2))
		drop, tenure := 0.08*r.Float64()*r.Float64(), 1+71*r.Float64()
		// A few customers are moving away: their usage fades, they are at
		// high risk, and no action keeps them.
		moving := r.Float64() < 0.06
		decline, other := 0.4*r.Float64(), 0.4
		if moving {
			decline, other = 0.3+0.7*r.Float64(), 3.5
		}
		for j, v := range []float64{ps, fee, compl, drop, tenure, decline, r.Float64(), r.NormFloat64()} {
			c.m.Cols[j][i] = float32(v)
		}
		w := []float64{2 * ps * fee / 40, 0.7 * compl, 25 * drop, other}
		logit := -3.4 + 0.8*w[0] + 0.6*w[1] + 0.6*w[2] + 0.8*(other-0.4) - 0.015*tenure
		c.p[i] = 1 / (1 + math.Exp(-logit))
		// The customer's main driver is usually why they leave.
		sharp := make([]float64, len(w))
		tot := 0.0
		for k, v := range w {
			sharp[k] = math.Pow(v, 4)
			tot += sharp[k]
		}
		u, sum := r.Float64()*tot, 0.0
		for k, name := range []string{"price", "service", "network", "moved"} {
			if sum += sharp[k]; u < sum || k == 3 {
				c.reason[i] = name
				break
			}
		}
		id := fmt.Sprintf("s%d-c%07d", seed, i)
		c.m.IDs[i] = id
		churns := r.Float64() < c.p[i]
		c.stays[i] = !churns
		switch ans := eff.Answer(id, kind); {
		case churns && ans == "accepted" && eff.Saves(id, kind, c.reason[i]):
			c.saved[i] = 1
		case !churns && ans != "unreachable" && eff.Wakes(id, kind, c.p[i]):
			c.saved[i] = -1
		}
	}
	return c
}

// planned are the customers a risk-based plan would consider (the top
// share by churn probability), as row indexes.
func (c *cycle) planned(share float64) []int {
	idx := make([]int, len(c.p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(c.p[b], c.p[a]) })
	return idx[:int(share*float64(len(idx)))]
}

// labelled are the planned customers' observed outcomes: a tenth held out
// as control (no action), the rest treated.
func (c *cycle) labelled(rows []int) (*churn.Matrix, []bool) {
	m := model.Subset(c.m, rows)
	m.Labels = make([]float32, len(rows))
	treated := make([]bool, len(rows))
	for k, i := range rows {
		treated[k] = (i*7919)%10 != 0
		churned := !c.stays[i]
		if treated[k] {
			churned = churned && c.saved[i] != 1 || c.saved[i] == -1
		}
		if churned {
			m.Labels[k] = 1
		}
	}
	return m, treated
}

// probs are the churn probabilities of rows: the baseline a churn model
// gives the uplift model (the true one here).
func (c *cycle) probs(rows []int) []float64 {
	out := make([]float64, len(rows))
	for j, i := range rows {
		out[j] = c.p[i]
	}
	return out
}

// incremental is the churn prevented by acting on the k best rows by score.
func (c *cycle) incremental(rows []int, score []float64, k int) int {
	order := slices.Clone(rows)
	pos := map[int]float64{}
	for j, i := range rows {
		pos[i] = score[j]
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(pos[b], pos[a]) })
	n := 0
	for _, i := range order[:k] {
		n += c.saved[i]
	}
	return n
}

type benchResult struct {
	upliftSaves, riskSaves int
	qiniUplift, qiniRisk   float64
}

// targetingBench trains an uplift model on one cycle's planned customers
// and, on a held-out cycle, compares the churn prevented by acting on the
// budget's worth of customers with the highest uplift against those with
// the highest churn probability (the true one: the best a risk model can
// do), among the customers a risk-based plan considers.
func targetingBench(tb testing.TB, nTrain, nHold int, kind string) benchResult {
	eff := synth.DefaultRetentionEffect(1)
	const planShare, budgetShare = 0.5, 0.10
	train := simulate(nTrain, 1, kind, eff)
	trows := train.planned(planShare)
	m, treated := train.labelled(trows)
	tm, err := Train(context.Background(), m, treated, train.probs(trows), Options{Rounds: 400, Params: func() xgboost.Params { p := ShallowParams(); p.MaxDepth = 4; p.MinChildWeight = 20; return p }()})
	if err != nil {
		tb.Fatal(err)
	}
	defer tm.Close()

	hold := simulate(nHold, 2, kind, eff)
	rows := hold.planned(planShare)
	hm, htreated := hold.labelled(rows)
	up, err := tm.Uplift(context.Background(), hm, hold.probs(rows))
	if err != nil {
		tb.Fatal(err)
	}
	risk := make([]float64, len(rows))
	for j, i := range rows {
		risk[j] = hold.p[i]
	}
	k := int(budgetShare * float64(len(rows)))
	res := benchResult{upliftSaves: hold.incremental(rows, up, k), riskSaves: hold.incremental(rows, risk, k)}
	qini := func(score []float64) float64 {
		outs := make([]Outcome, len(rows))
		for j := range rows {
			outs[j] = Outcome{Score: score[j], Treated: htreated[j], Churned: hm.Labels[j] == 1}
		}
		_, q := Qini(outs, 20)
		return q
	}
	res.qiniUplift, res.qiniRisk = qini(up), qini(risk)
	return res
}

func TestUpliftTargetingSavesHalfAgainAsManyAsRiskTargetingAtTheSameBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an uplift model on 125,000 customers")
	}
	for _, kind := range []string{"offer"} {
		res := targetingBench(t, 250_000, 100_000, kind)
		ratio := float64(res.upliftSaves) / float64(res.riskSaves)
		t.Logf("%s: incremental saves uplift %d, risk %d (x%.2f); Qini uplift %.5f, risk %.5f",
			kind, res.upliftSaves, res.riskSaves, ratio, res.qiniUplift, res.qiniRisk)
		if !(ratio >= 1.5) {
			t.Errorf("%s: uplift targeting saved %d, risk targeting %d: x%.2f, want at least x1.5", kind, res.upliftSaves, res.riskSaves, ratio)
		}
		if !(res.qiniUplift > res.qiniRisk) {
			t.Errorf("%s: Qini of uplift %.5f not above risk's %.5f", kind, res.qiniUplift, res.qiniRisk)
		}
	}
}

// BenchmarkUpliftTargeting reports the held-out incremental saves of
// uplift and risk targeting at the same budget and their ratio (target:
// at least 1.5) for offers on the synthetic operator's planted effect.
func BenchmarkUpliftTargeting(b *testing.B) {
	var res benchResult
	for b.Loop() {
		res = targetingBench(b, 250_000, 100_000, "offer")
	}
	b.ReportMetric(float64(res.upliftSaves), "uplift-saves")
	b.ReportMetric(float64(res.riskSaves), "risk-saves")
	b.ReportMetric(float64(res.upliftSaves)/float64(res.riskSaves), "uplift/risk")
	b.ReportMetric(res.qiniUplift, "qini-uplift")
	b.ReportMetric(res.qiniRisk, "qini-risk")
}
