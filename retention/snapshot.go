package retention

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/telcoretain/churn"
)

// A snapshot is the settled state: the fold, in event id order, of every
// event up to a cut, where the cut is at least syncMargin old. Events are
// stamped before they are written, so a plan run from the CLI may land an
// event a little after later ones; Sync already assumes none lands more
// than syncMargin late, and the snapshot leans on the same bound, so an
// event at or before a cut is never missing from the snapshot of that cut.
// A snapshot is then a pure function of the log, and loading one and
// folding in the events after its cut gives the state a full replay gives.
//
// The queue keeps the settled state next to the live one (sharing their
// actions) and advances it from the log when it writes a snapshot, so
// writing never stops the queue and never holds a half-applied change.

// SnapshotStore keeps snapshots of the queue (ClickHouse's queue_snapshots
// and queue_snapshot_chunks).
type SnapshotStore interface {
	// QueueSnapshots returns the headers of complete snapshots, newest cut
	// first, at most limit.
	QueueSnapshots(ctx context.Context, limit int) ([]churn.QueueSnapshot, error)
	// QueueSnapshotChunks streams the chunks of snapshot id to fn in any
	// order (each chunk stands alone). Each call's data is its own: fn may
	// keep it (a load decodes it on other goroutines) but never changes it.
	QueueSnapshotChunks(ctx context.Context, id uint64, fn func(data []byte) error) error
	// WriteQueueSnapshot stores every chunk chunks yields, then the header
	// (its Chunks counted by the store); a snapshot whose header was not
	// stored is never listed.
	WriteQueueSnapshot(ctx context.Context, h churn.QueueSnapshot, chunks func(yield func(data []byte) error) error) error
}

// snapshotTries is how many of the newest snapshots a load tries before it
// replays the whole log.
const snapshotTries = 3

// chunkActions is how many actions one chunk holds (about a megabyte).
const chunkActions = 8192

// errSnapshotsOff is returned by WriteSnapshot on a queue without them.
var errSnapshotsOff = errors.New("write queue snapshot: this queue keeps no settled state (QueueOptions.WriteSnapshots)")

// badSnapshot marks a snapshot that does not read back whole: the load
// tries an older one rather than failing.
type badSnapshot struct{ error }

func (e badSnapshot) Unwrap() error { return e.error }

// loadSnapshot returns the state of the newest snapshot that reads back
// whole, an empty state when there is none. The caller holds q.mu.
func (q *Queue) loadSnapshot(ctx context.Context) (*state, error) {
	hs, err := q.snaps.QueueSnapshots(ctx, snapshotTries)
	if err != nil {
		// A database not yet migrated to the snapshot tables still has
		// its log; when ClickHouse is down, reading the log fails too.
		q.logr.Warn("action queue: cannot list queue snapshots; replaying the whole action log", "err", err)
		return newState(), nil
	}
	for _, h := range hs {
		start := time.Now()
		st, err := readSnapshot(ctx, q.snaps, h)
		var bad badSnapshot
		if errors.As(err, &bad) {
			q.logr.Warn("action queue: snapshot is corrupt or incomplete; trying an older one", "snapshot", h.ID, "cut", h.Cut, "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		q.logr.Info("action queue: snapshot loaded", "snapshot", h.ID, "cut", h.Cut, "actions", h.Actions,
			"took", time.Since(start).Round(time.Millisecond))
		return st, nil
	}
	if len(hs) > 0 {
		q.logr.Warn("action queue: no usable snapshot; replaying the whole action log")
	}
	return newState(), nil
}

// readSnapshot decodes and checks one snapshot.
//
// A start from a snapshot of millions of actions spends its CPU time on
// decoding chunks, indexing the actions and, while the heap grows from
// nothing, collecting garbage (a third of it at 3.3M actions). So the
// actions go into one slice allocated up front, which a collection marks
// while it is still empty instead of each doubling of the heap marking
// every action decoded so far; decodeWorkers goroutines decode chunks while
// the store reads the next ones; and one goroutine indexes them.
func readSnapshot(ctx context.Context, store SnapshotStore, h churn.QueueSnapshot) (*state, error) {
	if h.Actions < 0 || h.Chunks < 0 || h.Actions > h.Chunks*chunkActions {
		return nil, badSnapshot{fmt.Errorf("the header has %d actions in %d chunks", h.Actions, h.Chunks)}
	}
	all := make([]churn.Action, h.Actions)
	st := newState()
	st.actions = make(map[string]*churn.Action, h.Actions)
	st.cut, st.token, st.latest = h.Cut, h.Token, h.Latest

	// A chunk that does not decode cancels the read with its error as the
	// cause; the workers then skip the rest.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct {
		seq  int
		data []byte
		dst  []churn.Action
	}
	jobs := make(chan job, decodeWorkers)
	decoded := make(chan []churn.Action, decodeWorkers)
	var workers sync.WaitGroup
	for range decodeWorkers {
		workers.Go(func() {
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				if err := decodeChunk(j.data, j.dst); err != nil {
					cancel(badSnapshot{fmt.Errorf("chunk %d: %w", j.seq, err)})
					continue
				}
				decoded <- j.dst
			}
		})
	}
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		for as := range decoded {
			for i := range as {
				st.actions[as[i].ID] = &as[i]
			}
		}
	}()
	chunks, n := 0, 0
	err := store.QueueSnapshotChunks(ctx, h.ID, func(data []byte) error {
		if isArchiveChunk(data) {
			// few and small next to the actions: decoded here, into the
			// state's archive, which the indexer leaves alone
			if err := decodeArchiveChunk(data, st); err != nil {
				return badSnapshot{fmt.Errorf("chunk %d: %w", chunks, err)}
			}
			chunks++
			return nil
		}
		c, err := chunkCount(data)
		if err == nil && c > len(all)-n {
			err = fmt.Errorf("more actions than the header's %d", h.Actions)
		}
		if err != nil {
			return badSnapshot{fmt.Errorf("chunk %d: %w", chunks, err)}
		}
		select {
		case jobs <- job{seq: chunks, data: data, dst: all[n : n+c]}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		chunks++
		n += c
		return nil
	})
	close(jobs)
	workers.Wait()
	close(decoded)
	<-indexed
	var bad badSnapshot
	if cause := context.Cause(ctx); errors.As(cause, &bad) {
		return nil, bad
	}
	switch {
	case err != nil:
		return nil, err
	case chunks != h.Chunks:
		return nil, badSnapshot{fmt.Errorf("read %d chunks, the header has %d", chunks, h.Chunks)}
	case n != h.Actions || len(st.actions) != h.Actions:
		return nil, badSnapshot{fmt.Errorf("read %d actions (%d distinct), the header has %d", n, len(st.actions), h.Actions)}
	}
	return st, nil
}

// decodeWorkers is how many goroutines decode the chunks of a snapshot.
const decodeWorkers = 2

// WriteSnapshot folds the events old enough to be settled into the settled
// state and stores it as a snapshot, unless no event was added since the
// last one; it reports whether it wrote one. Only the queue's owner should
// call it (any caller writes a correct snapshot, but one writer is enough).
func (q *Queue) WriteSnapshot(ctx context.Context) (churn.QueueSnapshot, bool, error) {
	if q.snaps == nil || !q.keepSettled {
		return churn.QueueSnapshot{}, false, errSnapshotsOff
	}
	q.snapMu.Lock()
	defer q.snapMu.Unlock()
	st := q.settled
	if st == nil {
		return churn.QueueSnapshot{}, false, errNotLoaded
	}
	now := q.now()
	upto := settleBound(now)
	err := q.log.ScanActionEvents(ctx, st.cut, upto, func(e churn.ActionEvent) error {
		st.apply(e)
		st.cut = e.ID
		return nil
	})
	// The cut follows each event folded in, so a scan cut short leaves a
	// settled state that is still exact up to its cut.
	st.applied, st.pruneAt = map[string]int64{}, minPrune
	if err != nil {
		return churn.QueueSnapshot{}, false, fmt.Errorf("write queue snapshot: read action events: %w", err)
	}
	if st.cut == q.written {
		return churn.QueueSnapshot{}, false, nil
	}
	h := churn.QueueSnapshot{ID: uint64(now.UnixNano()), Cut: st.cut, Token: st.token, Latest: st.latest,
		Actions: len(st.actions), WrittenAt: now, Writer: q.writer}
	if err := q.snaps.WriteQueueSnapshot(ctx, h, st.chunks); err != nil {
		return churn.QueueSnapshot{}, false, err
	}
	q.written = st.cut
	return h, true, nil
}

// settleBound is the largest event id that is settled at now: every event
// stamped at or before it has landed in the log.
func settleBound(now time.Time) string {
	return fmt.Sprintf("e%019d", now.Add(-syncMargin).UnixNano())
}

// chunks yields the state's actions encoded in chunks, then its archive.
func (s *state) chunks(yield func([]byte) error) error {
	batch := make([]*churn.Action, 0, chunkActions)
	var buf []byte
	for _, a := range s.actions {
		batch = append(batch, a)
		if len(batch) == chunkActions {
			buf = encodeChunk(buf[:0], batch)
			if err := yield(buf); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := yield(encodeChunk(buf[:0], batch)); err != nil {
			return err
		}
	}
	return s.archiveChunks(yield)
}

// The chunk format: "QS2", the number of actions, a dictionary of the
// strings the actions use (count, then length and bytes of each), the
// actions (their strings as dictionary indexes, floats as IEEE bits, the
// priority, times and delivery attempts as varints, a zero time as 0), and
// a CRC-32C of all that. Strings repeat across actions (cycles, kinds,
// tiers, agents), so the dictionary keeps chunks small and a load
// allocates one string per chunk for all of them. "QS1" chunks, written
// before session 29, are the same without the attempts, which they lost;
// a load reads them with none.
const (
	chunkMagic   = "QS2"
	chunkMagicV1 = "QS1"
)

// The archive's chunks: "QA1", the archived cycles (count, then length and
// bytes of each; in the first chunk only), the customers (count, then for
// each the id's length and bytes, the number of contact days and the days
// as varint differences from the previous, the first from 0), and a
// CRC-32C. Each holds at most chunkCustomers customers.
const (
	archiveMagic   = "QA1"
	chunkCustomers = 65536
)

func isArchiveChunk(data []byte) bool {
	return len(data) >= len(archiveMagic) && string(data[:len(archiveMagic)]) == archiveMagic
}

// archiveChunks yields the archive in chunks; none when nothing is
// archived.
func (s *state) archiveChunks(yield func([]byte) error) error {
	if len(s.archived) == 0 {
		return nil
	}
	cycles := slices.Sorted(maps.Keys(s.archived))
	customers := slices.Sorted(maps.Keys(s.contacts))
	for first := true; first || len(customers) > 0; first = false {
		part := customers[:min(chunkCustomers, len(customers))]
		customers = customers[len(part):]
		buf := []byte(archiveMagic)
		if !first {
			cycles = nil
		}
		buf = binary.AppendUvarint(buf, uint64(len(cycles)))
		for _, c := range cycles {
			buf = binary.AppendUvarint(buf, uint64(len(c)))
			buf = append(buf, c...)
		}
		buf = binary.AppendUvarint(buf, uint64(len(part)))
		for _, id := range part {
			days := s.contacts[id]
			buf = binary.AppendUvarint(buf, uint64(len(id)))
			buf = append(buf, id...)
			buf = binary.AppendUvarint(buf, uint64(len(days)))
			prev := int32(0)
			for _, d := range days {
				buf = binary.AppendVarint(buf, int64(d-prev))
				prev = d
			}
		}
		if err := yield(binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))); err != nil {
			return err
		}
	}
	return nil
}

// decodeArchiveChunk adds an archive chunk's cycles and contacts to st.
func decodeArchiveChunk(data []byte, st *state) error {
	if len(data) < len(archiveMagic)+4 {
		return errors.New("truncated archive chunk")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return errors.New("checksum mismatch")
	}
	r := &chunkReader{b: body[len(archiveMagic):]}
	str := func() string {
		n := r.uvarint()
		if n > uint64(len(r.b)) {
			r.fail("truncated string")
			return ""
		}
		v := string(r.b[:n])
		r.b = r.b[n:]
		return v
	}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		st.archived[str()] = true
	}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		id, k := str(), r.uvarint()
		if k > uint64(len(r.b)) {
			r.fail("bad number of days")
			break
		}
		days, prev := make([]int32, k), int64(0)
		for i := range days {
			prev += r.varint()
			days[i] = int32(prev)
		}
		st.contacts[id] = days
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return errors.New("trailing bytes")
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func actionStrings(a *churn.Action) [15]string {
	return [15]string{a.ID, a.CustomerID, a.Cycle, string(a.Kind), a.Offer, a.Channel, string(a.Status), a.Agent,
		a.Outcome, a.Note, a.RunID, a.Rule, string(a.Tier), string(a.Band), a.Reason}
}

func encodeChunk(buf []byte, as []*churn.Action) []byte {
	dict := map[string]uint64{}
	var words []string
	refs := make([]uint64, 0, 15*len(as))
	for _, a := range as {
		for _, s := range actionStrings(a) {
			i, ok := dict[s]
			if !ok {
				i = uint64(len(words))
				dict[s] = i
				words = append(words, s)
			}
			refs = append(refs, i)
		}
	}
	buf = append(buf, chunkMagic...)
	buf = binary.AppendUvarint(buf, uint64(len(as)))
	buf = binary.AppendUvarint(buf, uint64(len(words)))
	for _, w := range words {
		buf = binary.AppendUvarint(buf, uint64(len(w)))
	}
	for _, w := range words {
		buf = append(buf, w...)
	}
	for i, a := range as {
		for _, r := range refs[15*i : 15*i+15] {
			buf = binary.AppendUvarint(buf, r)
		}
		for _, f := range []float64{a.Cost, a.Value, a.Probability, a.LifetimeValue} {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
		}
		buf = binary.AppendVarint(buf, int64(a.Priority))
		buf = binary.AppendVarint(buf, timeNanos(a.LeaseUntil))
		buf = binary.AppendVarint(buf, timeNanos(a.CreatedAt))
		buf = binary.AppendUvarint(buf, uint64(max(a.Attempts, 0)))
	}
	return binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
}

func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func nanosTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// chunkReader reads the fields of a chunk; the first error sticks.
type chunkReader struct {
	b   []byte
	err error
}

func (r *chunkReader) uvarint() uint64 {
	// Most numbers of a chunk are dictionary indexes below 128, one byte:
	// this path is inlined where the general one is a call.
	if len(r.b) > 0 && r.b[0] < 0x80 {
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v
	}
	return r.uvarintLong()
}

func (r *chunkReader) uvarintLong() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint undoes binary.AppendVarint's zig-zag encoding.
func (r *chunkReader) varint() int64 {
	u := r.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (r *chunkReader) float() float64 {
	if len(r.b) < 8 {
		r.fail("truncated float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *chunkReader) fail(what string) {
	if r.err == nil {
		r.err = errors.New(what)
	}
	r.b = nil
}

// chunkVersion says which version of the action chunk data is: 2, 1, or 0
// for no action chunk.
func chunkVersion(data []byte) int {
	if len(data) < len(chunkMagic)+4 {
		return 0
	}
	switch string(data[:len(chunkMagic)]) {
	case chunkMagic:
		return 2
	case chunkMagicV1:
		return 1
	}
	return 0
}

// chunkCount reads how many actions a chunk holds, before decoding it.
func chunkCount(data []byte) (int, error) {
	if chunkVersion(data) == 0 {
		return 0, errors.New("not a queue snapshot chunk")
	}
	n, k := binary.Uvarint(data[len(chunkMagic):])
	if k <= 0 || n > uint64(len(data)) {
		return 0, errors.New("bad count")
	}
	return int(n), nil
}

// decodeChunk decodes a chunk into dst, which must have the length
// chunkCount reads.
func decodeChunk(data []byte, dst []churn.Action) error {
	version := chunkVersion(data)
	if version == 0 {
		return errors.New("not a queue snapshot chunk")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return errors.New("checksum mismatch")
	}
	r := &chunkReader{b: body[len(chunkMagic):]}
	n, nw := r.uvarint(), r.uvarint()
	if r.err != nil || n != uint64(len(dst)) || nw > uint64(len(body)) {
		return errors.New("bad counts")
	}
	lens := make([]uint64, nw)
	total := uint64(0)
	for i := range lens {
		lens[i] = r.uvarint()
		total += lens[i]
	}
	if r.err != nil || total > uint64(len(r.b)) {
		return errors.New("bad dictionary")
	}
	all := string(r.b[:total]) // one allocation for every string of the chunk
	r.b = r.b[total:]
	words := make([]string, nw)
	off := uint64(0)
	for i, l := range lens {
		words[i], off = all[off:off+l], off+l
	}
	word := func() string {
		i := r.uvarint()
		if i >= nw {
			r.fail("string index out of range")
			return ""
		}
		return words[i]
	}
	for i := range dst {
		a := &dst[i]
		a.ID, a.CustomerID, a.Cycle, a.Kind, a.Offer = word(), word(), word(), churn.ActionKind(word()), word()
		a.Channel, a.Status, a.Agent, a.Outcome, a.Note = word(), churn.ActionStatus(word()), word(), word(), word()
		a.RunID, a.Rule, a.Tier, a.Band, a.Reason = word(), word(), churn.ValueTier(word()), churn.RiskBand(word()), word()
		a.Cost, a.Value, a.Probability, a.LifetimeValue = r.float(), r.float(), r.float(), r.float()
		a.Priority, a.LeaseUntil, a.CreatedAt = int(r.varint()), nanosTime(r.varint()), nanosTime(r.varint())
		if version >= 2 {
			a.Attempts = int(r.uvarint())
		}
		if r.err != nil {
			return fmt.Errorf("action %d: %w", i, r.err)
		}
	}
	if len(r.b) != 0 {
		return errors.New("trailing bytes")
	}
	return nil
}
