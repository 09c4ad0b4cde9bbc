package serve

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

func TestDashboardPageLoadsWithoutAKeyAndKeepsToItsOrigin(t *testing.T) {
	e := newEnv(t, 10)
	rec := get(e, "/", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q does not keep the page to its origin", csp)
	}
	// Every file the page names is served, with its type.
	refs := regexp.MustCompile(`(?:src|href)="(/ui/[^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1)
	if len(refs) < 3 {
		t.Fatalf("index.html names %d assets", len(refs))
	}
	for _, m := range refs {
		r := get(e, m[1], "")
		if r.Code != http.StatusOK || r.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d", m[1], r.Code)
		}
		if etag := r.Header().Get("ETag"); get(e, m[1], etag).Code != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s is not 304", m[1], etag)
		}
	}
	if r := get(e, "/ui/js/nope.js", ""); r.Code != http.StatusNotFound || !strings.Contains(r.Body.String(), `"not_found"`) {
		t.Errorf("missing asset: %d %s", r.Code, r.Body)
	}
	// Our own files name no other host: the page works on a closed network.
	// (The vendored library only names its home page in its licence banner.)
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "web/vendor/") {
			return err
		}
		b, _ := webFS.ReadFile(p)
		if m := external.Find(b); m != nil {
			t.Errorf("%s refers to %s", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// get requests an asset without a key, outside the OpenAPI check: the
// assets are not API routes.
func get(e *testEnv, path, etag string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func TestMeTellsTheRoleOfTheKeyAndTheDatabaseServed(t *testing.T) {
	e := newEnv(t, 10)
	for _, tc := range []struct{ key, role, actor string }{{viewerKey, "viewer", "api-key:viewer:"}, {agentKey, "agent", "agent:ann"}, {adminKey, "admin", "api-key:admin:"}} {
		got := decode[meJSON](t, e.do("GET", "/v1/me", "", "Authorization", "Bearer "+tc.key))
		if got.Role != tc.role || !strings.HasPrefix(got.Actor, tc.actor) || strings.Contains(got.Actor, tc.key) ||
			got.Database != "churn_test" || got.Agent == "" {
			t.Errorf("key of %s: %+v", tc.role, got)
		}
	}
	if rec := e.do("GET", "/v1/me", "", "Authorization", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("no key: %d", rec.Code)
	}
}

func TestRunsCountBandsPerRunAndReadEachRunOnce(t *testing.T) {
	e, ds := newDashEnv(t, 60)
	asOf2 := asOf1.AddDate(0, 1, 0)
	ds.addRun(churn.ScoreRun{ID: "run-2", AsOf: asOf2, ModelVersion: 2, FinishedAt: asOf2.Add(time.Hour)}, makeScores("run-2", asOf2, 2, 90, 3))
	got := decode[runsJSON](t, e.do("GET", "/v1/runs", ""))
	if len(got.Runs) != 2 || got.Runs[0].Run.ID != "run-2" || got.Runs[1].Run.ID != "run-1" {
		t.Fatalf("runs %+v, want run-2 then run-1", got.Runs)
	}
	for _, r := range got.Runs {
		var want [numBands]int64
		for _, f := range ds.runs {
			if f.run.ID == r.Run.ID {
				for _, s := range f.scores {
					want[indexOf(string(s.Band))]++
				}
			}
		}
		if r.Bands["high"] != want[0] || r.Bands["medium"] != want[1] || r.Bands["low"] != want[2] || r.Customers != want[0]+want[1]+want[2] {
			t.Errorf("%s: %+v, want %v", r.Run.ID, r, want)
		}
	}
	one := decode[runsJSON](t, e.do("GET", "/v1/runs?limit=1", ""))
	if len(one.Runs) != 1 || ds.bandQueries != 1 {
		t.Errorf("limit=1 gave %d runs after %d band queries; finished runs are counted once", len(one.Runs), ds.bandQueries)
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "since=3"} {
		if rec := e.do("GET", "/v1/runs?"+q, ""); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", q, rec.Code)
		}
	}
	if rec := newEnvNoLister(t).do("GET", "/v1/runs", ""); rec.Code != http.StatusNotFound {
		t.Errorf("a store without run listing: %d, want 404", rec.Code)
	}
}

func indexOf(band string) int {
	for i, b := range churn.RiskBands {
		if string(b) == band {
			return i
		}
	}
	return -1
}

func newEnvNoLister(t *testing.T) *testEnv { return newEnv(t, 10) }

func TestProfileReadsFiguresBeforeTheRunsAsOfDate(t *testing.T) {
	e, ds := newDashEnv(t, 30)
	rec := e.do("GET", "/v1/customers/C00003/profile", "")
	got := decode[profileJSON](t, rec)
	if rec.Code != http.StatusOK || !ds.profileAsOf.Equal(asOf1) || got.AsOf != "2025-06-01" {
		t.Fatalf("profile %d as of %v (%s)", rec.Code, ds.profileAsOf, got.AsOf)
	}
	if got.Region != "North West" || got.Plan == nil || got.Plan.MonthlyFee != 42.5 || len(got.Usage) != 3 || got.Usage[0].VoiceMinutes != 500.25 ||
		got.Invoices[0].PaidAt != "" || got.Invoices[1].PaidAt == "" || got.Tickets[0].ResolvedAt != "" || got.Tickets[1].Satisfaction != 2 {
		t.Errorf("profile %+v", got)
	}
	if rec := e.do("GET", "/v1/customers/C00002/profile", ""); rec.Code != http.StatusNotFound {
		t.Errorf("unknown customer: %d", rec.Code)
	}
	if rec := newEnv(t, 10).do("GET", "/v1/customers/C00003/profile", ""); rec.Code != http.StatusNotFound {
		t.Errorf("a store without profiles: %d, want 404", rec.Code)
	}
}

func TestRiskListFiltersByRegionAndStrongestReason(t *testing.T) {
	e, ds := newDashEnv(t, 0)
	scores := makeScores("run-2", asOf1, 2, 120, 0)
	for i := range scores {
		if i%4 == 0 { // another strongest reason for every fourth customer
			scores[i].Reasons[0], scores[i].Reasons[1] = scores[i].Reasons[1], scores[i].Reasons[0]
		}
	}
	ds.addRun(churn.ScoreRun{ID: "run-2", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1.Add(3 * time.Hour)}, scores)
	if !e.srv.Loader().Poll(context.Background()) {
		t.Fatal("run-2 not loaded")
	}
	for _, tc := range []struct {
		query string
		keep  func(i int) bool
	}{
		{"region=North+West", func(i int) bool { return i%3 == 0 }},
		{"region=Wales&reason=tenure_days", func(i int) bool { return i%3 == 1 && i%4 == 0 }},
		{"reason=dropped_calls_30d&tier=B", func(i int) bool { return i%4 != 0 && i%3 == 1 }},
		{"region=Atlantis", func(int) bool { return false }},
		{"reason=no_such_feature", func(int) bool { return false }},
	} {
		want := 0
		for i := range scores {
			if tc.keep(i) {
				want++
			}
		}
		got := decode[pageJSON](t, e.do("GET", "/v1/scores?limit=1000&"+tc.query, ""))
		if len(got.Items) != want {
			t.Errorf("%s: %d scores, want %d", tc.query, len(got.Items), want)
		}
		// Paging keeps the filters: two pages of 5 hold the first 10.
		p1 := decode[pageJSON](t, e.do("GET", "/v1/scores?limit=5&"+tc.query, ""))
		if want > 5 {
			p2 := decode[pageJSON](t, e.do("GET", "/v1/scores?limit=5&"+tc.query+"&cursor="+p1.NextCursor, ""))
			if p2.Items[0].CustomerID != got.Items[5].CustomerID {
				t.Errorf("%s: page 2 starts at %s, want %s", tc.query, p2.Items[0].CustomerID, got.Items[5].CustomerID)
			}
			if rec := e.do("GET", "/v1/scores?limit=5&cursor="+p1.NextCursor, ""); rec.Code != http.StatusBadRequest {
				t.Errorf("%s: its cursor without the filters: %d", tc.query, rec.Code)
			}
		}
	}
	sum := decode[summaryJSON](t, e.do("GET", "/v1/summary", ""))
	if len(sum.Regions) != 2 || len(sum.Reasons) != 2 || sum.Regions[0].Customers+sum.Regions[1].Customers != 80 ||
		sum.Reasons[0].Customers+sum.Reasons[1].Customers != 120 || sum.Reasons[0].Example == "" {
		t.Errorf("summary facets: regions %+v, reasons %+v", sum.Regions, sum.Reasons)
	}
	for _, q := range []string{"region=", "reason=" + strings.Repeat("x", 129), "region=a%00b"} {
		if rec := e.do("GET", "/v1/scores?"+q, ""); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, rec.Code)
		}
	}
}
