package retention

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telcoretain/churn"
)

// Watcher keeps the policy of a file current: it rereads the file every
// interval and swaps in a changed version only when it is valid, so a
// half-edited file never takes effect and the old policy stays in force.
type Watcher struct {
	path     string
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time
	fixed    bool // no file: nothing to reread

	cur atomic.Pointer[Policy]

	mu       sync.Mutex
	loadedAt time.Time
	lastErr  error  // of the last changed file that failed to load
	badHash  string // digest of that file, so it is reported once
}

// WatchStatus says which policy is in force and whether a newer file was refused.
type WatchStatus struct {
	Path     string
	Digest   string
	Rules    int
	LoadedAt time.Time
	Err      error // the problems of a changed file that was refused; nil when none
}

// NewWatcher loads the file, which must be valid, and returns a watcher
// that checks it every interval once Run starts.
func NewWatcher(path string, interval time.Duration, log *slog.Logger, now func() time.Time) (*Watcher, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	p, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	w := &Watcher{path: path, interval: interval, log: log, now: now}
	w.cur.Store(p)
	w.loadedAt = now()
	return w, nil
}

// NewFixed returns a watcher of a policy that has no file to watch (the
// built-in default): Check never changes it.
func NewFixed(p *Policy, now func() time.Time) *Watcher {
	if now == nil {
		now = time.Now
	}
	w := &Watcher{path: p.Source, log: slog.New(slog.DiscardHandler), now: now, loadedAt: now(), fixed: true}
	w.cur.Store(p)
	return w
}

// Policy returns the policy in force.
func (w *Watcher) Policy() *Policy { return w.cur.Load() }

// Lease is the claim lease of the policy in force.
func (w *Watcher) Lease() time.Duration { return w.Policy().Lease }

// Status describes the policy in force.
func (w *Watcher) Status() WatchStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.cur.Load()
	return WatchStatus{Path: w.path, Digest: p.Digest, Rules: len(p.Rules), LoadedAt: w.loadedAt, Err: w.lastErr}
}

// Check rereads the file and swaps in a changed valid policy. It returns
// whether the policy changed, and the problems of a changed invalid file.
func (w *Watcher) Check() (bool, error) {
	if w.fixed {
		return false, nil
	}
	b, err := os.ReadFile(w.path)
	if err != nil {
		err = churn.Invalid("read policy", w.path, "%v", err)
		w.refuse(err, "")
		return false, err
	}
	d := digest(b)
	if d == w.cur.Load().Digest {
		w.mu.Lock()
		w.lastErr, w.badHash = nil, "" // edited back to the policy in force
		w.mu.Unlock()
		return false, nil
	}
	p, err := Parse(w.path, b)
	if err != nil {
		w.refuse(err, d)
		return false, err
	}
	w.cur.Store(p)
	w.mu.Lock()
	w.loadedAt, w.lastErr, w.badHash = w.now(), nil, ""
	w.mu.Unlock()
	w.log.Info("retention policy reloaded", "path", w.path, "digest", d[:12], "rules", len(p.Rules))
	return true, nil
}

func (w *Watcher) refuse(err error, hash string) {
	w.mu.Lock()
	again := hash != "" && hash == w.badHash
	w.lastErr, w.badHash = err, hash
	w.mu.Unlock()
	if !again {
		w.log.Error("retention policy file changed but is not valid; keeping the policy in force",
			"path", w.path, "err", err)
	}
}

// Run checks the file every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	if w.fixed || w.interval <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_, _ = w.Check()
		}
	}
}
