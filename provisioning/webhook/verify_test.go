package webhook_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning/webhook"
)

// The Standard Webhooks specification's own example: secret, message id, timestamp and body,
// and the signature every implementation must compute for them.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheSpecification(t *testing.T) {
	got, err := webhook.Sign(specSecret, specID, time.Unix(specTimestamp, 0), []byte(specBody))
	if err != nil || got != specSignature {
		t.Fatalf("Sign = %q, %v; want %q", got, err, specSignature)
	}
}

// specHeader is the header of the specification's example message, with the signatures given.
func specHeader(signatures ...string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", specID)
	h.Set("webhook-timestamp", strconv.Itoa(specTimestamp))
	h.Set("webhook-signature", strings.Join(signatures, " "))
	return h
}

var specSent = time.Unix(specTimestamp, 0)

func TestVerifyAcceptsAGenuineMessage(t *testing.T) {
	for name, tc := range map[string]struct {
		h   http.Header
		now time.Time
	}{
		"at once":                  {specHeader(specSignature), specSent},
		"as late as the tolerance": {specHeader(specSignature), specSent.Add(5 * time.Minute)},
		"a clock behind ours":      {specHeader(specSignature), specSent.Add(-5 * time.Minute)},
		// After a rotation a delivery carries a signature per valid secret; one match is enough,
		// and signature versions this receiver does not know are skipped.
		"among other signatures": {specHeader("v1,bm90IGl0", "v2,c29tZXRoaW5nIGVsc2U=", specSignature), specSent},
		// Header names are case-insensitive: http.Header canonicalizes them.
		"header names in another case": {http.Header{"Webhook-Id": {specID}, "Webhook-Timestamp": {strconv.Itoa(specTimestamp)},
			"Webhook-Signature": {specSignature}}, specSent},
	} {
		t.Run(name, func(t *testing.T) {
			if err := webhook.Verify(specSecret, tc.h, []byte(specBody), tc.now, 5*time.Minute); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
}

func TestVerifyRefusesWhatIsNotGenuine(t *testing.T) {
	without := func(name string) http.Header {
		h := specHeader(specSignature)
		h.Del(name)
		return h
	}
	with := func(name, value string) http.Header {
		h := specHeader(specSignature)
		h.Set(name, value)
		return h
	}
	for name, tc := range map[string]struct {
		secret string
		h      http.Header
		body   string
		now    time.Time
	}{
		"another body":              {specSecret, specHeader(specSignature), `{"test": 2432232315}`, specSent},
		"another secret":            {"whsec_" + strings.Repeat("A", 43) + "=", specHeader(specSignature), specBody, specSent},
		"another message id":        {specSecret, with("webhook-id", "msg_other"), specBody, specSent},
		"another timestamp":         {specSecret, with("webhook-timestamp", strconv.Itoa(specTimestamp+1)), specBody, specSent},
		"no message id":             {specSecret, without("webhook-id"), specBody, specSent},
		"no timestamp":              {specSecret, without("webhook-timestamp"), specBody, specSent},
		"a timestamp not a number":  {specSecret, with("webhook-timestamp", "2021-02-25T15:02:10Z"), specBody, specSent},
		"no signature":              {specSecret, without("webhook-signature"), specBody, specSent},
		"a signature unversioned":   {specSecret, specHeader(strings.TrimPrefix(specSignature, "v1,")), specBody, specSent},
		"another signature version": {specSecret, specHeader("v1a" + strings.TrimPrefix(specSignature, "v1")), specBody, specSent},
		"too old":                   {specSecret, specHeader(specSignature), specBody, specSent.Add(5*time.Minute + time.Second)},
		"from the future":           {specSecret, specHeader(specSignature), specBody, specSent.Add(-5*time.Minute - time.Second)},
		"a secret not base64":       {"whsec_not base64!", specHeader(specSignature), specBody, specSent},
	} {
		t.Run(name, func(t *testing.T) {
			if err := webhook.Verify(tc.secret, tc.h, []byte(tc.body), tc.now, 5*time.Minute); err == nil {
				t.Fatal("verified")
			}
		})
	}
}
