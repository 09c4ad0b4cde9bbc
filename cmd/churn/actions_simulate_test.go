package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/dataset/synth"
)

// fakeAPI answers GET /v1/me with database and counts every other request,
// so a test sees whether simulate touched the queue.
func fakeAPI(t *testing.T, database string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var other atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/me" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"role":"agent","actor":"api-key:agent:abc","database":"` + database + `"}`))
			return
		}
		other.Add(1)
		http.Error(w, "not in this fake", http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return srv, &other
}

func TestSimulateRefusesADatabaseNotFilledBySeedOrImportedIntoSince(t *testing.T) {
	c, cfg := chtest.NewDB(t)
	api, touched := fakeAPI(t, cfg.Database)
	simulate := func() (string, int) {
		_, errOut, code := run(t, "actions", "simulate", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database,
			"--api", api.URL, "--key", "agent-key")
		return errOut, code
	}
	want := "database " + cfg.Database + " was not filled by `churn seed`"
	if errOut, code := simulate(); code == 0 || !strings.Contains(errOut, want) {
		t.Errorf("never seeded: exit %d, stderr:\n%s\nwant a refusal saying %q", code, errOut, want)
	}

	// Seeded, then an operator's file imported: real data is there now.
	if err := c.MarkSeeded(context.Background(), 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "import", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database,
		"--table", "customers", "--csv", filepath.Join("..", "..", "dataset", "testdata", "customers.csv"))
	if code != 0 {
		t.Fatalf("import: exit %d\n%s", code, errOut)
	}
	if errOut, code := simulate(); code == 0 || !strings.Contains(errOut, want) {
		t.Errorf("seeded then imported into: exit %d, stderr:\n%s\nwant a refusal saying %q", code, errOut, want)
	}
	if n := touched.Load(); n != 0 {
		t.Errorf("the API got %d requests besides /v1/me, want none", n)
	}
}

func TestSimulateRefusesAnAPIThatServesAnotherDatabase(t *testing.T) {
	_, cfg := chtest.NewDB(t)
	if _, errOut, code := run(t, "seed", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database,
		"--customers", "100", "--months", "2", "--block-rows", "1000"); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, errOut)
	}
	for _, tc := range []struct {
		served, want string
		claims       bool
	}{
		{"churn", `serves database "churn", not "` + cfg.Database + `"`, false},
		{"", "does not say which database it serves", false},
		// Its own database passes the checks and goes on to claim (which
		// this fake refuses).
		{cfg.Database, "POST /v1/actions/claim: 404", true},
	} {
		api, touched := fakeAPI(t, tc.served)
		_, errOut, code := run(t, "actions", "simulate", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database,
			"--api", api.URL, "--key", "agent-key")
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("API of database %q: exit %d, stderr:\n%s\nwant a refusal saying %q", tc.served, code, errOut, tc.want)
		}
		if n := touched.Load(); (n > 0) != tc.claims {
			t.Errorf("API of database %q got %d requests besides /v1/me, want some: %v", tc.served, n, tc.claims)
		}
	}
}

func TestSaveRateOfAKindAloneAppliesToEveryReasonAndAReasonOverridesIt(t *testing.T) {
	eff := synth.DefaultRetentionEffect(1)
	if err := parseSaveRates(map[string]string{"offer": "0", "specialist_call": "0.1", "specialist_call/service": "0.9"}, eff.SaveRates); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind, reason string
		want         float64
	}{
		{"offer", "price", 0}, {"offer", "competitor", 0}, {"offer", "network", 0},
		{"specialist_call", "service", 0.9}, {"specialist_call", "network", 0.1}, {"specialist_call", "price", 0.1},
		{"email", "price", 0.1}, {"email", "network", 0.03}, // not named: the defaults
	} {
		if got := eff.SaveRate(c.kind, c.reason); got != c.want {
			t.Errorf("save rate of %s for %s: %v, want %v", c.kind, c.reason, got, c.want)
		}
	}
	if err := parseSaveRates(map[string]string{"offer/price": "x"}, eff.SaveRates); err == nil || !strings.Contains(err.Error(), "save-rate") {
		t.Errorf("a rate that is no number: %v, want an error naming --save-rate", err)
	}
}
