package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telcoretain/churn"
)

// The test keys. The agent keys are named: agentKey works as ann.
const (
	viewerKey = "viewer-key-0123456789"
	agentKey  = "agent-key-0123456789ab"
	bobKey    = "agent-key-of-bob-0123456"
	cyKey     = "agent-key-of-cy-01234567"
	adminKey  = "admin-key-0123456789ab"
)

// agentKeys are the keys of the named agents.
var agentKeys = map[string]string{"ann": agentKey, "bob": bobKey, "cy": cyKey}

var asOf1 = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// testEnv is a server on a fake store with a loaded snapshot.
type testEnv struct {
	t     *testing.T
	store *fakeStore
	srv   *Server
	reg   *prometheus.Registry
}

func newEnv(t *testing.T, n int) *testEnv {
	t.Helper()
	store := &fakeStore{models: testModels(), champion: []churn.ModelVersion{1, 2}}
	if n > 0 {
		store.addRun(churn.ScoreRun{ID: "run-1", AsOf: asOf1, ModelVersion: 2, FinishedAt: asOf1.Add(2 * time.Hour)},
			makeScores("run-1", asOf1, 2, n, 0))
	}
	keys, err := ParseKeys("viewer:"+viewerKey+",agent:ann:"+agentKey+",agent:bob:"+bobKey+",agent:cy:"+cyKey+",admin:"+adminKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := New(Config{Keys: keys, Database: "churn_test"}, Deps{Scores: store, Models: store, Pinger: store, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 && !srv.Loader().Poll(context.Background()) {
		t.Fatalf("first poll did not load a snapshot: %v", srv.Loader().Err())
	}
	return &testEnv{t: t, store: store, srv: srv, reg: reg}
}

// do sends a request with the viewer key unless headers set Authorization
// (an empty value sends none), checks the response against openapi.yaml and
// returns it.
func (e *testEnv) do(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+viewerKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	validateResponse(e.t, req, []byte(body), rec)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, rec.Body.String(), err)
	}
	return v
}

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func spec(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(OpenAPI())
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(loader.Context); specErr != nil {
			return
		}
		specDoc.Servers = nil // match requests to any host
		specRouter, specErr = legacy.NewRouter(specDoc)
	})
	if specErr != nil {
		t.Fatalf("openapi.yaml: %v", specErr)
	}
	return specDoc, specRouter
}

// validateResponse checks a response against openapi.yaml: its status must be
// documented for the route and its body must match the schema. Responses of
// routes the document does not have (404, 405) must be the error shape.
func validateResponse(t *testing.T, req *http.Request, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	doc, router := spec(t)
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(vreq)
	// The document's router forgives a trailing slash; the server does not.
	if strings.HasSuffix(req.URL.Path, "/") {
		err = errors.New("no route")
	}
	if err != nil || (rec.Code == http.StatusMethodNotAllowed && route == nil) {
		if err := doc.Components.Schemas["Error"].Value.VisitJSON(mustJSON(t, rec.Body.Bytes())); err != nil {
			t.Errorf("%s %s: %d body is not the error shape: %v\n%s", req.Method, req.URL, rec.Code, err, rec.Body)
		}
		return
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                opts,
	}
	in.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: response does not match openapi.yaml: %v\n%s", req.Method, req.URL, err, rec.Body)
	}
}

func mustJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	return v
}
