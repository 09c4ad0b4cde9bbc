package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/clickhouse/chtest"
	"github.com/telcoretain/churn/retention"
)

func TestActionsDispatchSendsEachAutomatedActionOnceAndRefusesWhileAServerOwnsTheQueue(t *testing.T) {
	const secret = "dispatch-test-secret-0123456789"
	c, cfg := chtest.NewDB(t)
	ctx := context.Background()
	q := retention.NewQueue(c, retention.QueueOptions{})
	if err := q.Load(ctx); err != nil {
		t.Fatal(err)
	}
	as := []churn.Action{{ID: "s1", CustomerID: "c1", Cycle: "2025-06-01", Kind: churn.ActionSMS, Channel: "sms"},
		{ID: "o1", CustomerID: "c2", Cycle: "2025-06-01", Kind: churn.ActionOffer, Channel: "phone"}}
	if _, err := q.Enqueue(ctx, "test", as, nil); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		keys []string
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !retention.VerifySignature([]byte(secret), body, r.Header.Get(retention.SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		keys = append(keys, r.Header.Get(retention.IdempotencyHeader))
		mu.Unlock()
	}))
	defer rcv.Close()
	t.Setenv("CHURN_DISPATCH_WEBHOOK_SECRET", secret)
	dispatch := func() (string, string, int) {
		return run(t, "actions", "dispatch", "--clickhouse-addr", cfg.Addr, "--clickhouse-db", cfg.Database,
			"--dispatch-webhook-url", rcv.URL, "--queue-owner-ttl", "6s")
	}
	out, errOut, code := dispatch()
	if code != 0 || !strings.Contains(out, "pending 1: delivered 1") {
		t.Fatalf("first dispatch: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := dispatch(); code != 0 || !strings.Contains(out, "pending 0") {
		t.Fatalf("second dispatch: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Join(keys, ",") != "s1" {
		t.Fatalf("receiver got keys %v, want s1 once", keys)
	}
	q = retention.NewQueue(c, retention.QueueOptions{})
	if err := q.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if a, _ := q.Get("s1"); a.Status != churn.ActionDone || a.Outcome != retention.OutcomeDelivered || a.Attempts != 1 {
		t.Fatalf("s1 in the log: %+v", a)
	}
	if a, _ := q.Get("o1"); a.Status != churn.ActionQueued {
		t.Fatalf("the offer was touched: %+v", a)
	}

	// A live server's claim: the command leaves dispatching to it.
	now := time.Now()
	if err := c.WriteOwnerClaim(ctx, churn.OwnerClaim{Owner: "otherhost:1:beef", Term: 99, Addr: "10.0.0.9:8080", StartedAt: now, BeatAt: now, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := dispatch(); code == 0 || !strings.Contains(errOut, "owns the action queue") || !strings.Contains(errOut, "10.0.0.9:8080") {
		t.Fatalf("dispatch while a server owns the queue: exit %d\n%s%s", code, out, errOut)
	}
}
