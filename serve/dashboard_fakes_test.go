package serve

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// dashStore is the fake store that also lists runs, reads profiles and
// regions, as *clickhouse.Client does. Regions: customers C00000, C00003, ... are in "North
// West", C00001, C00004, ... in "Wales"; the rest have no customers row.

func (f *dashStore) FinishedRuns(_ context.Context, limit int) ([]churn.ScoreRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	var out []churn.ScoreRun
	for i := len(f.runs) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, f.runs[i].run)
	}
	return out, nil
}

func (f *dashStore) RunBandCounts(_ context.Context, runs []churn.ScoreRun) (map[string]map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	f.bandQueries++
	out := map[string]map[string]int64{}
	for _, want := range runs {
		out[want.ID] = map[string]int64{}
		for _, r := range f.runs {
			if r.run.ID == want.ID {
				for _, s := range r.scores {
					out[want.ID][string(s.Band)]++
				}
			}
		}
	}
	return out, nil
}

func fakeRegion(id string) (string, bool) {
	var n int
	if _, err := fmt.Sscanf(id, "C%05d", &n); err != nil {
		return "", false
	}
	switch n % 3 {
	case 0:
		return "North West", true
	case 1:
		return "Wales", true
	}
	return "", false
}

func (f *dashStore) CustomerRegions(_ context.Context, fn func(id, region string) error) error {
	f.mu.Lock()
	var ids []string
	if len(f.runs) > 0 {
		for _, s := range f.runs[len(f.runs)-1].scores {
			ids = append(ids, s.CustomerID)
		}
	}
	f.mu.Unlock()
	for _, id := range append(ids, "X-no-score") {
		if r, ok := fakeRegion(id); ok || id == "X-no-score" {
			if err := fn(id, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *dashStore) CustomerProfile(_ context.Context, id string, asOf time.Time) (CustomerProfile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return CustomerProfile{}, errDown
	}
	region, ok := fakeRegion(id)
	if !ok {
		return CustomerProfile{}, churn.Errorf(churn.KindNotFound, "read customer profile", "customer %q is not in the customers table", id)
	}
	f.profileAsOf = asOf
	day := func(d int) time.Time { return asOf.AddDate(0, 0, d) }
	return CustomerProfile{
		Customer: churn.Customer{ID: id, SignupDate: day(-400), Region: region, Segment: "consumer", PaymentMethod: "direct_debit"},
		Plan:     &PlanInForce{Plan: "family", Contract: "one_year", MonthlyFee: 42.5, Since: day(-200)},
		Usage: []UsageWindow{{From: day(-90), To: day(-60), ActiveDays: 30, VoiceMinutes: 500.25, DataMB: 4000, SMS: 20, Calls: 90, DroppedCalls: 2},
			{From: day(-60), To: day(-30)}, {From: day(-30), To: day(0), ActiveDays: 3}},
		Invoices:    []InvoiceFigures{{ID: "I2", IssuedAt: day(-10), DueDate: day(10), Amount: 42.5}, {ID: "I1", IssuedAt: day(-40), DueDate: day(-20), Amount: 42.5, Paid: 42.5, PaidAt: day(-25)}},
		Tickets:     []TicketFigures{{ID: "T1", Category: "network", OpenedAt: day(-5).Add(9 * time.Hour)}, {ID: "T0", Category: "billing", OpenedAt: day(-50), ResolvedAt: day(-49), Satisfaction: 2}},
		Outstanding: 42.5,
	}, nil
}

type dashStore struct {
	*fakeStore
	bandQueries int       // RunBandCounts calls
	profileAsOf time.Time // of the last CustomerProfile call
}

// newDashEnv is a server on a dashStore with run-1 of n scores loaded.
func newDashEnv(t *testing.T, n int) (*testEnv, *dashStore) {
	t.Helper()
	e := newEnv(t, 0)
	ds := &dashStore{fakeStore: e.store}
	ds.addRun(churn.ScoreRun{ID: "run-1", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1.Add(2 * time.Hour)}, makeScores("run-1", asOf1, 2, n, 0))
	keys, err := ParseKeys("viewer:"+viewerKey+",agent:"+agentKey+",admin:"+adminKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Keys: keys}, Deps{Scores: ds, Models: ds, Pinger: ds, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Loader().Poll(context.Background()) {
		t.Fatalf("first poll: %v", srv.Loader().Err())
	}
	e.srv = srv
	return e, ds
}
