package serve

import (
	"cmp"
	"slices"
)

// facetJSON counts the scores that share a region or a top reason: the
// values the risk list's region and reason filters take, with their weight.
type facetJSON struct {
	Name         string  `json:"name"`
	Customers    int     `json:"customers"`
	ExpectedLoss float64 `json:"expected_loss"`
	// Example is the text of one top reason of this feature, for people.
	Example string `json:"example,omitempty"`
}

// facets counts scores by region (unknown regions left out) and by the
// feature of their first reason, each sorted by expected loss, largest
// first, then by name.
func facets(s *Snapshot) (regions, reasons []facetJSON) {
	regs := make([]facetJSON, len(s.regions))
	feats := make([]facetJSON, len(s.features))
	for i := range s.entries {
		e := &s.entries[i]
		if e.region != 0 {
			r := &regs[e.region]
			r.Customers++
			r.ExpectedLoss += float64(e.loss)
		}
		if f, ok := s.topFeature(int32(i)); ok {
			r := &feats[f]
			if r.Customers == 0 {
				rec := s.reasons[e.reasonOff]
				r.Example = s.texts[rec.textOff : rec.textOff+uint32(rec.textLen)]
			}
			r.Customers++
			r.ExpectedLoss += float64(e.loss)
		}
	}
	keep := func(in []facetJSON, names []string) []facetJSON {
		out := []facetJSON{}
		for i, f := range in {
			if f.Customers > 0 {
				f.Name, f.ExpectedLoss = names[i], round2(f.ExpectedLoss)
				out = append(out, f)
			}
		}
		slices.SortFunc(out, func(a, b facetJSON) int {
			return cmp.Or(cmp.Compare(b.ExpectedLoss, a.ExpectedLoss), cmp.Compare(a.Name, b.Name))
		})
		return out
	}
	return keep(regs, s.regions), keep(feats, s.features)
}
