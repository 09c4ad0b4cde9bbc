package serve

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"sort"
	"strconv"

	"github.com/telcoretain/churn"
)

// Filter selects scores of the risk list. Nil pointers and empty strings
// select everything.
type Filter struct {
	Tier           *uint8
	Band           *uint8
	MinProbability float32
	Region         string // the customer's region
	Reason         string // the feature of the score's first (strongest) reason
}

// fingerprint identifies the filter inside a cursor, so that a cursor is only
// accepted for the query it was made for.
func (f Filter) fingerprint() string {
	s := ""
	if f.Tier != nil {
		s += "t" + string(churn.ValueTiers[*f.Tier])
	}
	if f.Band != nil {
		s += "b" + string(churn.RiskBands[*f.Band])
	}
	if f.MinProbability > 0 {
		s += "p" + strconv.FormatFloat(float64(f.MinProbability), 'g', -1, 32)
	}
	if f.Region != "" {
		s += "g" + strconv.Quote(f.Region)
	}
	if f.Reason != "" {
		s += "x" + strconv.Quote(f.Reason)
	}
	return s
}

// cursor is the position after the last row of a page: the run, the order,
// the filter and the sort key and id of that row. It is opaque to clients.
type cursor struct {
	Run    string `json:"r"`
	Sort   string `json:"s"`
	Filter string `json:"f"`
	Key    uint32 `json:"k"` // float32 bits of the sort key
	ID     string `json:"c"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Run == "" || c.ID == "" {
		return cursor{}, false
	}
	return c, true
}

// after is a position in an order: rows strictly after (key, id) follow.
type after struct {
	key float32
	id  string
}

// scan calls fn with the positions of the scores matching f in order k,
// starting after from (nil: from the top), until fn returns false. Each
// selected partition is already sorted, so this is a binary search per
// partition and a merge of at most nine lists.
func (s *Snapshot) scan(k SortKey, f Filter, from *after, fn func(int32) bool) {
	m, ok := s.matcher(f)
	if !ok {
		return
	}
	var heads [][]int32
	for t := range numTiers {
		if f.Tier != nil && uint8(t) != *f.Tier {
			continue
		}
		for b := range numBands {
			if f.Band != nil && uint8(b) != *f.Band {
				continue
			}
			list := s.order[k][t][b]
			if from != nil {
				list = list[sort.Search(len(list), func(j int) bool { return s.isAfter(k, list[j], from) }):]
			}
			if len(list) > 0 {
				heads = append(heads, list)
			}
		}
	}
	for len(heads) > 0 {
		best := 0
		for h := 1; h < len(heads); h++ {
			if s.before(k, heads[h][0], heads[best][0]) {
				best = h
			}
		}
		i := heads[best][0]
		if heads[best] = heads[best][1:]; len(heads[best]) == 0 {
			heads = append(heads[:best], heads[best+1:]...)
		}
		if p := s.entries[i].prob; p < f.MinProbability {
			if k == SortProbability {
				// Descending by probability: nothing further in this
				// partition can pass, and the merge takes the largest head
				// first, so no other partition can either.
				return
			}
			continue
		}
		if !s.matches(m, i) {
			continue
		}
		if !fn(i) {
			return
		}
	}
}

func (s *Snapshot) isAfter(k SortKey, i int32, a *after) bool {
	v := s.key(k, i)
	if v != a.key {
		return v < a.key
	}
	return s.id(i) > a.id
}

// page returns up to limit positions and, when more rows follow, the cursor
// of the next page.
func (s *Snapshot) page(k SortKey, f Filter, from *after, limit int) ([]int32, string) {
	out := make([]int32, 0, min(limit+1, s.Len()+1))
	s.scan(k, f, from, func(i int32) bool {
		out = append(out, i)
		return len(out) <= limit
	})
	if len(out) <= limit {
		return out, ""
	}
	out = out[:limit]
	last := out[limit-1]
	next := cursor{Run: s.run.ID, Sort: k.String(), Filter: f.fingerprint(),
		Key: math.Float32bits(s.key(k, last)), ID: s.id(last)}
	return out, next.encode()
}
