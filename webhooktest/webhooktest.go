// Package webhooktest owns sending webhook deliveries the way GitHub sends
// them: the HMAC signatures of a payload and a POST with GitHub's headers.
// The tests and `publishbot demo` use it to play GitHub against the bot; it
// signs independently of the webhook package, which verifies.
package webhooktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// UserAgent is the User-Agent of GitHub's documented example delivery.
const UserAgent = "GitHub-Hookshot/044aadd"

// Signature256 is the X-Hub-Signature-256 value for payload under secret:
// "sha256=" and the hex HMAC-SHA256.
func Signature256(secret, payload []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(payload)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Signature1 is the legacy X-Hub-Signature value GitHub still sends beside
// the SHA-256 one: "sha1=" and the hex HMAC-SHA1.
func Signature1(secret, payload []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(payload)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// NewRequest returns the POST of one delivery of event (X-GitHub-Event) with
// the id delivery (X-GitHub-Delivery) to url, the body payload signed with
// secret, and the rest of GitHub's headers: Content-Type application/json,
// User-Agent, X-GitHub-Hook-ID, X-Hub-Signature-256 and X-Hub-Signature.
// Callers change or delete headers afterwards to send a bad delivery.
func NewRequest(ctx context.Context, url string, secret []byte, event, delivery string, payload []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", "12312312")
	req.Header.Set("X-Hub-Signature-256", Signature256(secret, payload))
	req.Header.Set("X-Hub-Signature", Signature1(secret, payload))
	return req, nil
}
