// Package retentiontest gives tests of the retention queue and of its users
// (the HTTP routes, the planning jobs) an in-memory action log, so that they
// run without ClickHouse. The log's behaviour against a real server is
// tested in package clickhouse.
package retentiontest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/telcoretain/churn"
)

// Log is an in-memory retention.Log: events are kept in the order they were
// appended and read back ordered by id, as ClickHouse returns them.
type Log struct {
	mu       sync.Mutex
	evs      []churn.ActionEvent
	failNext bool
	land     bool
}

// FailNext makes the next append fail as an unreachable ClickHouse would.
// With land the failed block is written all the same, as when a timeout
// cuts the answer of a server that took the block.
func (l *Log) FailNext(land bool) {
	l.mu.Lock()
	l.failNext, l.land = true, land
	l.mu.Unlock()
}

// AppendActionEvents appends events as one block.
func (l *Log) AppendActionEvents(_ context.Context, evs []churn.ActionEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failNext {
		l.failNext = false
		if l.land {
			l.evs = append(l.evs, evs...)
		}
		return churn.Unavailable("insert into action_events", errors.New("connection reset"))
	}
	l.evs = append(l.evs, evs...)
	return nil
}

// ActionEvents returns the events at or after since (zero: all), ordered by
// id.
func (l *Log) ActionEvents(_ context.Context, since time.Time) ([]churn.ActionEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []churn.ActionEvent
	for _, e := range l.evs {
		if !e.At.Before(since) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b churn.ActionEvent) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Len returns the number of events written.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.evs)
}

// ScanActionEvents streams the events after after and at most upto (empty:
// unbounded), ordered by id.
func (l *Log) ScanActionEvents(_ context.Context, after, upto string, fn func(churn.ActionEvent) error) error {
	l.mu.Lock()
	var evs []churn.ActionEvent
	for _, e := range l.evs {
		if (after == "" || e.ID > after) && (upto == "" || e.ID <= upto) {
			evs = append(evs, e)
		}
	}
	l.mu.Unlock()
	slices.SortStableFunc(evs, func(a, b churn.ActionEvent) int { return strings.Compare(a.ID, b.ID) })
	for _, e := range evs {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
