package serve

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// hungStore answers nothing until the caller's context ends, as a ClickHouse
// stopped with its socket open; the driver then reports a timeout.
type hungStore struct{ *fakeStore }

func (hungStore) CustomerHistory(ctx context.Context, _ string, _ int) ([]churn.Score, error) {
	<-ctx.Done()
	return nil, churn.Unavailable("read score history", ctx.Err())
}

func (hungStore) Models(ctx context.Context) ([]churn.Model, error) {
	<-ctx.Done()
	return nil, churn.Unavailable("read models", ctx.Err())
}

func TestRoutesThatWaitOnAHungStoreAre503WithinTheStoreTimeout(t *testing.T) {
	base := newEnv(t, 50)
	store := hungStore{base.store}
	srv, err := New(Config{Keys: base.srv.cfg.Keys, StoreTimeout: 200 * time.Millisecond},
		Deps{Scores: store, Models: store, Pinger: store, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Loader().Poll(context.Background()) {
		t.Fatal("no snapshot")
	}
	base.srv = srv
	for _, path := range []string{"/v1/customers/C00001/history", "/v1/models"} {
		began := time.Now()
		rec := base.do("GET", path, "")
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("GET %s took %s", path, took)
		}
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "ClickHouse did not answer within 200ms") {
			t.Errorf("GET %s: %d %s, want 503 naming the deadline", path, rec.Code, rec.Body)
		}
	}
	// Memory reads and the CSV stream are not bounded by the deadline.
	for _, path := range []string{"/v1/customers/C00001/score", "/v1/summary", "/v1/scores?format=csv"} {
		if rec := base.do("GET", path, ""); rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

func TestClickHouseUpGaugeFollowsThePoll(t *testing.T) {
	e := newEnv(t, 5)
	up := func() float64 {
		mfs, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "churn_clickhouse_up" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no churn_clickhouse_up")
		return -1
	}
	if got := up(); got != 1 {
		t.Fatalf("after a good poll: %v, want 1", got)
	}
	e.store.setDown(true)
	e.srv.Loader().Poll(context.Background())
	if got := up(); got != 0 {
		t.Fatalf("after a failed poll: %v, want 0", got)
	}
	e.store.setDown(false)
	e.srv.Loader().Poll(context.Background())
	if got := up(); got != 1 {
		t.Fatalf("after the store came back: %v, want 1", got)
	}
}
