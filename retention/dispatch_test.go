package retention

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telcoretain/churn"
	"github.com/telcoretain/churn/internal/clocktest"
	"github.com/telcoretain/churn/retention/retentiontest"
)

const testSecret = "0123456789abcdef-test-secret"

// receiver is a campaign system's webhook endpoint: it verifies the
// signature, answers from a script (one status per request; 0 means hang
// past the sender's timeout), and dedupes by idempotency key as a real
// receiver must.
type receiver struct {
	mu       sync.Mutex
	script   []int
	requests []receivedRequest
	sent     map[string]int // idempotency key -> messages actually sent on
}

type receivedRequest struct {
	key      string
	body     WebhookBody
	signedOK bool
}

func newReceiver(t *testing.T, script ...int) (*receiver, *httptest.Server) {
	r := &receiver{script: script, sent: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	var b WebhookBody
	_ = json.Unmarshal(raw, &b)
	key := req.Header.Get(IdempotencyHeader)
	r.mu.Lock()
	r.requests = append(r.requests, receivedRequest{key: key, body: b,
		signedOK: VerifySignature([]byte(testSecret), raw, req.Header.Get(SignatureHeader))})
	status := http.StatusOK
	if len(r.script) > 0 {
		status, r.script = r.script[0], r.script[1:]
	}
	if status == http.StatusOK && r.sent[key] == 0 {
		r.sent[key]++ // a repeat of a key is acknowledged, not sent again
	}
	r.mu.Unlock()
	if status == 0 {
		<-req.Context().Done() // the sender gave up
		return
	}
	w.WriteHeader(status)
}

func (r *receiver) snapshot() ([]receivedRequest, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sent := map[string]int{}
	for k, v := range r.sent {
		sent[k] = v
	}
	return append([]receivedRequest(nil), r.requests...), sent
}

// dispatchFixture is a queue with automated and agent actions, and a
// dispatcher whose waits are recorded instead of slept.
type dispatchFixture struct {
	log   *retentiontest.Log
	q     *Queue
	clk   *clocktest.Clock
	waits []time.Duration
}

func newDispatchFixture(t *testing.T, actions ...churn.Action) *dispatchFixture {
	t.Helper()
	f := &dispatchFixture{log: &retentiontest.Log{}, clk: clocktest.New(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))}
	f.q = NewQueue(f.log, QueueOptions{Now: f.clk.Now})
	if _, err := f.q.Enqueue(context.Background(), "plan", actions, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *dispatchFixture) dispatcher(t *testing.T, send Sender, files FileSink, maxAttempts int) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher(f.q, send, files, DispatchOptions{MaxAttempts: maxAttempts, Backoff: time.Second, MaxWait: 4 * time.Second,
		Now: f.clk.Now, Rand: func() float64 { return 0.5 },
		Sleep: func(_ context.Context, d time.Duration) error { f.waits = append(f.waits, d); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func automated(id string, kind churn.ActionKind) churn.Action {
	return churn.Action{ID: id, CustomerID: "c-" + id, Cycle: "2025-06-01", Kind: kind, Channel: string(kind), Priority: 5, Tier: churn.TierC}
}

func webhook(t *testing.T, url string) *Webhook {
	t.Helper()
	w, err := NewWebhook(url, testSecret, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookIsSignedAndKeyedByTheActionAndLeavesAgentWorkAlone(t *testing.T) {
	rcv, srv := newReceiver(t)
	call := churn.Action{ID: "call1", CustomerID: "c9", Cycle: "2025-06-01", Kind: churn.ActionSpecialistCall, Priority: 1}
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS), automated("e1", churn.ActionEmail), call)
	rep, err := f.dispatcher(t, webhook(t, srv.URL), nil, 3).Run(context.Background())
	if err != nil || rep.Delivered != 2 || rep.Pending != 2 {
		t.Fatalf("report %+v, %v: want the 2 automated actions delivered", rep, err)
	}
	reqs, _ := rcv.snapshot()
	for _, r := range reqs {
		if !r.signedOK || r.key != r.body.ActionID || r.body.IdempotencyKey != r.key || r.body.Attempt != 1 {
			t.Errorf("request %+v: want a valid signature and the action id as key", r)
		}
		if r.body.ActionID == "call1" {
			t.Error("a call went to the webhook")
		}
	}
	for _, id := range []string{"s1", "e1"} {
		if a, _ := f.q.Get(id); a.Status != churn.ActionDone || a.Outcome != OutcomeDelivered || a.Attempts != 1 {
			t.Errorf("%s is %+v, want done/delivered after 1 attempt", id, a)
		}
	}
	if a, _ := f.q.Get("call1"); a.Status != churn.ActionQueued {
		t.Errorf("the call is %s, want it left queued for agents", a.Status)
	}
	// A forged body does not verify.
	if VerifySignature([]byte(testSecret), []byte(`{"action_id":"x"}`), Sign([]byte("another-secret-0123"), []byte(`{"action_id":"x"}`))) {
		t.Error("a signature under another secret verified")
	}
}

func TestAgentsCannotClaimOrCompleteAutomatedActions(t *testing.T) {
	call := churn.Action{ID: "call1", CustomerID: "c9", Cycle: "2025-06-01", Kind: churn.ActionOffer}
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS), call)
	as, err := f.q.Claim(context.Background(), "dana", "t", 10)
	if err != nil || len(as) != 1 || as[0].ID != "call1" {
		t.Fatalf("claimed %+v, %v: want only the offer", as, err)
	}
	if _, err := f.q.Complete(context.Background(), "s1", "", OutcomeAccepted, "", "t"); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("completing a queued sms: %v, want a conflict", err)
	}
}

func TestDispatchRetriesServerErrorsAndTimeoutsWithJitteredBackoffThenDelivers(t *testing.T) {
	rcv, srv := newReceiver(t, 503, 0, 500, 200)
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS))
	rep, err := f.dispatcher(t, webhook(t, srv.URL), nil, 5).Run(context.Background())
	if err != nil || rep.Delivered != 1 || rep.Attempts != 4 {
		t.Fatalf("report %+v, %v: want delivered on the 4th attempt", rep, err)
	}
	// Waits of 1s, 2s, 4s drawn at the middle of their upper half.
	want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}
	if len(f.waits) != 3 || f.waits[0] != want[0] || f.waits[1] != want[1] || f.waits[2] != want[2] {
		t.Fatalf("waits %v, want %v", f.waits, want)
	}
	reqs, sent := rcv.snapshot()
	for i, r := range reqs {
		if r.key != "s1" || r.body.Attempt != i+1 || !r.signedOK {
			t.Errorf("attempt %d: %+v", i+1, r)
		}
	}
	if sent["s1"] != 1 {
		t.Errorf("receiver sent %d messages, want 1", sent["s1"])
	}
	if a, _ := f.q.Get("s1"); a.Status != churn.ActionDone || a.Attempts != 4 {
		t.Fatalf("action %+v, want done after 4 attempts", a)
	}
}

func TestDispatchDeadLettersAfterTheLastAttemptAndNeverSendsItAgain(t *testing.T) {
	rcv, srv := newReceiver(t, 502, 502, 502, 200)
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS))
	d := f.dispatcher(t, webhook(t, srv.URL), nil, 3)
	rep, err := d.Run(context.Background())
	if err != nil || rep.DeadLettered != 1 || rep.Attempts != 3 {
		t.Fatalf("report %+v, %v: want dead-lettered after 3 attempts", rep, err)
	}
	if a, _ := f.q.Get("s1"); a.Status != churn.ActionFailed || a.Outcome != OutcomeDeadLettered || a.Attempts != 3 {
		t.Fatalf("action %+v, want failed/dead_lettered, 3 attempts", a)
	}
	if rep, err := d.Run(context.Background()); err != nil || rep.Pending != 0 {
		t.Fatalf("second run %+v, %v: want nothing pending", rep, err)
	}
	if reqs, _ := rcv.snapshot(); len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
}

func TestAPermanentRefusalDeadLettersAtOnceAndABadSignatureStopsTheRun(t *testing.T) {
	_, srv := newReceiver(t, 422, 401)
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS), automated("s2", churn.ActionSMS), automated("s3", churn.ActionSMS))
	rep, err := f.dispatcher(t, webhook(t, srv.URL), nil, 5).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "dispatch-webhook-secret") {
		t.Fatalf("err %v: want the run stopped naming the secret", err)
	}
	if rep.DeadLettered != 1 || rep.Failed != 1 || rep.Attempts != 2 {
		t.Fatalf("report %+v: want one dead letter (422), one failed attempt (401), the third not tried", rep)
	}
	counts := f.q.Counts()
	if counts[churn.ActionFailed] != 1 || counts[churn.ActionQueued] != 2 {
		t.Fatalf("statuses %v", counts)
	}
}

func TestARestartBetweenSendAndRecordResendsWithTheSameKeyAndTheReceiverDedupes(t *testing.T) {
	rcv, srv := newReceiver(t)
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS), automated("s2", churn.ActionEmail))
	f.log.FailNext(false) // the results never reach the log: the process "dies" after sending
	if _, err := f.dispatcher(t, webhook(t, srv.URL), nil, 5).Run(context.Background()); err == nil {
		t.Fatal("a run whose results were not recorded reported success")
	}
	// The restarted process rebuilds the queue from the log.
	f.q = NewQueue(f.log, QueueOptions{Now: f.clk.Now})
	d := f.dispatcher(t, webhook(t, srv.URL), nil, 5)
	if rep, err := d.Run(context.Background()); err != nil || rep.Delivered != 2 {
		t.Fatalf("after restart: %+v, %v", rep, err)
	}
	if rep, err := d.Run(context.Background()); err != nil || rep.Pending != 0 {
		t.Fatalf("third run: %+v, %v: want nothing left to send", rep, err)
	}
	reqs, sent := rcv.snapshot()
	keys := map[string]int{}
	for _, r := range reqs {
		keys[r.key]++
	}
	if len(reqs) != 4 || keys["s1"] != 2 || keys["s2"] != 2 {
		t.Fatalf("requests by key %v: want each action sent twice with its key", keys)
	}
	if sent["s1"] != 1 || sent["s2"] != 1 {
		t.Fatalf("messages sent %v: want one each", sent)
	}
}

func TestACancelledRunRecordsTheFailedAttemptAndTheNextRunGoesOnCounting(t *testing.T) {
	_, srv := newReceiver(t, 503, 200)
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS))
	ctx, cancel := context.WithCancel(context.Background())
	d, err := NewDispatcher(f.q, webhook(t, srv.URL), nil, DispatchOptions{MaxAttempts: 5, Now: f.clk.Now,
		Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := d.Run(ctx); err == nil || rep.Failed != 1 {
		t.Fatalf("cancelled run: %+v, %v", rep, err)
	}
	if a, _ := f.q.Get("s1"); a.Status != churn.ActionQueued || a.Attempts != 1 {
		t.Fatalf("after a cancelled run: %+v, want queued with 1 attempt", a)
	}
	rep, err := f.dispatcher(t, webhook(t, srv.URL), nil, 5).Run(context.Background())
	if err != nil || rep.Delivered != 1 {
		t.Fatalf("next run %+v, %v", rep, err)
	}
	if a, _ := f.q.Get("s1"); a.Attempts != 2 {
		t.Fatalf("attempts %d, want 2 over both runs", a.Attempts)
	}
}

func TestCSVDispatchWritesOneFilePerCycleAndChannelAndRewritesItIdempotently(t *testing.T) {
	dir := t.TempDir()
	e := automated("e1", churn.ActionEmail)
	e.Cycle = "2025-07-01"
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS), automated("s2", churn.ActionSMS), e)
	f.log.FailNext(false) // written, not recorded: the next run rewrites the same rows
	if _, err := f.dispatcher(t, nil, CSVFiles{Dir: dir}, 5).Run(context.Background()); err == nil {
		t.Fatal("unrecorded run reported success")
	}
	f.q = NewQueue(f.log, QueueOptions{Now: f.clk.Now})
	rep, err := f.dispatcher(t, nil, CSVFiles{Dir: dir}, 5).Run(context.Background())
	if err != nil || rep.Delivered != 3 || len(rep.Files) != 2 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	rows := readCSV(t, filepath.Join(dir, "actions-2025-06-01-sms.csv"))
	if len(rows) != 3 || rows[0][0] != "action_id" || rows[1][0] != "s1" || rows[2][0] != "s2" {
		t.Fatalf("sms file %v: want the header and s1, s2 once each", rows)
	}
	if rows := readCSV(t, filepath.Join(dir, "actions-2025-07-01-email.csv")); len(rows) != 2 {
		t.Fatalf("email file %v", rows)
	}
	if fi, err := os.Stat(filepath.Join(dir, "actions-2025-06-01-sms.csv")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("sms file mode %v (%v), want 0644: the campaign system reads it", fi.Mode(), err)
	}
	if a, _ := f.q.Get("s1"); a.Status != churn.ActionDone || !strings.Contains(a.Note, "actions-2025-06-01-sms.csv") {
		t.Fatalf("s1 %+v", a)
	}
}

// readCSV splits a dispatch file of the tests, whose fields hold no commas
// or quotes, into rows of fields.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		rows = append(rows, strings.Split(line, ","))
	}
	return rows
}

func TestAReplayedFailedDeliveryKeepsTheActionQueuedWithItsAttempts(t *testing.T) {
	log := &retentiontest.Log{}
	at := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	a := automated("s1", churn.ActionSMS)
	failed := a
	// Read back from ClickHouse, an event's action carries the event's type
	// as its status.
	failed.Attempts, failed.Status = 2, churn.ActionDeliveryFailed
	evs := []churn.ActionEvent{{ID: "e0000000000000000001-x", Type: churn.ActionQueued, At: at, Action: a},
		{ID: "e0000000000000000002-x", Type: churn.ActionDeliveryFailed, At: at, Action: failed}}
	if err := log.AppendActionEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(log, QueueOptions{Now: func() time.Time { return at }})
	if err := q.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := q.Get("s1"); got.Status != churn.ActionQueued || got.Attempts != 2 {
		t.Fatalf("after replay: %+v, want queued with 2 attempts", got)
	}
	if p, err := q.Pending(context.Background()); err != nil || len(p) != 1 || p[0].Attempts != 2 {
		t.Fatalf("pending %+v, %v", p, err)
	}
}

// The campaign system's answer to a delivered message: once, accepted or
// declined, kept on replay; not for a queued or dead-lettered message, nor
// for an action an agent works.
func TestADeliveredMessageIsAnsweredOnceAndTheAnswerSurvivesAReplay(t *testing.T) {
	ctx := context.Background()
	call := churn.Action{ID: "call1", CustomerID: "c9", Cycle: "2025-06-01", Kind: churn.ActionOffer}
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS), automated("s2", churn.ActionSMS),
		automated("e1", churn.ActionEmail), automated("e2", churn.ActionEmail), call)
	if _, err := f.q.Answer(ctx, "s1", OutcomeAccepted, "", "campaigns"); churn.ErrorKind(err) != churn.KindConflict {
		t.Fatalf("answering a queued sms: %v, want a conflict", err)
	}
	if _, err := f.q.RecordDeliveries(ctx, "dispatch", []Delivery{
		{ActionID: "s1", Result: Delivered, Attempts: 1}, {ActionID: "s2", Result: Delivered, Attempts: 1},
		{ActionID: "e1", Result: Delivered, Attempts: 1, Detail: "actions-2025-06-01-email.csv"}, {ActionID: "e2", Result: DeadLettered, Attempts: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.Answer(ctx, "s1", OutcomeUnreachable, "", "campaigns"); churn.ErrorKind(err) != churn.KindInvalid {
		t.Fatalf("answer unreachable: %v, want invalid", err)
	}
	a, err := f.q.Answer(ctx, "s1", OutcomeAccepted, "clicked", "campaigns")
	if err != nil || a.Status != churn.ActionDone || a.Outcome != OutcomeAccepted || a.Note != "clicked" {
		t.Fatalf("answered s1: %+v, %v", a, err)
	}
	if a, err := f.q.Answer(ctx, "e1", OutcomeDeclined, "", "campaigns"); err != nil || a.Outcome != OutcomeDeclined || a.Note != "actions-2025-06-01-email.csv" {
		t.Fatalf("answered e1 without a note: %+v, %v; want declined with the dispatcher's note", a, err)
	}
	events := f.log.Len()
	if a, err := f.q.Answer(ctx, "s1", OutcomeAccepted, "clicked", "campaigns"); err != nil || a.Outcome != OutcomeAccepted {
		t.Fatalf("the same answer again: %+v, %v", a, err)
	}
	if n := f.log.Len(); n != events {
		t.Errorf("a repeated answer wrote %d events", n-events)
	}
	for id, why := range map[string]string{"s1": "answered already", "e2": "dead-lettered", "call1": "an agent's action", "nope": "unknown"} {
		want := churn.KindConflict
		if id == "nope" {
			want = churn.KindNotFound
		}
		if _, err := f.q.Answer(ctx, id, OutcomeDeclined, "", "campaigns"); churn.ErrorKind(err) != want {
			t.Errorf("answering %s (%s): %v, want %s", id, why, err, want)
		}
	}

	again := NewQueue(f.log, QueueOptions{Now: f.clk.Now})
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"s1": OutcomeAccepted, "s2": OutcomeDelivered, "e1": OutcomeDeclined, "e2": OutcomeDeadLettered} {
		if a, err := again.Get(id); err != nil || a.Outcome != want {
			t.Errorf("%s after replay: %+v, %v; want outcome %s", id, a, err, want)
		}
	}
}

func TestABatchOfAnswersIsWrittenInOneBlockOrNotAtAll(t *testing.T) {
	ctx := context.Background()
	call := churn.Action{ID: "call1", CustomerID: "c9", Cycle: "2025-06-01", Kind: churn.ActionOffer}
	f := newDispatchFixture(t, automated("s1", churn.ActionSMS), automated("s2", churn.ActionSMS),
		automated("e1", churn.ActionEmail), automated("e2", churn.ActionEmail), call)
	if _, err := f.q.RecordDeliveries(ctx, "dispatch", []Delivery{
		{ActionID: "s1", Result: Delivered, Attempts: 1}, {ActionID: "s2", Result: Delivered, Attempts: 1},
		{ActionID: "e1", Result: Delivered, Attempts: 1, Detail: "actions-2025-06-01-email.csv"}, {ActionID: "e2", Result: DeadLettered, Attempts: 5}}); err != nil {
		t.Fatal(err)
	}
	before := f.log.Len()
	// One answer that cannot be recorded refuses the batch, naming it.
	for _, c := range []struct {
		answers []MessageAnswer
		kind    churn.Kind
		field   string
	}{
		{[]MessageAnswer{{"s1", OutcomeAccepted, ""}, {"e2", OutcomeDeclined, ""}}, churn.KindConflict, "answers[1]"},
		{[]MessageAnswer{{"s1", OutcomeAccepted, ""}, {"call1", OutcomeDeclined, ""}}, churn.KindConflict, "answers[1]"},
		{[]MessageAnswer{{"nope", OutcomeAccepted, ""}}, churn.KindNotFound, "answers[0]"},
		{[]MessageAnswer{{"s1", OutcomeAccepted, ""}, {"s2", "maybe", ""}}, churn.KindInvalid, "answers[1].outcome"},
		{[]MessageAnswer{{"s1", OutcomeAccepted, ""}, {"s1", OutcomeAccepted, ""}}, churn.KindInvalid, "answers[1].action_id"},
		{nil, churn.KindInvalid, "answers"},
	} {
		if _, _, err := f.q.AnswerAll(ctx, c.answers, "campaigns"); churn.ErrorKind(err) != c.kind || churn.ErrorField(err) != c.field {
			t.Errorf("%v: %v (field %q), want %s naming %s", c.answers, err, churn.ErrorField(err), c.kind, c.field)
		}
	}
	if n := f.log.Len(); n != before {
		t.Fatalf("refused batches wrote %d events", n-before)
	}
	as, n, err := f.q.AnswerAll(ctx, []MessageAnswer{{"s1", OutcomeAccepted, "clicked"}, {"e1", OutcomeDeclined, ""}}, "campaigns")
	if err != nil || n != 2 || len(as) != 2 || as[0].Outcome != OutcomeAccepted || as[0].Note != "clicked" ||
		as[1].Outcome != OutcomeDeclined || as[1].Note != "actions-2025-06-01-email.csv" {
		t.Fatalf("batch: %+v, %d written, %v", as, n, err)
	}
	if got := f.log.Len() - before; got != 2 {
		t.Errorf("the batch wrote %d events, want 2", got)
	}
	// A retry of the batch with one new answer writes only the new one.
	if _, n, err := f.q.AnswerAll(ctx, []MessageAnswer{{"s1", OutcomeAccepted, "clicked"}, {"e1", OutcomeDeclined, ""}, {"s2", OutcomeDeclined, ""}}, "campaigns"); err != nil || n != 1 {
		t.Fatalf("retry: %d written, %v; want 1", n, err)
	}
	// A failed write leaves the queue as it was: the answer can be sent again.
	f2 := newDispatchFixture(t, automated("s3", churn.ActionSMS))
	if _, err := f2.q.RecordDeliveries(ctx, "dispatch", []Delivery{{ActionID: "s3", Result: Delivered, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	f2.log.FailNext(false)
	if _, _, err := f2.q.AnswerAll(ctx, []MessageAnswer{{"s3", OutcomeAccepted, ""}}, "campaigns"); churn.ErrorKind(err) != churn.KindUnavailable {
		t.Fatalf("a failed write: %v, want unavailable", err)
	}
	if a, err := f2.q.Get("s3"); err != nil || a.Outcome != OutcomeDelivered {
		t.Fatalf("after a failed write s3 is %+v (%v), want still delivered", a, err)
	}
	if _, n, err := f2.q.AnswerAll(ctx, []MessageAnswer{{"s3", OutcomeAccepted, ""}}, "campaigns"); err != nil || n != 1 {
		t.Fatalf("the answer sent again: %d written, %v", n, err)
	}
}
