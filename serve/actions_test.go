package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// memActionLog is an in-memory action log; failNext makes the next append
// fail as an unreachable ClickHouse would.
type memActionLog struct {
	mu       sync.Mutex
	evs      []churn.ActionEvent
	failNext bool
}

func (l *memActionLog) AppendActionEvents(_ context.Context, evs []churn.ActionEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failNext {
		l.failNext = false
		return churn.Unavailable("insert into action_events", errors.New("connection refused"))
	}
	l.evs = append(l.evs, evs...)
	return nil
}

func (l *memActionLog) ActionEvents(_ context.Context, since time.Time) ([]churn.ActionEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []churn.ActionEvent
	for _, e := range l.evs {
		if !e.At.Before(since) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

type fakeOutcomes []churn.Outcome

func (f fakeOutcomes) ActionOutcomes(_ context.Context, cycles ...string) ([]churn.Outcome, error) {
	if len(cycles) == 0 {
		return f, nil
	}
	var out []churn.Outcome
	for _, o := range f {
		for _, c := range cycles {
			if o.Cycle == c {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

type actionEnv struct {
	*testEnv
	queue *retention.Queue
	log   *memActionLog
	clock *testClock
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newActionEnv is a server with a loaded score snapshot of 300 customers and
// a queue of n actions, a tenth of them for tier A customers.
func newActionEnv(t *testing.T, n int) *actionEnv {
	t.Helper()
	base := newEnv(t, 300)
	w, err := retention.NewWatcher("../policies/default.yaml", time.Minute, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)}
	log := &memActionLog{}
	q := retention.NewQueue(log, retention.QueueOptions{Now: clk.now, Lease: w.Lease})
	if err := q.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	var as []churn.Action
	for i := range n {
		tier := churn.TierC
		if i%10 == 0 {
			tier = churn.TierA
		}
		as = append(as, churn.Action{ID: fmt.Sprintf("a%05d", i), CustomerID: fmt.Sprintf("C%05d", i),
			Cycle: "2025-06-01", Kind: churn.ActionSMS, Channel: "sms", Cost: 0.08, Priority: 7, Value: float64(n - i),
			Rule: "c-high", Tier: tier, Band: churn.RiskHigh, Reason: retention.ReasonNetwork, Probability: 0.4, LifetimeValue: 300})
	}
	if _, err := q.Enqueue(context.Background(), "test", as, nil); err != nil {
		t.Fatal(err)
	}
	outs := fakeOutcomes{}
	for i := range 200 {
		o := churn.Outcome{Cycle: "2025-05-01", CustomerID: fmt.Sprint(i), ActionID: fmt.Sprint(i), Group: churn.GroupTreated,
			Kind: churn.ActionSMS, Tier: churn.TierC, LifetimeValue: 300, Churned: i%10 == 0, Cost: 0.08}
		if i%5 == 0 {
			o.Group, o.Churned, o.Cost = churn.GroupControl, i%15 == 0, 0
		}
		outs = append(outs, o)
	}
	srv, err := New(Config{Keys: base.srv.cfg.Keys}, Deps{Scores: base.store, Models: base.store, Pinger: base.store,
		Registry: prometheus.NewRegistry(), Actions: q, Outcomes: outs, Policy: w})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Loader().Poll(context.Background()) {
		t.Fatal("no snapshot")
	}
	base.srv = srv
	return &actionEnv{testEnv: base, queue: q, log: log, clock: clk}
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

func TestActionRoutesAnswerWithTheDocumentedShapesAndStatuses(t *testing.T) {
	e := newActionEnv(t, 30)
	cases := []struct {
		name, method, target, body, key string
		want                            int
	}{
		{"list queued tier A", "GET", "/v1/actions?status=queued&tier=A", "", viewerKey, 200},
		{"list with a typo", "GET", "/v1/actions?teir=A", "", viewerKey, 400},
		{"list a bad status", "GET", "/v1/actions?status=lost", "", viewerKey, 400},
		{"get one", "GET", "/v1/actions/a00001", "", viewerKey, 200},
		{"get unknown", "GET", "/v1/actions/nope", "", viewerKey, 404},
		{"claim as viewer", "POST", "/v1/actions/claim", `{"agent":"ann","limit":2}`, viewerKey, 403},
		{"claim without agent", "POST", "/v1/actions/claim", `{"limit":2}`, agentKey, 400},
		{"claim too many", "POST", "/v1/actions/claim", `{"agent":"ann","limit":1000}`, agentKey, 400},
		{"claim", "POST", "/v1/actions/claim", `{"agent":"ann","limit":2}`, agentKey, 200},
		{"complete unknown", "POST", "/v1/actions/nope/complete", `{"outcome":"accepted"}`, agentKey, 404},
		{"complete with a bad outcome", "POST", "/v1/actions/a00000/complete", `{"outcome":"maybe"}`, agentKey, 400},
		{"complete by another agent", "POST", "/v1/actions/a00000/complete", `{"outcome":"accepted","agent":"bob"}`, agentKey, 409},
		{"complete", "POST", "/v1/actions/a00000/complete", `{"outcome":"accepted","note":"took it"}`, agentKey, 200},
		{"complete twice", "POST", "/v1/actions/a00000/complete", `{"outcome":"declined"}`, agentKey, 409},
		{"complete unclaimed", "POST", "/v1/actions/a00029/complete", `{"outcome":"declined"}`, agentKey, 409},
		{"cancel", "POST", "/v1/actions/a00029/cancel", `{"note":"moved abroad"}`, agentKey, 200},
		{"cancel without a body", "POST", "/v1/actions/a00028/cancel", "", agentKey, 200},
		{"cancel twice", "POST", "/v1/actions/a00029/cancel", "", agentKey, 409},
		{"manual as agent", "POST", "/v1/customers/C00042/actions", `{"kind":"specialist_call"}`, agentKey, 403},
		{"manual", "POST", "/v1/customers/C00042/actions", `{"kind":"specialist_call","offer":"vip","note":"asked by the CEO"}`, adminKey, 201},
		{"manual again", "POST", "/v1/customers/C00042/actions", `{"kind":"specialist_call","offer":"vip"}`, adminKey, 200},
		{"manual of kind none", "POST", "/v1/customers/C00042/actions", `{"kind":"none"}`, adminKey, 400},
		{"manual for an unknown customer", "POST", "/v1/customers/X1/actions", `{"kind":"sms"}`, adminKey, 404},
		{"lift", "GET", "/v1/retention/lift", "", viewerKey, 200},
		{"lift of a cycle", "GET", "/v1/retention/lift?cycle=2025-05-01", "", viewerKey, 200},
		{"lift of a bad cycle", "GET", "/v1/retention/lift?cycle=May", "", viewerKey, 400},
		{"policy as agent", "GET", "/v1/policy", "", agentKey, 403},
		{"policy", "GET", "/v1/policy", "", adminKey, 200},
	}
	for _, c := range cases {
		rec := e.do(c.method, c.target, c.body, bearer(c.key)...)
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, rec.Code, c.want, rec.Body)
		}
	}
	list := decode[actionListJSON](t, e.do("GET", "/v1/actions?status=queued&tier=A", ""))
	for _, a := range list.Items {
		if a.Tier != "A" || a.Status != "queued" {
			t.Fatalf("filtered list has %+v", a)
		}
	}
	// Tier A: a00010 and a00020 (a00000 is done) and the manual action for
	// C00042, whose score is tier A.
	if list.Total != 3 {
		t.Fatalf("%d queued tier A actions, want 3", list.Total)
	}
	done := decode[actionJSON](t, e.do("GET", "/v1/actions/a00000", ""))
	if done.Status != "done" || done.Outcome != "accepted" || done.Note != "took it" {
		t.Fatalf("completed action %+v", done)
	}
	lift := decode[liftJSON](t, e.do("GET", "/v1/retention/lift", ""))
	if lift.All.Treated != 160 || lift.All.Control != 40 || lift.All.SavedLow == nil || len(lift.ByTier) != 1 {
		t.Fatalf("lift %+v", lift)
	}
}

func TestFiftyAgentsClaimingThroughTheAPIGetEveryActionOnce(t *testing.T) {
	e := newActionEnv(t, 1000)
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				rec := e.do("POST", "/v1/actions/claim", fmt.Sprintf(`{"agent":"agent-%d","limit":5}`, g), bearer(agentKey)...)
				if rec.Code != http.StatusOK {
					t.Errorf("claim: %d %s", rec.Code, rec.Body)
					return
				}
				res := decode[claimJSON](t, rec)
				if len(res.Actions) == 0 {
					return
				}
				mu.Lock()
				for _, a := range res.Actions {
					got[a.ActionID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 1000 {
		t.Fatalf("%d distinct actions claimed, want 1000", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("%s claimed %d times", id, n)
		}
	}
}

func TestAnExpiredLeaseReturnsTheActionToTheQueueThroughTheAPI(t *testing.T) {
	e := newActionEnv(t, 1)
	claim := func(agent string) int {
		return len(decode[claimJSON](t, e.do("POST", "/v1/actions/claim", `{"agent":"`+agent+`"}`, bearer(agentKey)...)).Actions)
	}
	if claim("ann") != 1 || claim("bob") != 0 {
		t.Fatal("the leased action was claimed twice")
	}
	e.clock.add(31 * time.Minute) // the default policy leases for 30 minutes
	if a := decode[actionJSON](t, e.do("GET", "/v1/actions/a00000", "")); a.Status != "queued" || a.Agent != "" {
		t.Fatalf("after the lease: %+v", a)
	}
	if claim("bob") != 1 {
		t.Fatal("bob could not claim the expired action")
	}
}

func TestAFailedLogWriteAnswers503AndChangesNothing(t *testing.T) {
	e := newActionEnv(t, 3)
	e.log.failNext = true
	if rec := e.do("POST", "/v1/actions/claim", `{"agent":"ann","limit":3}`, bearer(agentKey)...); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("claim during an outage: %d %s", rec.Code, rec.Body)
	}
	list := decode[actionListJSON](t, e.do("GET", "/v1/actions?status=queued", ""))
	if list.Total != 3 {
		t.Fatalf("%d queued after a failed claim, want 3", list.Total)
	}
}

func TestActionRoutesWithoutAQueueAnswer503(t *testing.T) {
	e := newEnv(t, 10)
	for _, target := range []string{"/v1/actions", "/v1/retention/lift"} {
		if rec := e.do("GET", target, ""); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d", target, rec.Code)
		}
	}
}
