package taskflow

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Webhook signing: every call carries X-CRM-Timestamp (Unix seconds) and
// X-CRM-Signature, "sha256=" and the hex HMAC-SHA256 of the timestamp, a
// dot and the body, keyed with the server's webhook signing key
// (CRM_WEBHOOK_SIGNING_KEY). A receiver recomputes it, compares in
// constant time and refuses old timestamps, so a captured call cannot be
// replayed later. X-CRM-Event-Id is the same for every attempt of a call.
const (
	HeaderSignature = "X-CRM-Signature"
	HeaderTimestamp = "X-CRM-Timestamp"
	HeaderEventID   = "X-CRM-Event-Id"
)

// Webhooks is how CallWebhook calls out: the signing key, and the HTTP
// client (nil: one with a ten-second timeout).
type Webhooks struct {
	Key    []byte
	Client *http.Client
	// Now is the clock of the signature's timestamp (nil: time.Now).
	Now func() time.Time
}

// Sign answers the signature header's value for a body sent at ts.
func Sign(key []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// CallWebhook posts a WEBHOOK action's event, signed with the deployment's
// webhook signing key.
func (a *Activities) CallWebhook(ctx context.Context, c WebhookCall) error {
	if len(a.Webhooks.Key) == 0 {
		return temporal.NewNonRetryableApplicationError("webhooks are not configured: CRM_WEBHOOK_SIGNING_KEY is not set", "FailedPrecondition", nil)
	}
	body, err := json.Marshal(c.Event)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidArgument", err)
	}
	_, err = a.Webhooks.post(ctx, c.URL, c.Event.ID, a.Webhooks.Key, body)
	return err
}

// post sends one signed call and answers the receiver's status. A 2xx is
// success; a 4xx (except 408 and 429) is the receiver refusing, final;
// anything else — a 5xx, a timeout, no connection — is for a retry.
func (w Webhooks) post(ctx context.Context, url, eventID string, key, body []byte) (int, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, temporal.NewNonRetryableApplicationError("the webhook address is not usable: "+err.Error(), "InvalidArgument", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crm-webhooks")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(key, ts, body))
	req.Header.Set(HeaderEventID, eventID)
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("calling the webhook: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return code, nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return code, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the webhook refused the call: %s %s", resp.Status, fitReason(string(snippet))), "WebhookRefused", nil)
	default:
		return code, temporal.NewApplicationError(fmt.Sprintf("the webhook answered %s %s", resp.Status, fitReason(string(snippet))), "WebhookUnavailable")
	}
}
