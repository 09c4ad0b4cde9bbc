package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/retention"
)

func TestPolicyCheckReportsEveryProblemWithItsLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	doc := "budget_per_cycle: 100\nactions:\n  sms: {channel: sms, cost: 1, save_rate: 0.1}\nrules:\n  - name: x\n    tiers: [Z]\n    action: fax\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "policy", "check", path)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, out)
	}
	for _, want := range []string{path + ":6: rules[0].tiers[0]", path + ":7: rules[0].action"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = run(t, "policy", "check", "../../policies/default.yaml")
	if code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("default policy: exit %d\n%s", code, out)
	}
}

const (
	testAgentKey = "agent-key-for-the-durability-test"
	testAdminKey = "admin-key-for-the-durability-test"
)

// servedQueue runs `churn serve` as a real process on a fresh database.
type servedQueue struct {
	t       *testing.T
	bin     string
	env     []string
	addr    string
	cmd     *exec.Cmd
	log     *os.File
	timeout time.Duration // of each request; 10 s when zero
	ttl     string        // --queue-owner-ttl; 3s when empty
}

func (s *servedQueue) start() {
	s.t.Helper()
	s.launch()
	s.waitUp()
}

// launch starts the process without waiting for it to answer.
func (s *servedQueue) launch() {
	s.t.Helper()
	ttl := s.ttl
	if ttl == "" {
		ttl = "3s"
	}
	s.cmd = exec.Command(s.bin, "serve", "--http-addr", s.addr, "--poll-interval", "1s", "--queue-owner-ttl", ttl)
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.env, s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
}

// waitUp waits until the server serves action reads.
func (s *servedQueue) waitUp() {
	s.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var st int
		if err := s.call("GET", "/v1/actions?limit=1", nil, &st, nil); err == nil && st == http.StatusOK {
			return
		}
	}
	s.t.Fatalf("churn serve did not come up; see %s", s.log.Name())
}

func (s *servedQueue) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

func (s *servedQueue) call(method, path string, body any, status *int, out any) error {
	code, data, err := s.do(method, path, body)
	if err != nil {
		return err // cut off mid-answer: not acknowledged
	}
	*status = code
	if out != nil && code == http.StatusOK {
		return json.Unmarshal(data, out)
	}
	return nil
}

// do sends a request with the admin key, which acts for the tests' many
// agents (an agent's key works as its own name only), and returns the
// status and body.
func (s *servedQueue) do(method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+s.addr+path, r)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	req.Header.Set("Content-Type", "application/json")
	timeout := s.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

type apiAction struct {
	ActionID string `json:"action_id"`
	Status   string `json:"status"`
	Agent    string `json:"agent"`
	Outcome  string `json:"outcome"`
}

// enqueueTestActions queues n sms actions a0000... in the log of c.
func enqueueTestActions(t *testing.T, c *clickhouse.Client, n int) {
	t.Helper()
	q := retention.NewQueue(c, retention.QueueOptions{})
	if err := q.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	var as []churn.Action
	for i := range n {
		as = append(as, churn.Action{ID: fmt.Sprintf("a%04d", i), CustomerID: fmt.Sprintf("c%04d", i),
			Cycle: "2025-06-01", Kind: churn.ActionOffer, Channel: "phone", Cost: 0.1, Priority: 5, Value: float64(i), Rule: "test", Tier: churn.TierC})
	}
	if _, err := q.Enqueue(context.Background(), "test", as, nil); err != nil {
		t.Fatal(err)
	}
}

// buildChurn builds the binary into dir.
func buildChurn(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "churn")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build churn: %v\n%s", err, out)
	}
	return bin
}

// newServedQueue prepares a server of bin on the database of cfg, on a free
// loopback port, logging to dir/name.log.
func newServedQueue(t *testing.T, bin, dir, name string, cfg clickhouse.Config) *servedQueue {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("last lines of %s:\n%s", name+".log", strings.Join(lines[max(0, len(lines)-25):], "\n"))
		}
	})
	return &servedQueue{t: t, bin: bin, addr: addr, log: logf, env: append(os.Environ(),
		"CHURN_CLICKHOUSE_ADDR="+cfg.Addr, "CHURN_CLICKHOUSE_DB="+cfg.Database, "CHURN_SCHEDULER=false",
		"CHURN_API_KEYS=agent:dana:"+testAgentKey+",admin:"+testAdminKey)}
}

func TestServeKilledWhileAgentsWorkKeepsEveryAcknowledgedEventOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server")
	}
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	st := c
	const n = 400
	enqueueTestActions(t, c, n)

	dir := t.TempDir()
	s := newServedQueue(t, buildChurn(t, dir), dir, "serve", cfg)
	s.start()
	t.Cleanup(s.kill)

	// Agents claim and complete until the server dies under them.
	var (
		mu        sync.Mutex
		claimedBy = map[string]string{} // acknowledged claims
		completed = map[string]string{} // acknowledged outcomes
		acks      atomic.Int64
		wg        sync.WaitGroup
	)
	outcomes := []string{"accepted", "declined", "unreachable"}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agent := fmt.Sprintf("agent-%d", g)
			for i := 0; ; i++ {
				var st int
				var res struct{ Actions []apiAction }
				if err := s.call("POST", "/v1/actions/claim", map[string]any{"agent": agent, "limit": 3}, &st, &res); err != nil || st != 200 {
					return
				}
				if len(res.Actions) == 0 {
					return
				}
				mu.Lock()
				for _, a := range res.Actions {
					claimedBy[a.ActionID] = agent
				}
				mu.Unlock()
				for j, a := range res.Actions {
					oc := outcomes[(i+j)%3]
					if err := s.call("POST", "/v1/actions/"+a.ActionID+"/complete", map[string]any{"outcome": oc}, &st, nil); err != nil || st != 200 {
						return
					}
					mu.Lock()
					completed[a.ActionID] = oc
					mu.Unlock()
					acks.Add(1)
				}
			}
		}()
	}
	for deadline := time.Now().Add(time.Minute); acks.Load() < 120; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d completions in a minute; see %s", acks.Load(), s.log.Name())
		}
	}
	s.kill() // SIGKILL mid-traffic
	wg.Wait()
	t.Logf("acknowledged before the kill: %d claims, %d completions", len(claimedBy), len(completed))

	// The log has every acknowledged event, each once. An insert the dead
	// process had sent may still land (written, never acknowledged): read
	// once the log has stopped growing.
	var evs []churn.ActionEvent
	for stable := 0; stable < 3; time.Sleep(200 * time.Millisecond) {
		next, err := st.ActionEvents(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(next) == len(evs) {
			stable++
		} else {
			stable = 0
		}
		evs = next
	}
	seen := map[string]bool{}
	terminal := map[string]churn.ActionEvent{}
	claims := map[string][]string{}
	for _, e := range evs {
		if seen[e.ID] {
			t.Fatalf("event %s is in the log twice", e.ID)
		}
		seen[e.ID] = true
		switch e.Type {
		case churn.ActionDone, churn.ActionFailed:
			if prev, dup := terminal[e.Action.ID]; dup {
				t.Fatalf("action %s completed twice: %s and %s", e.Action.ID, prev.ID, e.ID)
			}
			terminal[e.Action.ID] = e
		case churn.ActionClaimed:
			claims[e.Action.ID] = append(claims[e.Action.ID], e.Action.Agent)
		}
	}
	for id, agent := range claimedBy {
		if len(claims[id]) != 1 || claims[id][0] != agent {
			t.Errorf("acknowledged claim of %s by %s: log has claims %v", id, agent, claims[id])
		}
	}
	for id, oc := range completed {
		if e, ok := terminal[id]; !ok || e.Action.Outcome != oc {
			t.Errorf("acknowledged %s of %s is not in the log (%+v)", oc, id, e)
		}
	}

	// After a restart the queue is the log's: acknowledged outcomes stand,
	// acknowledged claims are still held, and the work can be finished.
	s.start()
	var list struct {
		Items []apiAction
		Total int
	}
	var code int
	if err := s.call("GET", "/v1/actions?limit=1000", nil, &code, &list); err != nil || list.Total != n {
		t.Fatalf("after restart: %d actions (%v)", list.Total, err)
	}
	finished := 0
	for _, a := range list.Items {
		if oc, ok := completed[a.ActionID]; ok && a.Outcome != oc {
			t.Errorf("%s: outcome %q after restart, acknowledged %q", a.ActionID, a.Outcome, oc)
		}
		if a.Status == "done" || a.Status == "failed" {
			finished++
		}
	}
	if finished != len(terminal) {
		t.Fatalf("%d finished actions served after restart, the log has %d", finished, len(terminal))
	}
	for id := range claimedBy {
		if _, done := terminal[id]; done {
			continue
		}
		if err := s.call("POST", "/v1/actions/"+id+"/complete", map[string]any{"outcome": "declined", "agent": claimedBy[id]}, &code, nil); err != nil || code != 200 {
			t.Errorf("completing %s, claimed before the kill by %s: %d %v", id, claimedBy[id], code, err)
		}
	}
	for id, oc := range completed {
		other := map[string]string{"declined": "accepted"}[oc]
		if other == "" {
			other = "declined"
		}
		if err := s.call("POST", "/v1/actions/"+id+"/complete", map[string]any{"outcome": other}, &code, nil); err != nil || code != http.StatusConflict {
			t.Errorf("completing the finished %s (%s) again as %s: %d %v", id, oc, other, code, err)
		}
		break
	}
}
