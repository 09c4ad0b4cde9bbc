package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/zookeeper/zktest"
)

// queueRole reads the queue part of a server's /readyz (503 without a
// scoring run, with the queue part all the same); "" when it does not answer.
func (s *servedQueue) queueRole() (role, ownerAddr string) {
	var out struct {
		Queue struct {
			Role      string `json:"role"`
			OwnerAddr string `json:"owner_addr"`
		} `json:"queue"`
	}
	_, data, err := s.do("GET", "/readyz", nil)
	if err != nil || json.Unmarshal(data, &out) != nil {
		return "", ""
	}
	return out.Queue.Role, out.Queue.OwnerAddr
}

// waitRoles waits until exactly one of servers owns the queue and the
// others read, and returns the owner.
func waitRoles(t *testing.T, within time.Duration, servers ...*servedQueue) *servedQueue {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var owner *servedQueue
		readers := 0
		for _, s := range servers {
			switch role, _ := s.queueRole(); role {
			case "owner":
				owner = s
			case "reader":
				readers++
			}
		}
		if owner != nil && readers == len(servers)-1 {
			return owner
		}
	}
	t.Fatalf("no single owner among %d servers within %s", len(servers), within)
	return nil
}

func TestTwoServersOnOneDatabaseNeverBothAcceptClaims(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two servers")
	}
	c, cfg := chtest.NewDB(t)
	const n = 600
	enqueueTestActions(t, c, n)
	dir := t.TempDir()
	bin := buildChurn(t, dir)
	a, b := newServedQueue(t, bin, dir, "a", cfg), newServedQueue(t, bin, dir, "b", cfg)
	servers := []*servedQueue{a, b}
	for _, s := range servers {
		s.timeout = 2 * time.Second // a stopped owner must not hold agents long
		s.ttl = "5s"                // beats of 1 s may lag on a loaded machine
		s.launch()                  // both at once: the tie-break decides
		t.Cleanup(s.kill)
	}
	for _, s := range servers {
		s.waitUp()
	}
	owner := waitRoles(t, 15*time.Second, a, b)
	reader := a
	if owner == a {
		reader = b
	}
	code, data, err := reader.do("POST", "/v1/actions/claim", map[string]any{"agent": "probe"})
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(data), owner.addr) {
		t.Fatalf("claim on the reader: %d %s (%v); want 503 naming the owner %s", code, data, err, owner.addr)
	}
	if code, _, err := reader.do("GET", "/v1/actions?limit=5", nil); err != nil || code != http.StatusOK {
		t.Fatalf("action list on the reader: %d (%v); want 200", code, err)
	}
	if got := metric(t, owner, "churn_queue_owner"); got != "1" {
		t.Errorf("owner's churn_queue_owner = %s, want 1", got)
	}
	if got := metric(t, reader, "churn_queue_owner"); got != "0" {
		t.Errorf("reader's churn_queue_owner = %s, want 0", got)
	}

	// Agents work in bounded loops, each on whichever server takes its
	// claims; the owner is stopped (a stall: its heartbeat stops, the
	// process lives), then resumed, then the new owner is killed.
	w := newAgents(servers)
	w.run(8, n)
	w.waitAcks(t, 60)
	stalled := owner
	_ = stalled.cmd.Process.Signal(syscall.SIGSTOP)
	stoppedAt := time.Now()
	next := waitRoles(t, 15*time.Second, reader)
	t.Logf("owner stalled: the other server owns after %s", time.Since(stoppedAt).Round(time.Millisecond))
	if d := time.Since(stoppedAt); d > 10*time.Second {
		t.Errorf("takeover after a stalled owner took %s; want within 10 s (TTL 5 s, poll 1 s)", d)
	}
	w.waitAcks(t, w.acks.Load()+60)
	_ = stalled.cmd.Process.Signal(syscall.SIGCONT)
	if got := waitRoles(t, 10*time.Second, stalled, next); got != next {
		t.Fatalf("after the stall the stalled server owns again")
	}
	w.waitAcks(t, w.acks.Load()+60)
	next.kill()
	killedAt := time.Now()
	waitRoles(t, 15*time.Second, stalled)
	t.Logf("owner killed: the other server owns after %s", time.Since(killedAt).Round(time.Millisecond))
	w.waitAcks(t, w.acks.Load()+60)
	w.stop()
	t.Logf("acknowledged: %d claims, %d completions, %d refused answers", len(w.claimedBy), len(w.completed), w.refused.Load())

	w.check(t, c)
}

// agents claim and complete actions on whichever server answers.
type agents struct {
	servers   []*servedQueue
	mu        sync.Mutex
	claimedBy map[string][]string // action: agents whose claim was acknowledged
	completed map[string]string   // action: acknowledged outcome
	acks      atomic.Int64
	refused   atomic.Int64
	done      chan struct{}
	wg        sync.WaitGroup
}

func newAgents(servers []*servedQueue) *agents {
	return &agents{servers: servers, claimedBy: map[string][]string{}, completed: map[string]string{}, done: make(chan struct{})}
}

// call sends a request to the servers in turn, from the last that took one,
// until one answers 200 (within 30 s, longer than any takeover), and reports
// whether one did.
func (w *agents) call(cur *int, path string, body map[string]any, out any) bool {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case <-w.done:
			return false
		default:
		}
		s := w.servers[*cur%len(w.servers)]
		var code int
		if err := s.call("POST", path, body, &code, out); err == nil && code == http.StatusOK {
			return true
		}
		w.refused.Add(1)
		*cur++
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func (w *agents) run(k, limit int) {
	for g := range k {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			agent, cur := fmt.Sprintf("agent-%d", g), g
			for i := 0; i < limit; i++ {
				var res struct{ Actions []apiAction }
				if !w.call(&cur, "/v1/actions/claim", map[string]any{"agent": agent, "limit": 2}, &res) || len(res.Actions) == 0 {
					return
				}
				w.mu.Lock()
				for _, a := range res.Actions {
					w.claimedBy[a.ActionID] = append(w.claimedBy[a.ActionID], agent)
				}
				w.mu.Unlock()
				for j, a := range res.Actions {
					oc := retention.Outcomes[(i+j)%3]
					if !w.call(&cur, "/v1/actions/"+a.ActionID+"/complete", map[string]any{"outcome": oc, "agent": agent}, nil) {
						return
					}
					w.mu.Lock()
					w.completed[a.ActionID] = oc
					w.mu.Unlock()
					w.acks.Add(1)
				}
			}
		}()
	}
}

func (w *agents) waitAcks(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); w.acks.Load() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d completions acknowledged within a minute", w.acks.Load(), n)
		}
	}
}

func (w *agents) stop() {
	close(w.done)
	w.wg.Wait()
}

// check reads the log: it holds every acknowledged event, no action was
// held by two agents, and a replay gives the acknowledged outcomes.
func (w *agents) check(t *testing.T, c *clickhouse.Client) {
	t.Helper()
	ctx := context.Background()
	evs, err := c.ActionEvents(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	logged := map[string]bool{}
	for _, e := range evs {
		logged[string(e.Type)+"/"+e.Action.ID+"/"+e.Action.Agent] = true
	}
	for id, agents := range w.claimedBy {
		if len(agents) != 1 {
			t.Errorf("action %s was claimed by %v: held by two agents", id, agents)
		}
		for _, ag := range agents {
			if !logged["claimed/"+id+"/"+ag] {
				t.Errorf("acknowledged claim of %s by %s is not in action_events", id, ag)
			}
		}
	}
	replay := retention.NewQueue(c, retention.QueueOptions{})
	if err := replay.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for id, oc := range w.completed {
		got, err := replay.Get(id)
		if err != nil || got.Outcome != oc {
			t.Errorf("acknowledged outcome %s of %s: the log replays %q (%v)", oc, id, got.Outcome, err)
		}
	}
}

// metric reads one unlabelled sample of a server's /metrics.
func metric(t *testing.T, s *servedQueue, name string) string {
	t.Helper()
	_, data, err := s.do("GET", "/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

func TestZooKeeperLeaseMovesToAnotherServerWhenTheOwnerIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three servers")
	}
	zkAddr := zktest.Require(t)
	c, cfg := chtest.NewDB(t)
	const n = 1500
	enqueueTestActions(t, c, n)
	dir := t.TempDir()
	bin := buildChurn(t, dir)
	var servers []*servedQueue
	for i := range 3 {
		s := newServedQueue(t, bin, dir, fmt.Sprintf("s%d", i), cfg)
		s.env = append(s.env, "CHURN_ZOOKEEPER="+zkAddr, "CHURN_ZOOKEEPER_SESSION_TIMEOUT=4s")
		s.timeout = 2 * time.Second
		s.launch()
		t.Cleanup(s.kill)
		servers = append(servers, s)
	}
	for _, s := range servers {
		s.waitUp()
	}
	owner := waitRoles(t, 15*time.Second, servers...)
	w := newAgents(servers)
	w.run(20, 40)
	w.waitAcks(t, 100)
	owner.kill() // SIGKILL: its ZooKeeper session expires after 4 s
	killedAt := time.Now()
	var rest []*servedQueue
	for _, s := range servers {
		if s != owner {
			rest = append(rest, s)
		}
	}
	waitRoles(t, 15*time.Second, rest...)
	took := time.Since(killedAt)
	t.Logf("owner killed: another server owns the queue after %s", took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("takeover took %s; want within 15 s", took)
	}
	w.waitAcks(t, w.acks.Load()+100)
	w.stop()
	t.Logf("acknowledged: %d claims, %d completions, %d refused answers", len(w.claimedBy), len(w.completed), w.refused.Load())
	w.check(t, c)
}
