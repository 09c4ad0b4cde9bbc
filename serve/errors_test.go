package serve

import (
	"net/http"
	"strings"
	"testing"
)

func TestMalformedRequestsGetTheirStatusNameTheFieldAndTheServerKeepsServing(t *testing.T) {
	e := newEnv(t, 50)
	long := strings.Repeat("x", maxIDLen+1)
	big := `{"customer_ids": ["` + strings.Repeat("y", maxBodyBytes) + `"]}`
	many := `{"customer_ids": [` + strings.Repeat(`"a",`, maxBatch) + `"a"]}`
	cases := []struct {
		name, method, target, body string
		headers                    []string
		status                     int
		code, field                string
	}{
		{"unknown customer", "GET", "/v1/customers/C99999/score", "", nil, 404, "not_found", ""},
		{"id too long", "GET", "/v1/customers/" + long + "/score", "", nil, 400, "invalid", "id"},
		{"id with a space", "GET", "/v1/customers/a%20b/score", "", nil, 400, "invalid", "id"},
		{"id with a control byte", "GET", "/v1/customers/a%01b/history", "", nil, 400, "invalid", "id"},
		{"limit not a number", "GET", "/v1/scores?limit=abc", "", nil, 400, "invalid", "limit"},
		{"limit over max", "GET", "/v1/scores?limit=100000", "", nil, 400, "invalid", "limit"},
		{"limit zero", "GET", "/v1/scores?limit=0", "", nil, 400, "invalid", "limit"},
		{"min_probability over 1", "GET", "/v1/scores?min_probability=2", "", nil, 400, "invalid", "min_probability"},
		{"min_probability NaN", "GET", "/v1/scores?min_probability=NaN", "", nil, 400, "invalid", "min_probability"},
		{"tier D", "GET", "/v1/scores?tier=D", "", nil, 400, "invalid", "tier"},
		{"band extreme", "GET", "/v1/scores?band=extreme", "", nil, 400, "invalid", "band"},
		{"sort foo", "GET", "/v1/scores?sort=foo", "", nil, 400, "invalid", "sort"},
		{"format xml", "GET", "/v1/scores?format=xml", "", nil, 400, "invalid", "format"},
		{"cursor garbage", "GET", "/v1/scores?cursor=garbage", "", nil, 400, "invalid", "cursor"},
		{"cursor base64 of junk", "GET", "/v1/scores?cursor=eyJ4IjoxfQ", "", nil, 400, "invalid", "cursor"},
		{"unknown parameter", "GET", "/v1/scores?teir=A", "", nil, 400, "invalid", "teir"},
		{"repeated parameter", "GET", "/v1/scores?tier=A&tier=B", "", nil, 400, "invalid", "tier"},
		{"batch not JSON", "POST", "/v1/scores/batch", `{"customer_ids": [`, nil, 400, "invalid", "body"},
		{"batch empty body", "POST", "/v1/scores/batch", " ", nil, 400, "invalid", "body"},
		{"batch wrong type", "POST", "/v1/scores/batch", `{"customer_ids": "C00001"}`, nil, 400, "invalid", "customer_ids"},
		{"batch unknown field", "POST", "/v1/scores/batch", `{"customer_ids": ["a"], "ids": []}`, nil, 400, "invalid", "ids"},
		{"batch no ids", "POST", "/v1/scores/batch", `{}`, nil, 400, "invalid", "customer_ids"},
		{"batch empty list", "POST", "/v1/scores/batch", `{"customer_ids": []}`, nil, 400, "invalid", "customer_ids"},
		{"batch too many", "POST", "/v1/scores/batch", many, nil, 400, "invalid", "customer_ids"},
		{"batch bad id", "POST", "/v1/scores/batch", `{"customer_ids": ["ok", ""]}`, nil, 400, "invalid", "customer_ids"},
		{"batch trailing data", "POST", "/v1/scores/batch", `{"customer_ids": ["a"]} {}`, nil, 400, "invalid", "body"},
		{"batch over 1 MiB", "POST", "/v1/scores/batch", big, nil, 413, "payload_too_large", ""},
		{"batch as text", "POST", "/v1/scores/batch", `{"customer_ids": ["a"]}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", "Content-Type"},
		{"batch without content type", "POST", "/v1/scores/batch", `{"customer_ids": ["a"]}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", "Content-Type"},
		{"model version not a number", "GET", "/v1/models/latest", "", nil, 400, "invalid", "version"},
		{"model version zero", "GET", "/v1/models/0", "", nil, 400, "invalid", "version"},
		{"unknown model", "GET", "/v1/models/99", "", nil, 404, "not_found", ""},
		{"promote unknown model", "POST", "/v1/models/99/promote", "", []string{"Authorization", "Bearer " + adminKey}, 404, "not_found", ""},
		{"promote the champion", "POST", "/v1/models/2/promote", "", []string{"Authorization", "Bearer " + adminKey}, 409, "conflict", ""},
		{"promote with a bad body", "POST", "/v1/models/3/promote", `{"reason": 5}`, []string{"Authorization", "Bearer " + adminKey}, 400, "invalid", "reason"},
		{"roll back an unknown kind", "POST", "/v1/models/rollback?kind=propensity", "", []string{"Authorization", "Bearer " + adminKey}, 400, "invalid", "kind"},
		{"roll back uplift without an earlier champion", "POST", "/v1/models/rollback?kind=uplift", "", []string{"Authorization", "Bearer " + adminKey}, 409, "conflict", ""},
		{"promote as text", "POST", "/v1/models/3/promote", `{"reason": "x"}`, []string{"Authorization", "Bearer " + adminKey, "Content-Type", "text/plain"}, 415, "unsupported_media_type", "Content-Type"},
		{"unknown route", "GET", "/v1/nothing", "", nil, 404, "not_found", ""},
		{"trailing slash", "GET", "/v1/summary/", "", nil, 404, "not_found", ""},
		{"wrong method", "DELETE", "/v1/summary", "", nil, 405, "method_not_allowed", ""},
		{"wrong method on health", "POST", "/healthz", "", nil, 405, "method_not_allowed", ""},
		{"no key", "GET", "/v1/summary", "", []string{"Authorization", ""}, 401, "unauthorized", ""},
		{"wrong key", "GET", "/v1/summary", "", []string{"Authorization", "Bearer not-a-key-of-ours-at-all"}, 401, "unauthorized", ""},
		{"basic auth", "GET", "/v1/summary", "", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, "unauthorized", ""},
		{"viewer promotes", "POST", "/v1/models/3/promote", "", nil, 403, "forbidden", ""},
		{"agent rolls back", "POST", "/v1/models/rollback", "", []string{"Authorization", "Bearer " + agentKey}, 403, "forbidden", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(c.method, c.target, c.body, c.headers...)
			body := decode[errorJSON](t, rec)
			if rec.Code != c.status || body.Error.Code != c.code || body.Error.Field != c.field {
				t.Errorf("got %d %+v, want %d code %q field %q", rec.Code, body.Error, c.status, c.code, c.field)
			}
			if body.Error.Message == "" {
				t.Error("empty message")
			}
			if c.field != "" && !strings.Contains(body.Error.Message, c.field) {
				t.Errorf("message %q does not name %s", body.Error.Message, c.field)
			}
			if c.status == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %v", rec.Header())
			}
			if c.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if rec := e.do("GET", "/v1/customers/C00001/score", ""); rec.Code != http.StatusOK {
				t.Fatalf("server stopped serving after %s: %d", c.name, rec.Code)
			}
		})
	}
}

func TestReadsAre503BeforeAnyRunIsLoaded(t *testing.T) {
	e := newEnv(t, 0)
	for _, path := range []string{"/v1/customers/C00001/score", "/v1/scores", "/v1/summary"} {
		rec := e.do("GET", path, "")
		if body := decode[errorJSON](t, rec); rec.Code != http.StatusServiceUnavailable || !strings.Contains(body.Error.Message, "churn score") {
			t.Errorf("%s: %d %+v", path, rec.Code, body)
		}
	}
	if rec := e.do("POST", "/v1/scores/batch", `{"customer_ids": ["C00001"]}`); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("batch: %d", rec.Code)
	}
}
