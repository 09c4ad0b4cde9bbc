package serve

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/telcoretain/churn"
)

// The snapshot keeps a million scores in a few hundred bytes each: scores are
// fixed-size structs of float32s and small codes, customer ids live in one
// string that the index map's keys slice into, reason texts and feature names
// are interned in arenas, and each sort order is a list of int32 positions per
// tier x band partition, so that a page is a binary search and a merge of at
// most nine slices.

// Band and tier codes are their ranks in churn.RiskBands and
// churn.ValueTiers; the order is the display order.
const (
	numBands = len(churn.RiskBands)
	numTiers = len(churn.ValueTiers)
	// maxIDLen bounds customer ids; it is also what the API accepts.
	maxIDLen = 128
	// maxInternedTexts bounds the dedup map used while loading: common reason
	// texts are shared, rare ones are appended without a map entry so that a
	// run of unique texts does not double the memory of a load.
	maxInternedTexts = 1 << 16
)

// SortKey is an order of the ranked risk list; every order is descending with
// ties broken by ascending customer id.
type SortKey uint8

// Sort orders of the risk list.
const (
	SortExpectedLoss SortKey = iota
	SortProbability
	SortLifetimeValue
	// SortUplift ranks by the uplift the run stored (the churn an action
	// would prevent); a run that stored none has no such order.
	SortUplift
	numSorts
)

var sortNames = [...]string{SortExpectedLoss: "expected_loss", SortProbability: "probability", SortLifetimeValue: "lifetime_value", SortUplift: "uplift"}

// String returns the name used in the API.
func (k SortKey) String() string { return sortNames[k] }

type entry struct {
	prob, clv, loss float32
	uplift          float32 // 0 when the run stored none (Snapshot.upliftModel 0)
	idOff           uint32
	reasonOff       uint32
	idLen           uint8
	reasonN         uint8
	band, tier      uint8
	region          uint16 // index into Snapshot.regions; 0 is unknown
}

type reasonRec struct {
	value, contribution float32
	textOff             uint32
	textLen             uint16
	feature             uint16
}

// Snapshot is an immutable in-memory copy of one finished scoring run.
type Snapshot struct {
	run      churn.ScoreRun
	etag     string
	loadedAt time.Time
	ids      string
	entries  []entry
	// upliftModel is the uplift model whose estimates the run stored with
	// every score, 0 when none.
	upliftModel churn.ModelVersion
	index       map[string]int32
	features    []string
	reasons     []reasonRec
	texts       string
	order       [numSorts][numTiers][numBands][]int32
	summary     summary
	// regions are the customers' regions, "" (unknown) first; regionIdx
	// finds a region's code.
	regions   []string
	regionIdx map[string]uint16
	// featureIdx finds a reason feature's code, for the reason filter.
	featureIdx map[string]uint16
}

// Run is the scoring run the snapshot holds.
func (s *Snapshot) Run() churn.ScoreRun { return s.run }

// Len is the number of scores.
func (s *Snapshot) Len() int { return len(s.entries) }

func (s *Snapshot) id(i int32) string {
	e := &s.entries[i]
	return s.ids[e.idOff : e.idOff+uint32(e.idLen)]
}

func (s *Snapshot) key(k SortKey, i int32) float32 {
	e := &s.entries[i]
	switch k {
	case SortProbability:
		return e.prob
	case SortLifetimeValue:
		return e.clv
	case SortUplift:
		return e.uplift
	}
	return e.loss
}

// before reports whether position a ranks before b in order k.
func (s *Snapshot) before(k SortKey, a, b int32) bool {
	ka, kb := s.key(k, a), s.key(k, b)
	if ka != kb {
		return ka > kb
	}
	return s.id(a) < s.id(b)
}

// Lookup returns the position of a customer's score.
func (s *Snapshot) Lookup(customerID string) (int32, bool) {
	i, ok := s.index[customerID]
	return i, ok
}

// Score expands the score at position i.
func (s *Snapshot) Score(i int32) churn.Score {
	e := &s.entries[i]
	sc := churn.Score{
		RunID: s.run.ID, CustomerID: s.id(i), AsOf: s.run.AsOf, ModelVersion: s.run.ModelVersion,
		Probability: float64(e.prob), Band: churn.RiskBands[e.band], Tier: churn.ValueTiers[e.tier],
		LifetimeValue: float64(e.clv), ExpectedLoss: float64(e.loss),
	}
	if s.upliftModel != 0 {
		sc.Uplift, sc.UpliftModel = float64(e.uplift), s.upliftModel
	}
	if e.reasonN > 0 {
		sc.Reasons = make([]churn.Reason, e.reasonN)
		for j, r := range s.reasons[e.reasonOff : e.reasonOff+uint32(e.reasonN)] {
			sc.Reasons[j] = churn.Reason{Feature: s.features[r.feature], Value: float64(r.value),
				Contribution: float64(r.contribution), Text: s.texts[r.textOff : r.textOff+uint32(r.textLen)]}
		}
	}
	return sc
}

// snapshotBuilder accumulates the scores of one run.
type snapshotBuilder struct {
	s       *Snapshot
	ids     []byte
	texts   []byte
	textIdx map[string]uint32
	featIdx map[string]uint16
	seen    map[string]int32 // customer id -> position, for duplicates and regions
	// regionIdx interns regions; nil until the first region is set.
	regionIdx map[string]uint16
}

func newSnapshotBuilder(run churn.ScoreRun) *snapshotBuilder {
	n := max(int(run.Rows), 0)
	return &snapshotBuilder{
		s:       &Snapshot{run: run, entries: make([]entry, 0, n), reasons: make([]reasonRec, 0, 3*n)},
		ids:     make([]byte, 0, 12*n),
		textIdx: map[string]uint32{},
		featIdx: map[string]uint16{},
		seen:    make(map[string]int32, n),
	}
}

// add appends one score; it rejects what the API could not serve faithfully.
func (b *snapshotBuilder) add(sc churn.Score) error {
	const op = "load score"
	id := sc.CustomerID
	switch {
	case sc.RunID != b.s.run.ID:
		return churn.Errorf(churn.KindInternal, op, "customer %q: score of run %q in run %q", id, sc.RunID, b.s.run.ID)
	case validCustomerID(id) != nil:
		return churn.Errorf(churn.KindInternal, op, "run %s: customer id %q: %v", b.s.run.ID, id, validCustomerID(id))
	case !finite(sc.Probability) || sc.Probability < 0 || sc.Probability > 1:
		return churn.Errorf(churn.KindInternal, op, "run %s customer %q: probability %v is outside [0,1]", b.s.run.ID, id, sc.Probability)
	case !finite(sc.LifetimeValue) || !finite(sc.ExpectedLoss):
		return churn.Errorf(churn.KindInternal, op, "run %s customer %q: lifetime value or expected loss is not a number", b.s.run.ID, id)
	case !finite(sc.Uplift):
		return churn.Errorf(churn.KindInternal, op, "run %s customer %q: uplift %v is not a number", b.s.run.ID, id, sc.Uplift)
	case len(b.s.entries) > 0 && sc.UpliftModel != b.s.upliftModel:
		return churn.Errorf(churn.KindInternal, op, "run %s customer %q: uplift of model %d, others of model %d", b.s.run.ID, id, sc.UpliftModel, b.s.upliftModel)
	case len(sc.Reasons) > math.MaxUint8:
		return churn.Errorf(churn.KindInternal, op, "run %s customer %q: %d reasons", b.s.run.ID, id, len(sc.Reasons))
	}
	band, tier := sc.Band.Rank(), sc.Tier.Rank()
	if band < 0 || tier < 0 {
		return churn.Errorf(churn.KindInternal, op, "run %s customer %q: unknown band %q or tier %q", b.s.run.ID, id, sc.Band, sc.Tier)
	}
	if _, dup := b.seen[id]; dup {
		return churn.Errorf(churn.KindInternal, op, "run %s has customer %q twice", b.s.run.ID, id)
	}
	if len(b.ids)+len(id) > math.MaxUint32 || len(b.s.entries) >= math.MaxInt32 {
		return churn.Errorf(churn.KindInternal, op, "run %s is too large for one snapshot", b.s.run.ID)
	}
	e := entry{prob: float32(sc.Probability), clv: float32(sc.LifetimeValue), loss: float32(sc.ExpectedLoss), uplift: float32(sc.Uplift),
		idOff: uint32(len(b.ids)), idLen: uint8(len(id)), reasonOff: uint32(len(b.s.reasons)),
		reasonN: uint8(len(sc.Reasons)), band: uint8(band), tier: uint8(tier)}
	b.ids = append(b.ids, id...)
	for _, r := range sc.Reasons {
		rec, err := b.reason(r)
		if err != nil {
			return fmt.Errorf("%s: run %s customer %q: %w", op, b.s.run.ID, id, err)
		}
		b.s.reasons = append(b.s.reasons, rec)
	}
	if len(b.s.entries) == 0 {
		b.s.upliftModel = sc.UpliftModel // the run's: every score must name it
	}
	b.seen[id] = int32(len(b.s.entries))
	b.s.entries = append(b.s.entries, e)
	return nil
}

func (b *snapshotBuilder) reason(r churn.Reason) (reasonRec, error) {
	f, ok := b.featIdx[r.Feature]
	if !ok {
		if len(b.s.features) > math.MaxUint16 {
			return reasonRec{}, fmt.Errorf("more than %d distinct reason features", math.MaxUint16)
		}
		// Copies: a reason's strings may be slices of a larger row.
		feature := strings.Clone(r.Feature)
		f = uint16(len(b.s.features))
		b.featIdx[feature] = f
		b.s.features = append(b.s.features, feature)
	}
	if len(r.Text) > math.MaxUint16 {
		return reasonRec{}, fmt.Errorf("reason text of %d bytes", len(r.Text))
	}
	off, ok := b.textIdx[r.Text]
	if !ok {
		if len(b.texts)+len(r.Text) > math.MaxUint32 {
			return reasonRec{}, fmt.Errorf("reason texts exceed 4 GiB")
		}
		off = uint32(len(b.texts))
		b.texts = append(b.texts, r.Text...)
		if len(b.textIdx) < maxInternedTexts {
			b.textIdx[strings.Clone(r.Text)] = off
		}
	}
	return reasonRec{value: float32(r.Value), contribution: float32(r.Contribution),
		textOff: off, textLen: uint16(len(r.Text)), feature: f}, nil
}

// build sorts, indexes and summarises the scores; the builder is spent.
func (b *snapshotBuilder) build(now time.Time) *Snapshot {
	s := b.s
	s.loadedAt = now
	s.etag = runETag(s.run.ID)
	s.ids = string(b.ids)
	s.texts = string(b.texts)
	s.featureIdx = b.featIdx
	s.regionIdx = b.regionIdx
	if s.regions == nil {
		s.regions = []string{""}
		s.regionIdx = map[string]uint16{"": 0}
	}
	// The map that found duplicates while loading is the index: building
	// another would cost a second of a start-up and a transient copy.
	s.index = b.seen
	b.ids, b.texts, b.textIdx, b.seen, b.regionIdx = nil, nil, nil, nil, nil
	s.entries = slices.Clip(s.entries)
	s.reasons = slices.Clip(s.reasons)
	s.sortOrders()
	s.summary = summarise(s)
	return s
}

// sortOrders fills the sort orders: each partition is sorted on its own,
// as pairs of key and position, and the orders are sorted concurrently (a
// million scores took seconds per order, and serving starts only after all
// three).
func (s *Snapshot) sortOrders() {
	var parts [numTiers][numBands][]int32
	var counts [numTiers][numBands]int
	for _, e := range s.entries {
		counts[e.tier][e.band]++
	}
	for t := range numTiers {
		for bd := range numBands {
			parts[t][bd] = make([]int32, 0, counts[t][bd])
		}
	}
	for i, e := range s.entries {
		parts[e.tier][e.band] = append(parts[e.tier][e.band], int32(i))
	}
	var wg sync.WaitGroup
	for k := range numSorts {
		if k == SortUplift && s.upliftModel == 0 {
			continue // no uplift stored: no order, no memory for one
		}
		wg.Go(func() {
			// Pairs of key and position sort in place, so a comparison
			// reads no other memory unless the keys tie.
			type item struct {
				key float32
				pos int32
			}
			order := func(a, b item) int {
				if a.key != b.key {
					if a.key > b.key {
						return -1
					}
					return 1
				}
				return strings.Compare(s.id(a.pos), s.id(b.pos))
			}
			var items []item
			for t := range numTiers {
				for bd := range numBands {
					items = items[:0]
					for _, i := range parts[t][bd] {
						items = append(items, item{s.key(k, i), i})
					}
					slices.SortFunc(items, order)
					out := make([]int32, len(items))
					for j, it := range items {
						out[j] = it.pos
					}
					s.order[k][t][bd] = out
				}
			}
		})
	}
	wg.Wait()
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// validCustomerID is the rule for ids in paths and bodies: 1 to 128 bytes of
// printable ASCII without spaces, which every id the contract tables hold
// in practice satisfies and which keeps ids safe in logs and CSV.
func validCustomerID(id string) error {
	if id == "" {
		return fmt.Errorf("is empty")
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("is %d bytes long, over the maximum of %d", len(id), maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == ' ':
			return fmt.Errorf("has a space at byte %d; ids are printable ASCII without spaces", i)
		case c < ' ' || c >= 0x7f:
			return fmt.Errorf("has a character that is not printable ASCII at byte %d", i)
		}
	}
	return nil
}
