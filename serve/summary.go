package serve

import (
	"encoding/json"
	"math"

	"github.com/telcoretain/churn"
)

// histogramBins is the number of equal-width probability bins of the summary.
const histogramBins = 20

// summary is the dashboard view of a snapshot, computed once when it loads.
type summary struct {
	body []byte // the JSON of summaryJSON
}

type segmentJSON struct {
	Tier              string  `json:"tier"`
	Band              string  `json:"band"`
	Customers         int     `json:"customers"`
	ExpectedLoss      float64 `json:"expected_loss"`
	LifetimeValue     float64 `json:"lifetime_value"`
	AvgProbability    float64 `json:"avg_probability"`
	ShareOfCustomers  float64 `json:"share_of_customers"`
	ShareOfLossAtRisk float64 `json:"share_of_expected_loss"`
}

type binJSON struct {
	From      float64 `json:"from"`
	To        float64 `json:"to"`
	Customers int     `json:"customers"`
}

type summaryJSON struct {
	Run           runJSON       `json:"run"`
	Customers     int           `json:"customers"`
	ExpectedLoss  float64       `json:"expected_loss"`
	LifetimeValue float64       `json:"lifetime_value"`
	Segments      []segmentJSON `json:"segments"`
	Histogram     []binJSON     `json:"histogram"`
	Regions       []facetJSON   `json:"regions"`
	Reasons       []facetJSON   `json:"reasons"`
}

func summarise(s *Snapshot) summary {
	var (
		segs  [numTiers][numBands]segmentJSON
		probs [numTiers][numBands]float64
		bins  = make([]binJSON, histogramBins)
		out   = summaryJSON{Run: newRunJSON(s.run), Customers: s.Len()}
	)
	for _, e := range s.entries {
		g := &segs[e.tier][e.band]
		g.Customers++
		g.ExpectedLoss += float64(e.loss)
		g.LifetimeValue += float64(e.clv)
		probs[e.tier][e.band] += float64(e.prob)
		out.ExpectedLoss += float64(e.loss)
		out.LifetimeValue += float64(e.clv)
		bins[min(int(e.prob*histogramBins), histogramBins-1)].Customers++
	}
	for i := range bins {
		bins[i].From, bins[i].To = float64(i)/histogramBins, float64(i+1)/histogramBins
	}
	for t := range numTiers {
		for b := range numBands {
			g := segs[t][b]
			g.Tier, g.Band = string(churn.ValueTiers[t]), string(churn.RiskBands[b])
			if g.Customers > 0 {
				g.AvgProbability = round6(probs[t][b] / float64(g.Customers))
				g.ShareOfCustomers = round6(float64(g.Customers) / float64(out.Customers))
			}
			if out.ExpectedLoss > 0 {
				g.ShareOfLossAtRisk = round6(g.ExpectedLoss / out.ExpectedLoss)
			}
			g.ExpectedLoss, g.LifetimeValue = round2(g.ExpectedLoss), round2(g.LifetimeValue)
			out.Segments = append(out.Segments, g)
		}
	}
	out.ExpectedLoss, out.LifetimeValue = round2(out.ExpectedLoss), round2(out.LifetimeValue)
	out.Histogram = bins
	out.Regions, out.Reasons = facets(s)
	body, _ := json.Marshal(out) // plain structs of finite numbers cannot fail
	return summary{body: body}
}

// Money is summed in float64 from float32 inputs; cents are all the precision
// the sums carry.
func round2(f float64) float64 { return math.Round(f*100) / 100 }
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }
