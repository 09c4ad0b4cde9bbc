package serve

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

func TestCustomerScoreReturnsLatestScoreWithReasonsAndRun(t *testing.T) {
	e := newEnv(t, 300)
	rec := e.do("GET", "/v1/customers/C00042/score", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decode[scoreJSON](t, rec)
	want := newScoreJSON(makeScores("run-1", asOf1, 2, 300, 0)[42])
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("score\n got %+v\nwant %+v", got, want)
	}
	if got.RunID != "run-1" || got.ModelVersion != 2 || got.AsOf != "2025-06-01" || len(got.Reasons) != 2 {
		t.Errorf("run fields: %+v", got)
	}
	if rec.Header().Get("ETag") == "" || rec.Header().Get("Cache-Control") != DefaultConfig().CacheControl {
		t.Errorf("caching headers: %v", rec.Header())
	}
}

// expectedOrder is the brute-force ranking the snapshot's indexes must match.
func expectedOrder(scores []churn.Score, sortKey string, keep func(churn.Score) bool) []string {
	key := func(s churn.Score) float32 {
		switch sortKey {
		case "probability":
			return float32(s.Probability)
		case "lifetime_value":
			return float32(s.LifetimeValue)
		case "uplift":
			return float32(s.Uplift)
		}
		return float32(s.ExpectedLoss)
	}
	var rows []churn.Score
	for _, s := range scores {
		if keep(s) {
			rows = append(rows, s)
		}
	}
	slices.SortFunc(rows, func(a, b churn.Score) int {
		if c := cmp.Compare(key(b), key(a)); c != 0 {
			return c
		}
		return strings.Compare(a.CustomerID, b.CustomerID)
	})
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.CustomerID
	}
	return ids
}

func TestPaginationWalksTheWholeListInOrderWithoutDuplicatesOrGaps(t *testing.T) {
	const n = 1000
	e := newEnv(t, n)
	scores := makeScores("run-1", asOf1, 2, n, 0)
	cases := []struct {
		query string
		keep  func(churn.Score) bool
	}{
		{"", func(churn.Score) bool { return true }},
		{"sort=probability", func(churn.Score) bool { return true }},
		{"sort=lifetime_value", func(churn.Score) bool { return true }},
		{"tier=A", func(s churn.Score) bool { return s.Tier == "A" }},
		{"band=high&sort=probability", func(s churn.Score) bool { return s.Band == "high" }},
		{"tier=B&band=medium", func(s churn.Score) bool { return s.Tier == "B" && s.Band == "medium" }},
		{"min_probability=0.4", func(s churn.Score) bool { return float32(s.Probability) >= 0.4 }},
		{"min_probability=0.4&sort=probability&tier=C", func(s churn.Score) bool {
			return float32(s.Probability) >= 0.4 && s.Tier == "C"
		}},
		{"min_probability=1", func(s churn.Score) bool { return s.Probability >= 1 }},
	}
	for _, c := range cases {
		for _, limit := range []int{1, 7, 100, 1000} {
			t.Run(fmt.Sprintf("%s/limit=%d", c.query, limit), func(t *testing.T) {
				q, _ := url.ParseQuery(c.query)
				want := expectedOrder(scores, q.Get("sort"), c.keep)
				var got []string
				cursor := ""
				for pages := 0; ; pages++ {
					if pages > n+1 {
						t.Fatal("pagination does not end")
					}
					q.Set("limit", fmt.Sprint(limit))
					if cursor != "" {
						q.Set("cursor", cursor)
					}
					rec := e.do("GET", "/v1/scores?"+q.Encode(), "")
					if rec.Code != http.StatusOK {
						t.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
					page := decode[pageJSON](t, rec)
					if len(page.Items) > limit {
						t.Fatalf("page of %d over limit %d", len(page.Items), limit)
					}
					for _, it := range page.Items {
						got = append(got, it.CustomerID)
					}
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("walked %d ids, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
				}
			})
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestCursorOfAnOlderRunIsGoneAndAForeignCursorIsRefused(t *testing.T) {
	e := newEnv(t, 50)
	page := decode[pageJSON](t, e.do("GET", "/v1/scores?limit=10", ""))
	if page.NextCursor == "" {
		t.Fatal("no next cursor")
	}
	if rec := e.do("GET", "/v1/scores?limit=10&sort=probability&cursor="+page.NextCursor, ""); rec.Code != http.StatusBadRequest {
		t.Errorf("cursor with another sort: status %d, want 400", rec.Code)
	}
	e.store.addRun(churn.ScoreRun{ID: "run-2", AsOf: asOf1.AddDate(0, 1, 0), ModelVersion: 3, FinishedAt: asOf1.AddDate(0, 1, 0)},
		makeScores("run-2", asOf1.AddDate(0, 1, 0), 3, 50, 3))
	if !e.srv.Loader().Poll(t.Context()) {
		t.Fatal("second run not loaded")
	}
	rec := e.do("GET", "/v1/scores?limit=10&cursor="+page.NextCursor, "")
	body := decode[errorJSON](t, rec)
	if rec.Code != http.StatusGone || body.Error.Code != "cursor_expired" || body.Error.Field != "cursor" {
		t.Errorf("stale cursor: %d %+v", rec.Code, body)
	}
}

func TestIfNoneMatchAnswers304UntilANewRunIsLoaded(t *testing.T) {
	e := newEnv(t, 20)
	for _, path := range []string{"/v1/customers/C00001/score", "/v1/scores?tier=A", "/v1/summary", "/v1/customers/C00001/history"} {
		first := e.do("GET", path, "")
		etag := first.Header().Get("ETag")
		if first.Code != http.StatusOK || etag == "" {
			t.Fatalf("%s: %d etag %q", path, first.Code, etag)
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			rec := e.do("GET", path, "", "If-None-Match", inm)
			if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
				t.Errorf("%s If-None-Match %s: %d %q", path, inm, rec.Code, rec.Body)
			}
		}
		if rec := e.do("GET", path, "", "If-None-Match", `"stale"`); rec.Code != http.StatusOK {
			t.Errorf("%s with a stale etag: %d", path, rec.Code)
		}
	}
	old := e.do("GET", "/v1/summary", "").Header().Get("ETag")
	e.store.addRun(churn.ScoreRun{ID: "run-2", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1}, makeScores("run-2", asOf1, 2, 20, 1))
	e.srv.Loader().Poll(t.Context())
	if rec := e.do("GET", "/v1/summary", "", "If-None-Match", old); rec.Code != http.StatusOK || rec.Header().Get("ETag") == old {
		t.Errorf("after a new run: %d etag %s (old %s)", rec.Code, rec.Header().Get("ETag"), old)
	}
}

func TestBatchReturnsFoundScoresOnceAndListsUnknownIDs(t *testing.T) {
	e := newEnv(t, 30)
	rec := e.do("POST", "/v1/scores/batch", `{"customer_ids": ["C00003", "nobody", "C00007", "C00003"]}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decode[batchJSON](t, rec)
	var ids []string
	for _, s := range got.Scores {
		ids = append(ids, s.CustomerID)
	}
	if !slices.Equal(ids, []string{"C00003", "C00007"}) || !slices.Equal(got.NotFound, []string{"nobody"}) {
		t.Errorf("found %v, not found %v", ids, got.NotFound)
	}
	ids = ids[:0]
	for i := range maxBatch {
		ids = append(ids, fmt.Sprintf("X%d", i))
	}
	body := `{"customer_ids": ["` + strings.Join(ids, `","`) + `"]}`
	if rec := e.do("POST", "/v1/scores/batch", body); rec.Code != http.StatusOK || len(decode[batchJSON](t, rec).NotFound) != maxBatch {
		t.Errorf("batch of %d: %d", maxBatch, rec.Code)
	}
}

func TestSummaryCountsAndSumsEveryScoreOnce(t *testing.T) {
	e := newEnv(t, 500)
	rec := e.do("GET", "/v1/summary", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	got := decode[summaryJSON](t, rec)
	var customers, hist int
	var loss float64
	for _, s := range got.Segments {
		customers += s.Customers
		loss += s.ExpectedLoss
	}
	for _, b := range got.Histogram {
		hist += b.Customers
	}
	var wantLoss float64
	for _, s := range makeScores("run-1", asOf1, 2, 500, 0) {
		wantLoss += float64(float32(s.ExpectedLoss))
	}
	if got.Customers != 500 || customers != 500 || hist != 500 || len(got.Segments) != 9 || len(got.Histogram) != histogramBins {
		t.Errorf("customers %d, by segment %d, in histogram %d, %d segments", got.Customers, customers, hist, len(got.Segments))
	}
	if d := got.ExpectedLoss - round2(wantLoss); d > 0.01 || d < -0.01 {
		t.Errorf("expected loss %v, want %v", got.ExpectedLoss, round2(wantLoss))
	}
	if got.Run.ID != "run-1" || got.Run.ModelVersion != 2 || got.Run.AsOf != "2025-06-01" || got.Run.FinishedAt == "" {
		t.Errorf("run: %+v", got.Run)
	}
}

func TestCSVExportStreamsEveryMatchingRowWithAHeader(t *testing.T) {
	const n = 5000 // over csvFlushRows, so that the export flushes mid-way
	e := newEnv(t, n)
	rec := e.do("GET", "/v1/scores?format=csv&tier=A&limit=5", "")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := expectedOrder(makeScores("run-1", asOf1, 2, n, 0), "", func(s churn.Score) bool { return s.Tier == "A" })
	if !slices.Equal(rows[0], csvHeader) || len(rows)-1 != len(want) {
		t.Fatalf("header %v, %d rows, want %d", rows[0], len(rows)-1, len(want))
	}
	for i, r := range rows[1:] {
		if r[0] != want[i] || r[3] != "A" || r[9] != "run-1" {
			t.Fatalf("row %d: %v, want customer %s", i, r, want[i])
		}
	}
}

func TestScoresCarryTheUpliftTheRunStored(t *testing.T) {
	e := newEnv(t, 50)
	if got := decode[scoreJSON](t, e.do("GET", "/v1/customers/C00007/score", "")); got.Uplift != nil || got.UpliftModel != 0 {
		t.Fatalf("a run without stored uplift: %+v", got)
	}
	rec := e.do("GET", "/v1/scores?sort=uplift", "")
	if got := decode[errorJSON](t, rec); rec.Code != http.StatusBadRequest || got.Error.Field != "sort" || !strings.Contains(got.Error.Message, "stored no uplift") {
		t.Fatalf("sort by uplift of a run without: %d %+v", rec.Code, got)
	}
	scores := makeScores("run-2", asOf1, 2, 50, 0)
	for i := range scores {
		// not in customer order, with ties
		scores[i].Uplift, scores[i].UpliftModel = float64((i*7)%20)/1000-0.01, 7
	}
	e.store.addRun(churn.ScoreRun{ID: "run-2", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1.Add(3 * time.Hour)}, scores)
	if !e.srv.Loader().Poll(context.Background()) {
		t.Fatal("run-2 not loaded")
	}
	got := decode[scoreJSON](t, e.do("GET", "/v1/customers/C00007/score", ""))
	if got.RunID != "run-2" || got.Uplift == nil || *got.Uplift != float32(float64(49%20)/1000-0.01) || got.UpliftModel != 7 {
		t.Fatalf("score of run-2: %+v", got)
	}
	for _, band := range []string{"", "high"} {
		query := "/v1/scores?sort=uplift&limit=1000"
		if band != "" {
			query += "&band=" + band
		}
		page := decode[pageJSON](t, e.do("GET", query, ""))
		want := expectedOrder(scores, "uplift", func(s churn.Score) bool { return band == "" || string(s.Band) == band })
		var ids []string
		for _, it := range page.Items {
			ids = append(ids, it.CustomerID)
		}
		if page.Sort != "uplift" || len(want) == 0 || !slices.Equal(ids, want) {
			t.Fatalf("sort by uplift, band %q: %v, want %v", band, ids, want)
		}
	}
	// pages of 7 through the ties
	var walked []string
	for cursor := ""; ; {
		query := "/v1/scores?sort=uplift&limit=7"
		if cursor != "" {
			query += "&cursor=" + cursor
		}
		page := decode[pageJSON](t, e.do("GET", query, ""))
		for _, it := range page.Items {
			walked = append(walked, it.CustomerID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if want := expectedOrder(scores, "uplift", func(churn.Score) bool { return true }); !slices.Equal(walked, want) {
		t.Fatalf("paged by uplift: %v, want %v", walked, want)
	}
	rows, err := csv.NewReader(e.do("GET", "/v1/scores?format=csv", "").Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "uplift")
	for _, r := range rows[1:] {
		var i int
		fmt.Sscanf(r[0], "C%d", &i)
		if r[col] != f32(float64((i*7)%20)/1000-0.01) || r[col+1] != "7" {
			t.Fatalf("csv row %v: uplift %q of model %q", r, r[col], r[col+1])
		}
	}
	// A run whose scores name different uplift models is not served.
	for i := range scores {
		scores[i].RunID = "run-3"
	}
	scores[3].UpliftModel = 8
	e.store.addRun(churn.ScoreRun{ID: "run-3", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1.Add(4 * time.Hour)}, scores)
	e.srv.Loader().Poll(context.Background())
	if got := decode[scoreJSON](t, e.do("GET", "/v1/customers/C00007/score", "")); got.RunID != "run-2" {
		t.Fatalf("served %s after a run that mixes uplift models", got.RunID)
	}
}

func TestHistoryReadsTheStoreAndIs503WhileItIsDown(t *testing.T) {
	e := newEnv(t, 10)
	e.store.addRun(churn.ScoreRun{ID: "run-2", AsOf: asOf1.AddDate(0, 1, 0), ModelVersion: 3, FinishedAt: asOf1.AddDate(0, 1, 0)},
		makeScores("run-2", asOf1.AddDate(0, 1, 0), 3, 10, 5))
	got := decode[historyJSON](t, e.do("GET", "/v1/customers/C00004/history", ""))
	if len(got.Scores) != 2 || got.Scores[0].RunID != "run-1" || got.Scores[1].RunID != "run-2" {
		t.Errorf("history: %+v", got)
	}
	if rec := e.do("GET", "/v1/customers/nobody/history", ""); rec.Code != http.StatusNotFound {
		t.Errorf("unknown customer: %d", rec.Code)
	}
	e.store.setDown(true)
	rec := e.do("GET", "/v1/customers/C00004/history", "")
	if body := decode[errorJSON](t, rec); rec.Code != http.StatusServiceUnavailable || body.Error.Code != "unavailable" {
		t.Errorf("store down: %d %+v", rec.Code, body)
	}
	if strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Errorf("503 leaks the storage address: %s", rec.Body)
	}
}
