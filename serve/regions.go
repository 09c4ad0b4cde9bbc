package serve

import (
	"context"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/telcoretain/churn"
)

// RegionReader streams every customer's region. A ScoreStore that also
// implements it has regions attached to each snapshot, so that the risk list
// can be filtered by region without a ClickHouse query per request.
type RegionReader interface {
	CustomerRegions(ctx context.Context, fn func(customerID, region string) error) error
}

// readRegions attaches the regions of the customers the builder holds;
// customers without a score are skipped.
func (b *snapshotBuilder) readRegions(ctx context.Context, rr RegionReader) error {
	b.s.regions = []string{""}
	b.regionIdx = map[string]uint16{"": 0}
	return rr.CustomerRegions(ctx, func(id, region string) error {
		i, ok := b.seen[id]
		if !ok {
			return nil
		}
		code, ok := b.regionIdx[region]
		if !ok {
			if len(b.s.regions) > math.MaxUint16 {
				return churn.Errorf(churn.KindInternal, "load regions", "more than %d distinct regions", math.MaxUint16)
			}
			code = uint16(len(b.s.regions))
			b.regionIdx[region] = code
			b.s.regions = append(b.s.regions, region)
		}
		b.s.entries[i].region = code
		return nil
	})
}

// topFeature is the code of the feature of a score's first reason, and false
// when it has no reasons.
func (s *Snapshot) topFeature(i int32) (uint16, bool) {
	e := &s.entries[i]
	if e.reasonN == 0 {
		return 0, false
	}
	return s.reasons[e.reasonOff].feature, true
}

// matcher resolves the region and reason of a filter to codes of this
// snapshot. ok is false when a value names nothing the snapshot holds, so
// that nothing matches.
type matcher struct {
	region, reason     uint16
	byRegion, byReason bool
}

func (s *Snapshot) matcher(f Filter) (m matcher, ok bool) {
	if f.Region != "" {
		code, found := s.regionIdx[f.Region]
		if !found {
			return m, false
		}
		m.region, m.byRegion = code, true
	}
	if f.Reason != "" {
		code, found := s.featureIdx[f.Reason]
		if !found {
			return m, false
		}
		m.reason, m.byReason = code, true
	}
	return m, true
}

func (s *Snapshot) matches(m matcher, i int32) bool {
	if m.byRegion && s.entries[i].region != m.region {
		return false
	}
	if m.byReason {
		f, ok := s.topFeature(i)
		return ok && f == m.reason
	}
	return true
}

// Region is the region of the customer at position i, "" when unknown.
func (s *Snapshot) Region(i int32) string { return s.regions[s.entries[i].region] }

// validLabel checks a region or feature name of a query: 1 to 128 bytes of
// valid UTF-8 without control characters, as such names are in the data.
func validLabel(field, v string) error {
	switch {
	case v == "":
		return invalid(field, "is empty; leave the parameter out to keep every %s", field)
	case len(v) > maxIDLen:
		return invalid(field, "is %d bytes long, over the maximum of %d", len(v), maxIDLen)
	case !utf8.ValidString(v):
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid(field, "has a control character")
		}
	}
	return nil
}
