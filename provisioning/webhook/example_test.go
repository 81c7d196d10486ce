package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning/webhook"
)

// A delivery signed with an endpoint's secret verifies; the same headers with another body, or
// an hour later, do not. The secret is the one the API showed when the endpoint was registered;
// the delivery is the sample of the API reference (docs/api.md).
func ExampleVerify() {
	secret := "whsec_kB/yOaGglfIPk5VlDPk4C47bIkprJIoekk6P0K4uGpQ="
	id := "0194f0b2-3b40-7951-9d9d-c9f81818e811" // the event id
	body := []byte(`{"id":"0194f0b2-3b40-7951-9d9d-c9f81818e811","type":"tenant.created",` +
		`"tenant":"0194f0b2-3b40-726b-b2a7-4de452e6b438","partner_id":"partner-42","actor":"crm-sync",` +
		`"request_id":"01JKRB4ET0HX6XV8A99HSWY9BD","created_at":"2025-02-10T16:30:00.000Z",` +
		`"data":{"tenant":"0194f0b2-3b40-726b-b2a7-4de452e6b438","company_name":"Example Corp",` +
		`"email":"admin@example.com","phone_number":"+1234567890","industry":"Technology",` +
		`"external_id":"crm-4711","status":"active","metadata":{"plan":"gold"},"partner_id":"partner-42",` +
		`"version":1,"created_at":"2025-02-10T16:30:00.000Z","updated_at":"2025-02-10T16:30:00.000Z",` +
		`"provisioning":{"state":"pending","steps":[{"name":"admin-user","state":"pending","attempts":0,"last_error":null,"completed_at":null}]},` +
		`"deletion_scheduled_at":null}}`)
	sent := time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)

	// What the sender does.
	signature, err := webhook.Sign(secret, id, sent, body)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(sent.Unix(), 10))
	h.Set("webhook-signature", signature)
	fmt.Println("webhook-timestamp:", h.Get("webhook-timestamp"))
	fmt.Println("webhook-signature:", signature)

	// What the receiver does, here 3 seconds later.
	received := sent.Add(3 * time.Second)
	fmt.Println("genuine:", webhook.Verify(secret, h, body, received, 5*time.Minute))
	fmt.Println("tampered:", webhook.Verify(secret, h, []byte(`{"type":"tenant.deleted"}`), received, 5*time.Minute))
	fmt.Println("replayed an hour later:", webhook.Verify(secret, h, body, sent.Add(time.Hour), 5*time.Minute))
	// Output:
	// webhook-timestamp: 1739205000
	// webhook-signature: v1,iHPF0nJ7Tdat7MKXaIhrcM+MmMpNwpz9dA+QQUvaF4Y=
	// genuine: <nil>
	// tampered: webhook: no matching signature
	// replayed an hour later: webhook: timestamp outside the tolerance
}

// A receiver's handler: it reads the raw body, verifies it before trusting a byte of it, and
// answers 2xx only to a genuine delivery. provisiond retries a delivery until it gets a 2xx, and
// a retry carries the same webhook-id, so a real receiver also skips the ids it has handled.
func Example_receiver() {
	secret := "whsec_kB/yOaGglfIPk5VlDPk4C47bIkprJIoekk6P0K4uGpQ="
	receive := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "not a genuine delivery", http.StatusUnauthorized)
			return
		}
		fmt.Printf("event %s: %s\n", r.Header.Get("webhook-id"), body)
		w.WriteHeader(http.StatusNoContent)
	})

	// A delivery as provisiond sends it.
	body := `{"id":"0194f0b2-3b40-7951-9d9d-c9f81818e811","type":"tenant.created"}`
	now := time.Now()
	signature, _ := webhook.Sign(secret, "0194f0b2-3b40-7951-9d9d-c9f81818e811", now, []byte(body))
	for _, sig := range []string{signature, "v1,Zm9yZ2Vk"} {
		req := httptest.NewRequest(http.MethodPost, "/hooks/provisiond", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", "0194f0b2-3b40-7951-9d9d-c9f81818e811")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		rec := httptest.NewRecorder()
		receive.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// event 0194f0b2-3b40-7951-9d9d-c9f81818e811: {"id":"0194f0b2-3b40-7951-9d9d-c9f81818e811","type":"tenant.created"}
	// 204
	// 401
}
