package serve

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
	"github.com/telcoretain/churn/retention"
	"github.com/telcoretain/churn/retention/retentiontest"
)

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
	log   *retentiontest.Log
	clock *clocktest.Clock
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
	clk := clocktest.New(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))
	log := &retentiontest.Log{}
	q := retention.NewQueue(log, retention.QueueOptions{Now: clk.Now, Lease: w.Lease})
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
			Cycle: "2025-06-01", Kind: churn.ActionOffer, Channel: "phone", Cost: 0.08, Priority: 7, Value: float64(n - i),
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
		{"list a bad cycle", "GET", "/v1/actions?cycle=2025-13-01", "", viewerKey, 400},
		{"get one", "GET", "/v1/actions/a00001", "", viewerKey, 200},
		{"get unknown", "GET", "/v1/actions/nope", "", viewerKey, 404},
		{"claim as viewer", "POST", "/v1/actions/claim", `{"agent":"ann","limit":2}`, viewerKey, 403},
		{"claim for another agent", "POST", "/v1/actions/claim", `{"agent":"bob","limit":2}`, agentKey, 403},
		{"claim too many", "POST", "/v1/actions/claim", `{"limit":1000}`, agentKey, 400},
		{"claim", "POST", "/v1/actions/claim", `{"limit":2}`, agentKey, 200},
		{"complete unknown", "POST", "/v1/actions/nope/complete", `{"outcome":"accepted"}`, agentKey, 404},
		{"complete with a bad outcome", "POST", "/v1/actions/a00000/complete", `{"outcome":"maybe"}`, agentKey, 400},
		{"complete by another agent", "POST", "/v1/actions/a00000/complete", `{"outcome":"accepted"}`, bobKey, 403},
		{"complete naming another agent", "POST", "/v1/actions/a00000/complete", `{"outcome":"accepted","agent":"bob"}`, agentKey, 403},
		{"complete", "POST", "/v1/actions/a00000/complete", `{"outcome":"accepted","note":"took it"}`, agentKey, 200},
		{"complete twice", "POST", "/v1/actions/a00000/complete", `{"outcome":"declined"}`, agentKey, 409},
		{"complete unclaimed", "POST", "/v1/actions/a00029/complete", `{"outcome":"declined"}`, agentKey, 409},
		{"cancel another agent's claim", "POST", "/v1/actions/a00001/cancel", "", bobKey, 403},
		{"cancel", "POST", "/v1/actions/a00029/cancel", `{"note":"moved abroad"}`, agentKey, 200},
		{"cancel without a body", "POST", "/v1/actions/a00028/cancel", "", agentKey, 200},
		{"cancel twice", "POST", "/v1/actions/a00029/cancel", "", agentKey, 409},
		{"manual as agent", "POST", "/v1/customers/C00042/actions", `{"kind":"specialist_call"}`, agentKey, 403},
		{"manual", "POST", "/v1/customers/C00042/actions", `{"kind":"specialist_call","offer":"vip","note":"asked by the CEO"}`, adminKey, 201},
		{"manual again", "POST", "/v1/customers/C00042/actions", `{"kind":"specialist_call","offer":"vip"}`, adminKey, 200},
		{"manual of kind none", "POST", "/v1/customers/C00042/actions", `{"kind":"none"}`, adminKey, 400},
		{"manual of priority 0", "POST", "/v1/customers/C00042/actions", `{"kind":"offer","priority":0}`, adminKey, 400},
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
	if pol := decode[policyJSON](t, e.do("GET", "/v1/policy", "", bearer(adminKey)...)); pol.Targeting != "risk" {
		t.Fatalf("policy targeting %q, want the default risk", pol.Targeting)
	}
	lift := decode[liftJSON](t, e.do("GET", "/v1/retention/lift", ""))
	if lift.All.Treated != 160 || lift.All.Control != 40 || lift.All.SavedLow == nil || len(lift.ByTier) != 1 || len(lift.Rates) == 0 {
		t.Fatalf("lift %+v", lift)
	}

	// Once its cycle is archived a closed action is gone, and a list of the
	// cycle says why it holds the open ones only.
	if got, err := e.queue.ArchiveCycles(context.Background(), "test", []string{"2025-06-01"}); err != nil || len(got) != 1 {
		t.Fatalf("archive: %v %v", got, err)
	}
	rec := e.do("GET", "/v1/actions/a00000", "")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "archived cycles") {
		t.Fatalf("a done action of an archived cycle: %d %s", rec.Code, rec.Body)
	}
	june := decode[actionListJSON](t, e.do("GET", "/v1/actions?cycle=2025-06-01&limit=100", ""))
	if !june.CycleArchived || june.Total != 27 { // 30, less a00000 done and a00028/a00029 cancelled
		t.Fatalf("list of the archived cycle: archived %v, %d actions", june.CycleArchived, june.Total)
	}
	for _, a := range june.Items {
		if a.Status != "queued" && a.Status != "claimed" {
			t.Fatalf("archived cycle lists a closed action: %+v", a)
		}
	}
	if other := e.do("GET", "/v1/actions?cycle=2025-07-01", ""); strings.Contains(other.Body.String(), "cycle_archived") {
		t.Fatalf("a cycle that is not archived: %s", other.Body)
	}
	if pol := decode[policyJSON](t, e.do("GET", "/v1/policy", "", bearer(adminKey)...)); pol.ArchiveAfter != retention.DefaultArchiveAfterDays {
		t.Fatalf("policy archive_after_days %d", pol.ArchiveAfter)
	}
	// What the queue holds in memory, for dashboards: the archived cycle's
	// open actions (its done and cancelled ones left), and the contact of the done one.
	metrics := e.do("GET", "/metrics", "", "Authorization", "").Body.String()
	for _, want := range []string{`churn_queue_actions{status="queued"} `, `churn_queue_actions{status="done"} 0`, `churn_queue_actions{status="cancelled"} 0`,
		"churn_queue_archived_cycles 1", "churn_queue_archived_contact_customers 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	checkMetricsText(t, metrics)
}

// TestTheClaimRouteHandsOutTheQueuesLeasesAsJSON checks how the claim route
// maps onto the queue: the request's agent and limit go in, the caller's key
// is recorded as the actor, and the queue's leases come out as JSON. That
// concurrent claims never hand out an action twice is the queue's own test
// (retention's TestFiftyAgentsClaimEveryActionExactlyOnce).
func TestTheClaimRouteHandsOutTheQueuesLeasesAsJSON(t *testing.T) {
	e := newActionEnv(t, 12)
	leaseUntil := e.clock.Now().Add(30 * time.Minute).Format(time.RFC3339) // the default policy's lease
	var mu sync.Mutex
	got := map[string]string{} // action id: agent
	var wg sync.WaitGroup
	for _, agent := range []string{"ann", "bob", "cy"} {
		wg.Go(func() {
			for {
				rec := e.do("POST", "/v1/actions/claim", `{"limit":2}`, bearer(agentKeys[agent])...)
				if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("claim: %d %q %s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
					return
				}
				res := decode[claimJSON](t, rec)
				if res.Agent != agent || len(res.Actions) > 2 {
					t.Errorf("%s got %d actions as %q", agent, len(res.Actions), res.Agent)
				}
				if len(res.Actions) == 0 {
					return
				}
				mu.Lock()
				for _, a := range res.Actions {
					if a.Status != "claimed" || a.Agent != agent || a.LeaseUntil != leaseUntil {
						t.Errorf("%s got %+v, want it claimed by them until %s", agent, a, leaseUntil)
					}
					got[a.ActionID] = agent
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != 12 {
		t.Fatalf("%d actions claimed, want all 12", len(got))
	}
	for id, agent := range got {
		if a, err := e.queue.Get(id); err != nil || a.Status != churn.ActionClaimed || a.Agent != agent {
			t.Fatalf("queue has %+v (%v), want %s claimed by %s", a, err, id, agent)
		}
	}
	evs, _ := e.log.ActionEvents(context.Background(), time.Time{})
	for _, ev := range evs {
		if ev.Type == churn.ActionClaimed && ev.Actor != "agent:"+ev.Action.Agent {
			t.Fatalf("claim event of %s recorded as %q, want the agent key's actor", ev.Action.Agent, ev.Actor)
		}
	}
}

func TestAnExpiredLeaseReturnsTheActionToTheQueueThroughTheAPI(t *testing.T) {
	e := newActionEnv(t, 1)
	claim := func(agent string) int {
		return len(decode[claimJSON](t, e.do("POST", "/v1/actions/claim", `{}`, bearer(agentKeys[agent])...)).Actions)
	}
	if claim("ann") != 1 || claim("bob") != 0 {
		t.Fatal("the leased action was claimed twice")
	}
	e.clock.Add(31 * time.Minute) // the default policy leases for 30 minutes
	if a := decode[actionJSON](t, e.do("GET", "/v1/actions/a00000", "")); a.Status != "queued" || a.Agent != "" {
		t.Fatalf("after the lease: %+v", a)
	}
	if claim("bob") != 1 {
		t.Fatal("bob could not claim the expired action")
	}
}

func TestAFailedLogWriteAnswers503AndChangesNothing(t *testing.T) {
	e := newActionEnv(t, 3)
	e.log.FailNext(false)
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

func TestClaimsAndCompletionsAreRecordedUnderTheKeysNameAndOnlyAnAdminActsForAnother(t *testing.T) {
	e := newActionEnv(t, 3)
	// ann claims as herself, whatever the body would have said.
	res := decode[claimJSON](t, e.do("POST", "/v1/actions/claim", `{"limit":1}`, bearer(agentKey)...))
	if res.Agent != "ann" || len(res.Actions) != 1 || res.Actions[0].Agent != "ann" {
		t.Fatalf("ann's claim: %+v", res)
	}
	id := res.Actions[0].ActionID
	// bob may not complete it: 403 with the JSON error shape.
	rec := e.do("POST", "/v1/actions/"+id+"/complete", `{"outcome":"accepted"}`, bearer(bobKey)...)
	if rec.Code != http.StatusForbidden || decode[errorJSON](t, rec).Error.Code != "forbidden" {
		t.Fatalf("bob completing ann's claim: %d %s, want 403 forbidden", rec.Code, rec.Body)
	}
	// An admin claims for cy and completes ann's claim for her.
	if res := decode[claimJSON](t, e.do("POST", "/v1/actions/claim", `{"agent":"cy"}`, bearer(adminKey)...)); res.Agent != "cy" || len(res.Actions) != 1 {
		t.Fatalf("admin claiming for cy: %+v", res)
	}
	rec = e.do("POST", "/v1/actions/"+id+"/complete", `{"outcome":"declined"}`, bearer(adminKey)...)
	if a := decode[actionJSON](t, rec); rec.Code != http.StatusOK || a.Agent != "ann" || a.Outcome != "declined" {
		t.Fatalf("admin completing ann's claim: %d %+v", rec.Code, a)
	}
	evs, _ := e.log.ActionEvents(context.Background(), time.Time{})
	last := evs[len(evs)-1]
	if last.Type != churn.ActionDone || last.Action.Agent != "ann" || !strings.HasPrefix(last.Actor, "api-key:admin:") {
		t.Fatalf("completion recorded as %+v by %q, want ann's action completed by the admin", last.Action, last.Actor)
	}
	if me := decode[meJSON](t, e.do("GET", "/v1/me", "", bearer(bobKey)...)); me.Agent != "bob" || me.Actor != "agent:bob" {
		t.Fatalf("/v1/me of bob's key: %+v", me)
	}
}

// The campaign system reports the answers to delivered messages through
// POST /v1/actions/{id}/answer: a delivered sms is answered once, a queued
// one or an agent's offer cannot be, and a viewer may not answer.
func TestTheAnswerRouteRecordsTheAnswerToADeliveredMessage(t *testing.T) {
	e := newActionEnv(t, 3)
	ctx := context.Background()
	sms := []churn.Action{
		{ID: "s1", CustomerID: "C00001", Cycle: "2025-06-01", Kind: churn.ActionSMS, Channel: "sms", Tier: churn.TierC},
		{ID: "s2", CustomerID: "C00002", Cycle: "2025-06-01", Kind: churn.ActionSMS, Channel: "sms", Tier: churn.TierC}}
	if _, err := e.queue.Enqueue(ctx, "test", sms, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.queue.RecordDeliveries(ctx, "dispatch", []retention.Delivery{{ActionID: "s1", Result: retention.Delivered, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, target, body, key string
		want                    int
	}{
		{"as viewer", "/v1/actions/s1/answer", `{"outcome":"accepted"}`, viewerKey, 403},
		{"a bad outcome", "/v1/actions/s1/answer", `{"outcome":"unreachable"}`, agentKey, 400},
		{"an unknown field", "/v1/actions/s1/answer", `{"outcome":"accepted","agent":"ann"}`, agentKey, 400},
		{"unknown action", "/v1/actions/nope/answer", `{"outcome":"accepted"}`, agentKey, 404},
		{"a queued sms", "/v1/actions/s2/answer", `{"outcome":"accepted"}`, agentKey, 409},
		{"an agent's offer", "/v1/actions/a00000/answer", `{"outcome":"accepted"}`, agentKey, 409},
		{"answer", "/v1/actions/s1/answer", `{"outcome":"accepted","note":"redeemed the bonus"}`, agentKey, 200},
		{"the same again", "/v1/actions/s1/answer", `{"outcome":"accepted","note":"redeemed the bonus"}`, agentKey, 200},
		{"another answer", "/v1/actions/s1/answer", `{"outcome":"declined"}`, agentKey, 409},
	} {
		if rec := e.do("POST", c.target, c.body, bearer(c.key)...); rec.Code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, rec.Code, c.want, rec.Body)
		}
	}
	got := decode[actionJSON](t, e.do("GET", "/v1/actions/s1", ""))
	if got.Status != "done" || got.Outcome != "accepted" || got.Note != "redeemed the bonus" {
		t.Fatalf("answered sms %+v", got)
	}
}

// POST /v1/actions/answers takes a campaign system's answers in bulk: all
// of them in one write or, when one cannot be recorded, none, with the
// error naming it.
func TestTheBatchAnswerRouteWritesAllOrNone(t *testing.T) {
	e := newActionEnv(t, 3)
	ctx := context.Background()
	var sms []churn.Action
	var delivered []retention.Delivery
	for i := range 3 {
		id := fmt.Sprintf("s%d", i)
		sms = append(sms, churn.Action{ID: id, CustomerID: fmt.Sprintf("C0000%d", i), Cycle: "2025-06-01", Kind: churn.ActionSMS, Channel: "sms", Tier: churn.TierC})
		delivered = append(delivered, retention.Delivery{ActionID: id, Result: retention.Delivered, Attempts: 1})
	}
	if _, err := e.queue.Enqueue(ctx, "test", sms, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.queue.RecordDeliveries(ctx, "dispatch", delivered); err != nil {
		t.Fatal(err)
	}
	before := e.log.Len()
	for _, c := range []struct {
		name, body, key string
		want            int
		field           string
	}{
		{"as viewer", `{"answers":[{"action_id":"s0","outcome":"accepted"}]}`, viewerKey, 403, ""},
		{"none", `{"answers":[]}`, agentKey, 400, "answers"},
		{"a bad outcome", `{"answers":[{"action_id":"s0","outcome":"accepted"},{"action_id":"s1","outcome":"maybe"}]}`, agentKey, 400, "answers[1].outcome"},
		{"no id", `{"answers":[{"outcome":"accepted"}]}`, agentKey, 400, "answers[0].action_id"},
		{"an agent's offer", `{"answers":[{"action_id":"s0","outcome":"accepted"},{"action_id":"a00000","outcome":"accepted"}]}`, agentKey, 409, "answers[1]"},
		{"unknown action", `{"answers":[{"action_id":"s0","outcome":"accepted"},{"action_id":"nope","outcome":"accepted"}]}`, agentKey, 404, "answers[1]"},
	} {
		rec := e.do("POST", "/v1/actions/answers", c.body, bearer(c.key)...)
		if rec.Code != c.want || !strings.Contains(rec.Body.String(), `"field":"`+c.field+`"`) && c.field != "" {
			t.Errorf("%s: %d %s, want %d naming %s", c.name, rec.Code, rec.Body, c.want, c.field)
		}
	}
	if n := e.log.Len(); n != before {
		t.Fatalf("refused batches wrote %d events", n-before)
	}
	body := `{"answers":[{"action_id":"s0","outcome":"accepted","note":"redeemed"},{"action_id":"s1","outcome":"declined"}]}`
	got := decode[answersJSON](t, e.do("POST", "/v1/actions/answers", body, bearer(agentKey)...))
	if got.Written != 2 || len(got.Actions) != 2 || got.Actions[0].Outcome != "accepted" || got.Actions[0].Note != "redeemed" || got.Actions[1].Outcome != "declined" {
		t.Fatalf("batch: %+v", got)
	}
	if got := decode[answersJSON](t, e.do("POST", "/v1/actions/answers", body, bearer(agentKey)...)); got.Written != 0 {
		t.Errorf("the same batch again wrote %d answers", got.Written)
	}
	if n := e.log.Len() - before; n != 2 {
		t.Errorf("the log has %d new events, want 2", n)
	}
}

func TestAManualActionCarriesTheScoresNumbersAsTheScoreRouteWritesThem(t *testing.T) {
	e := newActionEnv(t, 3)
	score := e.do("GET", "/v1/customers/C00042/score", "")
	action := e.do("POST", "/v1/customers/C00042/actions", `{"kind":"offer"}`, bearer(adminKey)...)
	for _, field := range []string{"probability", "lifetime_value"} {
		re := regexp.MustCompile(`"` + field + `":([-0-9.e]+)`)
		s, a := re.FindStringSubmatch(score.Body.String()), re.FindStringSubmatch(action.Body.String())
		if s == nil || a == nil || s[1] != a[1] {
			t.Errorf("%s: the score says %v, the action %v\n%s\n%s", field, s, a, score.Body, action.Body)
		}
	}
}
