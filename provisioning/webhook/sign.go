// Package webhook delivers lifecycle events to partners' endpoints, at least once, following
// the Standard Webhooks specification (standardwebhooks.com): each request carries webhook-id
// (the event id), webhook-timestamp and webhook-signature, so receivers can verify it with the
// official libraries. A Sender makes the HTTP attempts that a provisioning.Worker drives over the
// provisioning.Store's queue. Webhooks go only to globally reachable addresses (Public):
// CheckURL refuses other URLs at registration, and the Sender's client refuses other addresses
// when it connects.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// secretKey decodes a "whsec_…" secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		return nil, errors.New("webhook: a secret is whsec_ followed by base64")
	}
	return key, nil
}

// Sign returns the webhook-signature value for a message: "v1," and the base64 HMAC-SHA256 of
// "<id>.<timestamp>.<body>" keyed with the secret.
func Sign(secret, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks a received message as a Standard Webhooks receiver does: the timestamp is
// within tolerance of now and one of the space-separated v1 signatures matches (compared in
// constant time). secret is the endpoint's secret as the API showed it ("whsec_…"), h the
// request's header (webhook-id, webhook-timestamp, webhook-signature) and body its raw bytes,
// before any decoding. A tolerance of a few minutes (5 is usual) refuses old messages replayed.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil {
		return errors.New("webhook: missing webhook-id or webhook-timestamp")
	}
	at := time.Unix(sec, 0)
	if now.Sub(at) > tolerance || at.Sub(now) > tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	want, err := Sign(secret, id, at, body)
	if err != nil {
		return err
	}
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook: no matching signature")
}
