package jobs

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/telcoretain/churn"
)

// history writes run records to the store and keeps what it could not write
// (ClickHouse down) until a later write succeeds, so that a run that failed
// because ClickHouse was unavailable is still recorded once it is back. It
// also remembers the latest records for listings during an outage.
type history struct {
	store History
	log   *slog.Logger

	flushMu sync.Mutex // one flush at a time keeps the rows in order

	mu      sync.Mutex
	pending []churn.JobRun
	recent  []churn.JobRun // latest record of each recent run, oldest first
	failing bool           // the last write failed: log only the first failure
}

// Bounds on what is kept in memory.
const (
	maxPending = 10_000
	maxRecent  = 200
)

func newHistory(store History, log *slog.Logger) *history {
	return &history{store: store, log: log}
}

func (h *history) record(ctx context.Context, r churn.JobRun) {
	h.mu.Lock()
	if i := slices.IndexFunc(h.recent, func(x churn.JobRun) bool { return x.ID == r.ID }); i >= 0 {
		h.recent = slices.Delete(h.recent, i, i+1)
	}
	h.recent = append(h.recent, r)
	if len(h.recent) > maxRecent {
		h.recent = h.recent[len(h.recent)-maxRecent:]
	}
	if h.store != nil {
		h.pending = append(h.pending, r)
		if len(h.pending) > maxPending {
			h.log.Error("job history: dropping the oldest unwritten run records", "dropped", len(h.pending)-maxPending)
			h.pending = h.pending[len(h.pending)-maxPending:]
		}
	}
	h.mu.Unlock()
	_ = h.flush(ctx)
}

// flush writes the pending records in order and stops at the first failure.
func (h *history) flush(ctx context.Context) error {
	if h.store == nil {
		return nil
	}
	h.flushMu.Lock()
	defer h.flushMu.Unlock()
	for {
		h.mu.Lock()
		if len(h.pending) == 0 {
			recovered := h.failing
			h.failing = false
			h.mu.Unlock()
			if recovered {
				h.log.Info("job history: written again")
			}
			return nil
		}
		r := h.pending[0]
		h.mu.Unlock()
		if err := h.store.RecordJobRun(ctx, r); err != nil {
			h.mu.Lock()
			first := !h.failing
			h.failing = true
			n := len(h.pending)
			h.mu.Unlock()
			if first {
				h.log.Warn("job history: cannot write run records; keeping them to write later", "pending", n, "err", err)
			}
			return err
		}
		h.mu.Lock()
		h.pending = h.pending[1:]
		h.mu.Unlock()
	}
}

func (h *history) pendingLen() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pending)
}

// runs merges the stored history with the records not yet written; when the
// store cannot be read it returns the records in memory and the error.
func (h *history) runs(ctx context.Context, job string, limit int) ([]churn.JobRun, error) {
	var stored []churn.JobRun
	var err error
	if h.store != nil {
		_ = h.flush(ctx)
		stored, err = h.store.JobRuns(ctx, job, limit)
	}
	h.mu.Lock()
	mem := slices.Clone(h.recent)
	if err == nil && h.store != nil {
		mem = slices.Clone(h.pending)
	}
	h.mu.Unlock()
	byID := map[string]int{}
	out := stored
	for i, r := range out {
		byID[r.ID] = i
	}
	for _, r := range mem {
		if job != "" && r.Job != job {
			continue
		}
		if i, ok := byID[r.ID]; ok {
			out[i] = r // the record in memory is the newer one
			continue
		}
		byID[r.ID] = len(out)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b churn.JobRun) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}
