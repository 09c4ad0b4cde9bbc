package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/ctxwait"
)

// Backoff says how a run retries when ClickHouse is unavailable: up to
// Attempts tries in all, waiting Initial, then twice as long each time up to
// Max, each wait drawn at random from its upper half (jitter) so that the
// replicas that lost the same server do not come back in step. Other errors
// (invalid data, bugs) are never retried: running again would fail the same
// way.
type Backoff struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
	// Rand draws the jitter; nil: a source seeded from the clock.
	Rand *rand.Rand
	// Sleep waits d or until ctx ends; nil: a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error

	mu sync.Mutex // guards Rand, which is not safe for concurrent use
}

// DefaultBackoff retries for about a minute and a half: 4 tries, waits of
// 5-10s, 10-20s and 20-40s, long enough to ride out a server restart.
func DefaultBackoff() *Backoff {
	return &Backoff{Attempts: 4, Initial: 10 * time.Second, Max: 2 * time.Minute}
}

// Retryable reports whether err is worth another try: ClickHouse could not be
// reached or timed out.
func Retryable(err error) bool {
	return err != nil && churn.ErrorKind(err) == churn.KindUnavailable
}

// wait returns the jittered wait before try number n+1 (n >= 1).
func (b *Backoff) wait(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Rand == nil {
		b.Rand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	}
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	return time.Duration(half + b.Rand.Int64N(half+1))
}

// Do runs fn until it succeeds, fails with an error that is not Retryable,
// ctx ends, or the attempts are used up. The error returned is fn's last,
// with the number of attempts when there was more than one.
func (b *Backoff) Do(ctx context.Context, log *slog.Logger, what string, fn func(ctx context.Context) error) error {
	attempts := max(1, b.Attempts)
	sleep := b.Sleep
	if sleep == nil {
		sleep = ctxwait.Sleep
	}
	var err error
	for n := 1; ; n++ {
		err = fn(ctx)
		if !Retryable(err) || ctx.Err() != nil {
			break
		}
		if n >= attempts {
			return fmt.Errorf("%s: gave up after %d attempts: %w", what, n, err)
		}
		d := b.wait(n)
		if log != nil {
			log.Warn("storage unavailable; retrying", "what", what, "attempt", n, "of", attempts, "wait", d.Round(time.Millisecond).String(), "err", err)
		}
		if serr := sleep(ctx, d); serr != nil {
			return fmt.Errorf("%s: stopped while waiting to retry: %w", what, err)
		}
	}
	return err
}
