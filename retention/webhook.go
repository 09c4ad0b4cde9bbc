package retention

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/telcoretain/churn"
)

// Headers of a webhook delivery.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the
	// request body under the shared secret.
	SignatureHeader = "X-Churn-Signature"
	// IdempotencyHeader carries the action id: the same on every attempt
	// and after restarts, so the receiver can drop repeats.
	IdempotencyHeader = "Idempotency-Key"
)

// Webhook delivers actions as signed JSON POSTs to one URL.
type Webhook struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// NewWebhook returns a sender to rawURL (http or https) signing with
// secret; each attempt gets at most timeout.
func NewWebhook(rawURL, secret string, timeout time.Duration, now func() time.Time) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, churn.Invalid("dispatch webhook", "dispatch-webhook-url", "%q: want an http:// or https:// URL", rawURL)
	}
	if len(secret) < 16 {
		return nil, churn.Invalid("dispatch webhook", "dispatch-webhook-secret",
			"is %d characters; want at least 16 so the receiver can trust the signature (e.g. `openssl rand -hex 32`)", len(secret))
	}
	if timeout <= 0 {
		return nil, churn.Invalid("dispatch webhook", "dispatch-timeout", "%s: want a positive duration", timeout)
	}
	if now == nil {
		now = time.Now
	}
	return &Webhook{url: u.String(), secret: []byte(secret), client: &http.Client{Timeout: timeout}, now: now}, nil
}

// WebhookBody is the JSON a receiver gets for one action.
type WebhookBody struct {
	IdempotencyKey string  `json:"idempotency_key"` // the action id, as in the header
	ActionID       string  `json:"action_id"`
	CustomerID     string  `json:"customer_id"`
	Cycle          string  `json:"cycle"`
	Kind           string  `json:"kind"`
	Channel        string  `json:"channel"`
	Offer          string  `json:"offer"`
	Tier           string  `json:"tier"`
	Band           string  `json:"band"`
	Reason         string  `json:"reason"`
	Priority       int     `json:"priority"`
	Cost           float64 `json:"cost"`
	Attempt        int     `json:"attempt"`
	SentAt         string  `json:"sent_at"` // RFC 3339; lets a receiver refuse old replays
}

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether header is the signature of body under
// secret, comparing in constant time: what a receiver does.
func VerifySignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Send posts one attempt. 2xx is delivered; 408, 429, 5xx and transport
// errors are retryable; 401 and 403 halt the run (the secret is wrong for
// every action alike); other answers are permanent.
func (w *Webhook) Send(ctx context.Context, a churn.Action, attempt int) error {
	body, err := json.Marshal(WebhookBody{IdempotencyKey: a.ID, ActionID: a.ID, CustomerID: a.CustomerID, Cycle: a.Cycle,
		Kind: string(a.Kind), Channel: channelOf(a), Offer: a.Offer, Tier: string(a.Tier), Band: string(a.Band),
		Reason: a.Reason, Priority: a.Priority, Cost: a.Cost, Attempt: attempt, SentAt: w.now().UTC().Format(time.RFC3339)})
	if err != nil {
		return &SendError{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return &SendError{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyHeader, a.ID)
	req.Header.Set(SignatureHeader, Sign(w.secret, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return &SendError{Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	se := &SendError{Status: resp.StatusCode, Err: errors.New(strings.TrimSpace(string(msg)))}
	switch c := resp.StatusCode; {
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		se.Halt = true
		se.Err = fmt.Errorf("the receiver refuses the signature or key (check --dispatch-webhook-secret): %s", se.Err)
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		se.Retryable = true
	}
	return se
}
