package serve

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"testing"
)

// TestEveryRouteTakesTheQueryParametersOpenAPIDeclares ties queryParams,
// which checkQuery enforces, to the parameters openapi.yaml declares.
func TestEveryRouteTakesTheQueryParametersOpenAPIDeclares(t *testing.T) {
	doc, _ := spec(t)
	declared := map[string][]string{}
	braces := regexp.MustCompile(`\{([a-z_]+)\}`)
	for path, item := range doc.Paths.Map() {
		route := braces.ReplaceAllString(path, ":$1")
		for _, op := range item.Operations() {
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value.In == "query" && !slices.Contains(declared[route], p.Value.Name) {
					declared[route] = append(declared[route], p.Value.Name)
				}
			}
		}
	}
	for _, route := range slices.Sorted(maps.Keys(declared)) {
		got, want := slices.Sorted(slices.Values(queryParams[route])), slices.Sorted(slices.Values(declared[route]))
		if !slices.Equal(got, want) {
			t.Errorf("%s: the server takes %v, openapi.yaml declares %v", route, got, want)
		}
	}
	for route := range queryParams {
		if declared[route] == nil {
			t.Errorf("%s: the server takes %v, openapi.yaml declares none", route, queryParams[route])
		}
	}
}

func TestAParameterARouteDoesNotTakeIsRefusedByName(t *testing.T) {
	e := newActionEnv(t, 5)
	for _, c := range []struct{ target, field string }{
		{"/v1/models?kind=churn", "kind"},
		{"/v1/summary?foo=1", "foo"},
		{"/v1/customers/C00001/score?foo=1", "foo"},
		{"/v1/customers/C00001/history?limit=2", "limit"},
		{"/v1/runs?limit=2&limit=3", "limit"},
		{"/v1/actions?teir=A", "teir"},
	} {
		rec := e.do("GET", c.target, "")
		if rec.Code != http.StatusBadRequest || !regexp.MustCompile(`"field":"`+c.field+`"`).MatchString(rec.Body.String()) {
			t.Errorf("GET %s: %d %s, want 400 naming %s", c.target, rec.Code, rec.Body, c.field)
		}
	}
}
