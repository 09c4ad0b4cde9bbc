package serve

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/retention"
)

// fakeOwnership is a QueueOwnership whose status the test sets.
type fakeOwnership struct {
	mu sync.Mutex
	st retention.OwnerStatus
}

func (f *fakeOwnership) Check(context.Context) error { return nil }
func (f *fakeOwnership) Status() retention.OwnerStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}
func (f *fakeOwnership) set(st retention.OwnerStatus) { f.mu.Lock(); f.st = st; f.mu.Unlock() }

// fence refuses writes unless the status says owner, as Ownership.Fence does.
func (f *fakeOwnership) fence() (uint64, error) {
	st := f.Status()
	if st.Role != retention.RoleOwner {
		return 0, churn.Errorf(churn.KindUnavailable, "write action event",
			"this server does not own the retention action queue: send action writes to the owner at %s (%s)", st.Owner.Addr, st.Owner.Owner)
	}
	return st.Term, nil
}

func TestReaderServesActionReadsAndRefusesWritesNamingTheOwner(t *testing.T) {
	e := newActionEnv(t, 10)
	own := &fakeOwnership{st: retention.OwnerStatus{Role: retention.RoleReader, Self: "me",
		Owner: churn.OwnerClaim{Owner: "host-b:7:ab", Addr: "10.0.0.2:8080", Term: 3}}}
	q := retention.NewQueue(e.log, retention.QueueOptions{Now: e.clock.Now, Fence: own.fence})
	if err := q.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := New(Config{Keys: e.srv.cfg.Keys}, Deps{Scores: e.store, Models: e.store, Pinger: e.store, Registry: reg,
		Actions: q, Owner: own})
	if err != nil {
		t.Fatal(err)
	}
	srv.Loader().Poll(context.Background())
	e.srv = srv

	ready := decode[statusJSON](t, e.do("GET", "/readyz", "", "Authorization", ""))
	if ready.Status != "ready" || ready.Queue == nil || ready.Queue.Role != "reader" || ready.Queue.OwnerAddr != "10.0.0.2:8080" {
		t.Fatalf("/readyz of a reader: %+v %+v; want ready, role reader naming the owner", ready, ready.Queue)
	}
	if rec := e.do("GET", "/v1/actions?limit=5", ""); rec.Code != http.StatusOK {
		t.Fatalf("action list on a reader: %d", rec.Code)
	}
	rec := e.do("POST", "/v1/actions/claim", `{"agent":"ann"}`, bearer(agentKey)...)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "10.0.0.2:8080") {
		t.Fatalf("claim on a reader: %d %s; want 503 naming the owner's address", rec.Code, rec.Body)
	}
	if got := gaugeValue(t, reg, "churn_queue_owner"); got != 0 {
		t.Fatalf("churn_queue_owner on a reader = %v, want 0", got)
	}

	own.set(retention.OwnerStatus{Role: retention.RoleOwner, Self: "me", Term: 4, Owner: churn.OwnerClaim{Owner: "me", Term: 4}})
	if rec := e.do("POST", "/v1/actions/claim", `{"agent":"ann"}`, bearer(agentKey)...); rec.Code != http.StatusOK {
		t.Fatalf("claim on the owner: %d %s", rec.Code, rec.Body)
	}
	if got := gaugeValue(t, reg, "churn_queue_owner"); got != 1 {
		t.Fatalf("churn_queue_owner on the owner = %v, want 1", got)
	}
	if evs, _ := e.log.ActionEvents(context.Background(), e.clock.Now().Add(-1)); len(evs) == 0 || evs[len(evs)-1].Token != 4 {
		t.Fatalf("the claim's event carries token %v; want the owner's term 4", evs)
	}
}

// gaugeValue reads the value of an unlabelled gauge from reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
