package serve

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telcoretain/churn"
)

// Loader keeps the latest finished scoring run in memory. It polls the store
// for a newer finished run, loads it completely in the background and only
// then swaps it in, so readers always see one whole run and never wait on
// ClickHouse. When the store fails, the last snapshot stays.
type Loader struct {
	store    ScoreStore
	interval time.Duration
	timeout  time.Duration // of the look for a newer run; 0: none
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics

	snap atomic.Pointer[Snapshot]
	// wake asks Run to poll now rather than at the next tick (Notify).
	wake chan struct{}

	mu        sync.Mutex
	lastErr   error  // of the last poll, nil when it succeeded
	failedRun string // a run that failed to load, not retried until it changes
}

// NewLoader returns a loader that polls store every interval once Run starts.
func NewLoader(store ScoreStore, interval time.Duration, log *slog.Logger) *Loader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loader{store: store, interval: interval, log: log, now: time.Now, wake: make(chan struct{}, 1)}
}

// Notify tells the loader that a run may have just finished, so that Run
// polls at once instead of at the next tick: a scoring run of this process
// is served as soon as it is finished. It never blocks; notices that arrive
// while one is pending are merged. Other replicas keep polling.
func (l *Loader) Notify() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Snapshot returns the snapshot being served, nil before the first load.
func (l *Loader) Snapshot() *Snapshot { return l.snap.Load() }

// Run polls until ctx ends. The first poll happens at once, and another one
// whenever Notify is called.
func (l *Loader) Run(ctx context.Context) error {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		l.Poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-l.wake:
		}
	}
}

// Poll checks for a newer finished run and loads it. It returns whether a
// new snapshot was swapped in; failures are logged and kept for readiness.
func (l *Loader) Poll(ctx context.Context) bool {
	swapped, err := l.poll(ctx)
	l.mu.Lock()
	prev := l.lastErr
	l.lastErr = err
	l.mu.Unlock()
	switch {
	case err != nil && prev == nil:
		l.log.Warn("score snapshot: poll failed; serving the last snapshot", "err", err)
	case err != nil:
		l.log.Debug("score snapshot: poll failed again", "err", err)
	case prev != nil:
		l.log.Info("score snapshot: store answers again")
	}
	return swapped
}

// Err is the error of the last poll, nil when it succeeded.
func (l *Loader) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

func (l *Loader) poll(ctx context.Context) (bool, error) {
	run, err := l.latest(ctx)
	l.metrics.setStoreUp(churn.ErrorKind(err) != churn.KindUnavailable)
	if err != nil || run == nil {
		return false, err
	}
	if cur := l.snap.Load(); cur != nil && cur.run.ID == run.ID {
		return false, nil
	}
	l.mu.Lock()
	failed := l.failedRun == run.ID
	l.mu.Unlock()
	if failed {
		return false, nil
	}
	start := l.now()
	s, err := l.load(ctx, *run)
	if err != nil {
		if ctx.Err() == nil && isDataError(err) {
			// A run that cannot be served as it is will not get better by
			// reloading it every interval; wait for the next run.
			l.mu.Lock()
			l.failedRun = run.ID
			l.mu.Unlock()
			l.log.Error("score snapshot: run cannot be served; keeping the previous snapshot", "run", run.ID, "err", err)
			l.metrics.loadFailed()
			return false, nil
		}
		l.metrics.loadFailed()
		return false, err
	}
	l.snap.Store(s)
	l.metrics.snapshotSwapped(s)
	l.log.Info("score snapshot: loaded", "run", run.ID, "as_of", run.AsOf.Format(dateLayout),
		"model_version", run.ModelVersion, "scores", s.Len(), "took", l.now().Sub(start).Round(time.Millisecond))
	return true, nil
}

// latest reads the newest finished run and the champion, within the
// loader's timeout: a hung ClickHouse makes the poll fail in seconds, which
// readiness and the reachability metric report.
func (l *Loader) latest(ctx context.Context) (*churn.ScoreRun, error) {
	if l.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	run, err := l.store.LatestFinishedRun(ctx)
	if err != nil || run == nil {
		return run, err
	}
	if cr, ok := l.store.(ChampionReader); ok {
		if v, err := cr.ChampionVersion(ctx); err == nil {
			l.metrics.setChampion(v)
		}
	}
	return run, nil
}

func (l *Loader) load(ctx context.Context, run churn.ScoreRun) (*Snapshot, error) {
	b := newSnapshotBuilder(run)
	var bad error
	err := l.store.ScanRunScores(ctx, run.ID, func(s churn.Score) error {
		if err := b.add(s); err != nil {
			bad = err
			return err
		}
		return nil
	})
	if bad != nil {
		return nil, badRunError{bad}
	}
	if err != nil {
		return nil, err
	}
	if n := len(b.s.entries); run.Rows > 0 && int64(n) != run.Rows {
		// With replicated tables the rows may still be arriving: retry.
		return nil, churn.Errorf(churn.KindUnavailable, "load run "+run.ID,
			"read %d scores, the run recorded %d", n, run.Rows)
	}
	if rr, ok := l.store.(RegionReader); ok {
		if err := b.readRegions(ctx, rr); err != nil {
			return nil, err
		}
	}
	return b.build(l.now()), nil
}

// badRunError marks a run whose rows the snapshot cannot hold.
type badRunError struct{ error }

func (e badRunError) Unwrap() error { return e.error }

func isDataError(err error) bool {
	var b badRunError
	return errors.As(err, &b)
}
