package serve

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telcoretain/churn"
)

func TestClaimWithALimitOfZeroOrLessIs400NamingLimitAndClaimsNothing(t *testing.T) {
	e := newActionEnv(t, 10)
	for _, body := range []string{`{"agent":"ann","limit":0}`, `{"agent":"ann","limit":-3}`} {
		rec := e.do("POST", "/v1/actions/claim", body, bearer(agentKey)...)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400: %s", body, rec.Code, rec.Body)
		}
		if got := decode[errorJSON](t, rec).Error.Field; got != "limit" {
			t.Errorf("%s: field %q, want limit", body, got)
		}
	}
	// Nothing was claimed by the refused requests; an absent limit takes one.
	rec := e.do("POST", "/v1/actions/claim", `{"agent":"ann"}`, bearer(agentKey)...)
	if got := len(decode[claimJSON](t, rec).Actions); rec.Code != http.StatusOK || got != 1 {
		t.Fatalf("claim without a limit: status %d, %d actions, want 200 and 1", rec.Code, got)
	}
	if claimed := e.queue.Counts()[churn.ActionClaimed]; claimed != 1 {
		t.Errorf("%d actions claimed in all, want 1", claimed)
	}
}

func TestClaimOfACycleThatIsNotADateIs400NamingCycle(t *testing.T) {
	e := newActionEnv(t, 3)
	rec := e.do("POST", "/v1/actions/claim", `{"agent":"ann","cycle":"June"}`, bearer(agentKey)...)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
	}
	if got := decode[errorJSON](t, rec).Error.Field; got != "cycle" {
		t.Errorf("field %q, want cycle", got)
	}
	rec = e.do("POST", "/v1/actions/claim", `{"agent":"ann","limit":5,"cycle":"2025-07-01"}`, bearer(agentKey)...)
	if got := len(decode[claimJSON](t, rec).Actions); rec.Code != http.StatusOK || got != 0 {
		t.Fatalf("claim of a cycle without actions: status %d, %d actions, want 200 and 0", rec.Code, got)
	}
	rec = e.do("POST", "/v1/actions/claim", `{"agent":"ann","limit":5,"cycle":"2025-06-01"}`, bearer(agentKey)...)
	if got := len(decode[claimJSON](t, rec).Actions); rec.Code != http.StatusOK || got != 3 {
		t.Fatalf("claim of the actions' cycle: status %d, %d actions, want 200 and 3", rec.Code, got)
	}
}

func TestRequestHeadersOverTheCapAre431(t *testing.T) {
	e := newEnv(t, 5)
	// Just over the cap: the handler's check answers in the JSON shape.
	rec := e.do("GET", "/v1/summary", "", "X-Padding", strings.Repeat("p", maxHeaderBytes))
	if rec.Code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431: %s", rec.Code, rec.Body)
	}
	if got := decode[errorJSON](t, rec).Error.Field; got != "headers" {
		t.Errorf("field %q, want headers", got)
	}
	if rec := e.do("GET", "/v1/summary", "", "X-Padding", strings.Repeat("p", maxHeaderBytes/2)); rec.Code != http.StatusOK {
		t.Errorf("headers under the cap: status %d, want 200", rec.Code)
	}

	// Through a real listener, 64 KiB of headers is refused before any
	// handler runs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for _, size := range []int{64 << 10, maxHeaderBytes + 1} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/summary", nil)
		req.Header.Set("Authorization", "Bearer "+viewerKey)
		req.Header.Set("X-Padding", strings.Repeat("p", size))
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("%d bytes of headers: %v", size, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%d bytes of headers: status %d, want 431", size, resp.StatusCode)
		}
	}
}
