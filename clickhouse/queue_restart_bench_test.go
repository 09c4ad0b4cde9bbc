package clickhouse_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/retention"
)

// fillActionEvents generates, inside ClickHouse, n action events of a
// realistic shape: one action per customer (of a million) per monthly
// cycle, each queued, claimed and completed (done, or failed when the
// customer was unreachable), stamped one after another up to now, so the
// last few minutes are newer than any snapshot may hold.
//
// Its rows come out in the table's sort order (action_id, at, event_id):
// MergeTree sorts every inserted block, and sorting a million rows keyed by
// random ids took four fifths of the INSERT's CPU time (4.4 s of 5.4 s per
// million events on ClickHouse 18.16), where rows already in order cost
// 1 s. Action j (the rank of its id) is stamped at slot k = j * P mod M (M
// actions, P a prime that does not divide M), so ids are as unrelated to
// time as hashed ids are: the events after a snapshot's cut are spread over
// the whole newest partition, not packed in a few granules.
const fillActionEvents = `INSERT INTO action_events (event_id, action_id, at, event, customer_id, cycle, kind, offer, channel,
    cost, priority, value, agent, lease_until, outcome, note, actor, run_id, rule, tier, band, reason, probability,
    lifetime_value, token)
SELECT
    concat('e', toString(ns), '-0000beef') AS event_id,
    concat('a', lower(hex(j + 0x1000000000000000)), substring(lower(hex(cityHash64(j))), 1, 8)) AS action_id,
    toDateTime(intDiv(ns, 1000000000)) AS at,
    multiIf(step = 0, 'queued', step = 1, 'claimed', k %% 7 = 0, 'failed', 'done') AS event,
    concat('C', toString(k %% 1000000)) AS customer_id,
    toString(addMonths(toDate('2026-01-01'), toUInt32(intDiv(k, 1000000)))) AS cycle,
    ['specialist_call', 'offer', 'email', 'sms'][k %% 4 + 1] AS kind,
    if(k %% 4 = 1, 'discount_10', '') AS offer,
    ['phone', 'phone', 'email', 'sms'][k %% 4 + 1] AS channel,
    [25., 10., 0.1, 0.05][k %% 4 + 1] AS cost,
    toInt32(k %% 4) AS priority,
    (k %% 1000) / 3 AS value,
    if(step > 0, concat('agent-', toString(k %% 20)), '') AS agent,
    if(step > 0, toDateTime(intDiv(ns, 1000000000) + 1800), toDateTime(0)) AS lease_until,
    multiIf(step < 2, '', k %% 7 = 0, 'unreachable', k %% 3 = 0, 'accepted', 'declined') AS outcome,
    '' AS note,
    if(step = 0, 'job:actions', concat('agent:agent-', toString(k %% 20))) AS actor,
    concat('run-', toString(intDiv(k, 1000000))) AS run_id,
    'default' AS rule,
    ['A', 'B', 'C'][k %% 3 + 1] AS tier,
    ['high', 'medium', 'low'][k %% 3 + 1] AS band,
    ['price', 'network', 'service', 'competitor'][k %% 4 + 1] AS reason,
    (k %% 100) / 100 AS probability,
    toFloat64(k %% 5000) AS lifetime_value,
    toUInt64(1) AS token
FROM
(
    SELECT j, step, (j * toUInt64(%d)) %% toUInt64(%d) AS k, toUInt64(%d) + (3 * k + step) * toUInt64(%d) AS ns
    FROM (SELECT intDiv(number, 3) AS j, number %% 3 AS step FROM numbers(%d, %d))
)`

// BenchmarkQueueRestart fills a scratch database with 10M action events
// (CHURN_BENCH_QUEUE_EVENTS changes the count) and measures a server's
// start-up: the whole log replayed, against the newest snapshot plus the
// later events (the target of issue 17: <= 15 s). The database is dropped
// at the end. Run with -benchtime 1x (make bench-queue).
func BenchmarkQueueRestart(b *testing.B) {
	n := 10_000_000
	if s := os.Getenv("CHURN_BENCH_QUEUE_EVENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 3 {
			b.Fatalf("CHURN_BENCH_QUEUE_EVENTS=%q: want a number of events, at least 3", s)
		}
		n = v
	}
	c, _ := chtest.NewDB(b)
	ctx := context.Background()
	// Four months of events up to now: the last sync margin's worth is
	// left to the tail.
	span := 120 * 24 * time.Hour
	step := span / time.Duration(n)
	start := time.Now().Add(-span)
	// Slots of actions: a prime stride that does not divide their count
	// visits every slot once.
	slots := int64(n+2) / 3
	stride := int64(1_000_003)
	if slots%stride == 0 {
		stride = 999_983
	}
	t0 := time.Now()
	// In blocks of a million events: one INSERT of all would outlast the
	// driver's read timeout on a busy machine.
	for from := 0; from < n; from += 1_000_000 {
		q := fmt.Sprintf(fillActionEvents, stride, slots, start.UnixNano(), int64(step), from, min(1_000_000, n-from))
		if err := c.Conn().Exec(ctx, q); err != nil {
			b.Fatalf("fill action_events: %v", err)
		}
	}
	fill := time.Since(t0)

	// The previous owner: a full replay (what every start did before
	// snapshots), then its snapshot.
	runtime.GC()
	owner := retention.NewQueue(c, retention.QueueOptions{Snapshots: c, WriteSnapshots: true})
	t0 = time.Now()
	c0 := cpuTime()
	if err := phase(ctx, "full-replay", owner.Load); err != nil {
		b.Fatal(err)
	}
	full, fullCPU := time.Since(t0), cpuTime()-c0
	t0 = time.Now()
	var (
		h  churn.QueueSnapshot
		ok bool
	)
	err := phase(ctx, "snapshot-write", func(ctx context.Context) (err error) {
		h, ok, err = owner.WriteSnapshot(ctx)
		return err
	})
	if err != nil || !ok {
		b.Fatalf("snapshot: %v (written %v)", err, ok)
	}
	write := time.Since(t0)
	owner = nil
	runtime.GC()

	var restart, restartCPU time.Duration
	var actions int
	for b.Loop() {
		q := retention.NewQueue(c, retention.QueueOptions{Snapshots: c, WriteSnapshots: true})
		t0, c0 := time.Now(), cpuTime()
		if err := phase(ctx, "restart", q.Load); err != nil {
			b.Fatal(err)
		}
		restart, restartCPU = time.Since(t0), cpuTime()-c0
		as, err := q.Actions()
		if err != nil {
			b.Fatal(err)
		}
		actions = len(as)
		runtime.GC()
	}
	if actions < h.Actions {
		b.Fatalf("restart holds %d actions, the snapshot %d", actions, h.Actions)
	}
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(actions), "actions")
	b.ReportMetric(fill.Seconds(), "fill-s")
	b.ReportMetric(full.Seconds(), "full-replay-s")
	b.ReportMetric(fullCPU.Seconds(), "full-replay-cpu-s")
	b.ReportMetric(write.Seconds(), "snapshot-write-s")
	b.ReportMetric(restart.Seconds(), "restart-s")
	b.ReportMetric(restartCPU.Seconds(), "restart-cpu-s")
	b.Logf("%d events, %d actions: fill %s, full replay %s, snapshot write %s (cut %s), restart from the snapshot %s",
		n, actions, fill.Round(time.Millisecond), full.Round(time.Millisecond), write.Round(time.Millisecond), h.Cut, restart.Round(time.Millisecond))
}

// phase runs fn with the pprof label phase=name, so that a CPU profile of
// the benchmark (-cpuprofile) shows each phase apart:
// go tool pprof -tagfocus phase=restart.
func phase(ctx context.Context, name string, fn func(context.Context) error) error {
	var err error
	pprof.Do(ctx, pprof.Labels("phase", name), func(ctx context.Context) { err = fn(ctx) })
	return err
}

// cpuTime is the CPU time (user and system) this process has used: on a
// busy machine the wall time of a start says more about the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
