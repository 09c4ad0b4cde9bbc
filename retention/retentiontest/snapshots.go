package retentiontest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/telcoretain/churn"
)

// Snapshots is an in-memory retention.SnapshotStore. Like ClickHouse's, it
// lists a snapshot only once its header is stored, after its chunks; a
// write can be made to die after some chunks, and a stored chunk can be
// damaged, to test the fallbacks.
type Snapshots struct {
	mu       sync.Mutex
	headers  []churn.QueueSnapshot
	chunks   map[uint64][][]byte
	dieAfter int // chunks a write stores at most before it fails; <0: never
}

// NewSnapshots returns an empty store.
func NewSnapshots() *Snapshots {
	return &Snapshots{chunks: map[uint64][][]byte{}, dieAfter: -1}
}

// errDied is what a write made to fail returns, as a process killed or a
// connection cut half way would leave it.
var errDied = errors.New("snapshot writer died")

// DieAfter makes the next write store at most n chunks and then fail
// before its header (with n at least the chunk count: every chunk stored,
// no header).
func (s *Snapshots) DieAfter(n int) {
	s.mu.Lock()
	s.dieAfter = n
	s.mu.Unlock()
}

// Damage flips a byte of chunk seq of snapshot id.
func (s *Snapshots) Damage(id uint64, seq int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := slices.Clone(s.chunks[id][seq])
	c[len(c)/2] ^= 0x40
	s.chunks[id][seq] = c
}

// DropChunk removes the last chunk of snapshot id, as a partial copy would.
func (s *Snapshots) DropChunk(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chunks[id] = s.chunks[id][:len(s.chunks[id])-1]
}

// Headers returns the stored headers, newest cut first.
func (s *Snapshots) Headers() []churn.QueueSnapshot {
	hs, _ := s.QueueSnapshots(context.Background(), 1<<30)
	return hs
}

// ChunkSets is how many snapshots have chunks stored, headers or not.
func (s *Snapshots) ChunkSets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.chunks)
}

// QueueSnapshots returns the complete snapshots, newest cut first.
func (s *Snapshots) QueueSnapshots(_ context.Context, limit int) ([]churn.QueueSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := slices.Clone(s.headers)
	slices.SortFunc(hs, func(a, b churn.QueueSnapshot) int {
		if c := cmp.Compare(b.Cut, a.Cut); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return hs[:min(limit, len(hs))], nil
}

// QueueSnapshotChunks streams the chunks of snapshot id.
func (s *Snapshots) QueueSnapshotChunks(ctx context.Context, id uint64, fn func([]byte) error) error {
	s.mu.Lock()
	cs := slices.Clone(s.chunks[id])
	s.mu.Unlock()
	for _, c := range cs {
		if err := fn(slices.Clone(c)); err != nil {
			return err
		}
	}
	return nil
}

// WriteQueueSnapshot stores the chunks, then the header.
func (s *Snapshots) WriteQueueSnapshot(_ context.Context, h churn.QueueSnapshot, chunks func(yield func([]byte) error) error) error {
	s.mu.Lock()
	die := s.dieAfter
	s.dieAfter = -1
	s.mu.Unlock()
	n := 0
	err := chunks(func(b []byte) error {
		if die >= 0 && n == die {
			return errDied
		}
		s.mu.Lock()
		s.chunks[h.ID] = append(s.chunks[h.ID], slices.Clone(b))
		s.mu.Unlock()
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if die >= 0 {
		return errDied
	}
	h.Chunks = n
	s.mu.Lock()
	s.headers = append(s.headers, h)
	s.mu.Unlock()
	return nil
}
