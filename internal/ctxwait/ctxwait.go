// Package ctxwait waits for a while or until a context ends: the default of
// the injected sleep of the retrying loops (jobs' backoff, the dispatcher),
// which tests replace.
package ctxwait

import (
	"context"
	"time"
)

// Sleep waits d, or returns ctx's error as soon as it ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
