package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// registerWebhook registers an endpoint of partner-a and returns its path.
func registerWebhook(t *testing.T, e *env, body string) string {
	t.Helper()
	r := e.req(t, "POST", base+"/webhooks", e.admin, body)
	if r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	return r.header.Get("Location")
}

// endDeliveries ends every delivery due now as failed, in the store, as a worker that gave up
// would.
func endDeliveries(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Add(time.Hour)
	err := e.store.Write(ctx, func(tx provisioning.Tx) error {
		jobs, err := tx.ClaimDeliveries(ctx, &provisioning.ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1000})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			d := j.Delivery
			d.State, d.LastStatus, d.LastError, d.UpdatedAt = provisioning.DeliveryFailed, 503, "the endpoint answered HTTP 503", now
			if err := tx.FinishDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// endedDelivery registers an endpoint, queues a delivery to it and ends it; it returns the
// path of its redelivery.
func endedDelivery(t *testing.T, e *env) string {
	t.Helper()
	wh := registerWebhook(t, e, `{"url":"https://hooks.example/ended"}`)
	e.create(t, e.admin, `{"company_name":"Delivered `+wh[len(wh)-12:]+`","email":"d@example.com"}`)
	endDeliveries(t, e)
	r := e.req(t, "GET", wh+"/deliveries", e.admin, "")
	return wh + "/deliveries/" + r.json(t)["data"].([]any)[0].(map[string]any)["id"].(string) + "/redeliver"
}

// PATCH /webhooks/{id} changes the members it names and no other; disabling holds deliveries.
// Its errors: 400 for invalid members (null url, unknown events and fields), 415, 404 for
// another partner's endpoint, 403 without webhook:manage.
func TestWebhookPatchOverHTTP(t *testing.T) {
	e := newEnv(t)
	wh := registerWebhook(t, e, `{"url":"https://hooks.example/a","description":"CRM","events":["tenant.created"]}`)
	r := e.req(t, "PATCH", wh, e.admin, `{"events":["tenant.provisioned","tenant.provisioning_failed"]}`, "Content-Type", "application/merge-patch+json")
	w := r.json(t)
	if r.status != 200 || w["url"] != "https://hooks.example/a" || w["description"] != "CRM" || len(w["events"].([]any)) != 2 ||
		w["disabled"] != false || w["secret"] != nil {
		t.Fatalf("patch events: %d %s", r.status, r.body)
	}
	r = e.req(t, "PATCH", wh, e.admin, `{"url":"https://hooks.example/b","description":null,"events":null,"disabled":true}`)
	if w = r.json(t); r.status != 200 || w["url"] != "https://hooks.example/b" || w["description"] != nil || len(w["events"].([]any)) != 0 || w["disabled"] != true {
		t.Fatalf("patch all: %d %s", r.status, r.body)
	}
	if r = e.req(t, "GET", wh, e.admin, ""); r.json(t)["disabled"] != true {
		t.Fatalf("get after disabling: %s", r.body)
	}
	e.create(t, e.admin, acme)
	if r = e.req(t, "GET", wh+"/deliveries", e.admin, ""); len(r.json(t)["data"].([]any)) != 0 {
		t.Fatalf("a disabled endpoint got a delivery: %s", r.body)
	}

	for body, field := range map[string]string{
		`{"url":null}`:                                       "url",
		`{"url":"ftp://hooks.example/x"}`:                    "url",
		`{"events":["tenant.exploded"]}`:                     "events",
		`{"events":["webhook.test"]}`:                        "events",
		`{"disabled":null}`:                                  "disabled",
		`{"disabled":"yes"}`:                                 "disabled",
		`{"secret":"whsec_AAAA"}`:                            "secret",
		`{"description":"` + strings.Repeat("d", 501) + `"}`: "description",
	} {
		p := wantProblem(t, e.req(t, "PATCH", wh, e.admin, body), 400, "validation_failed")
		if _, ok := p["errors"].(map[string]any)[field]; !ok {
			t.Fatalf("%s: problem %v does not name %s", body, p, field)
		}
	}
	wantProblem(t, e.req(t, "PATCH", wh, e.admin, `{"url":`), 400, "invalid_json")
	wantProblem(t, e.req(t, "PATCH", wh, e.admin, `{}`, "Content-Type", "text/plain"), 415, "unsupported_media_type")
	wantProblem(t, e.req(t, "PATCH", wh, e.adminB, `{"disabled":false}`), 404, "not_found")
	wantProblem(t, e.req(t, "PATCH", base+"/webhooks/nope", e.admin, `{"disabled":false}`), 404, "not_found")
	wantProblem(t, e.req(t, "PATCH", wh, e.reader, `{"disabled":false}`), 403, "forbidden")
	if r := e.req(t, "PUT", wh, e.admin, `{}`); r.status != 405 || r.header.Get("Allow") != "GET, HEAD, PATCH, DELETE" {
		t.Fatalf("PUT: %d %v", r.status, r.header)
	}
}

// A new URL passes the address check of a registration: a host that resolves to a private
// address is refused, with the same words as at registration.
func TestWebhookPatchChecksTheAddress(t *testing.T) {
	e := newWebhookEnv(t, webhook.CheckURL(false, names{"hooks.example.com": "93.184.216.34", "db.internal.example.com": "10.0.0.7"}))
	wh := registerWebhook(t, e, `{"url":"https://hooks.example.com/x"}`)
	refusedAtRegistration := wantProblem(t, e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://db.internal.example.com/x"}`), 400, "validation_failed")
	p := wantProblem(t, e.req(t, "PATCH", wh, e.admin, `{"url":"https://db.internal.example.com/x"}`), 400, "validation_failed")
	if p["errors"].(map[string]any)["url"] != refusedAtRegistration["errors"].(map[string]any)["url"] {
		t.Fatalf("refused with %v, at registration with %v", p, refusedAtRegistration)
	}
	if r := e.req(t, "PATCH", wh, e.admin, `{"disabled":true}`); r.status != 200 || r.json(t)["url"] != "https://hooks.example.com/x" {
		t.Fatalf("a patch without url: %d %s", r.status, r.body)
	}
}

// POST /webhooks/{id}/test queues a webhook.test delivery to that endpoint alone, not in the
// feed; 409 when the endpoint is disabled, 404 for another partner's, 405 for another method.
func TestWebhookTestOverHTTP(t *testing.T) {
	e := newEnv(t)
	wh := registerWebhook(t, e, `{"url":"https://hooks.example/t"}`)
	other := registerWebhook(t, e, `{"url":"https://hooks.example/other"}`)
	r := e.req(t, "POST", wh+"/test", e.admin, "")
	d := r.json(t)
	if r.status != 202 || d["event_type"] != "webhook.test" || d["state"] != "pending" || d["attempts"] != float64(0) ||
		d["webhook"] != wh[strings.LastIndex(wh, "/")+1:] {
		t.Fatalf("test: %d %s", r.status, r.body)
	}
	if r = e.req(t, "GET", wh+"/deliveries", e.admin, ""); len(r.json(t)["data"].([]any)) != 1 {
		t.Fatalf("the endpoint's log: %s", r.body)
	}
	if r = e.req(t, "GET", other+"/deliveries", e.admin, ""); len(r.json(t)["data"].([]any)) != 0 {
		t.Fatalf("another endpoint got the test: %s", r.body)
	}
	if r = e.req(t, "GET", base+"/events", e.admin, ""); len(r.json(t)["data"].([]any)) != 0 {
		t.Fatalf("the test event is in the feed: %s", r.body)
	}
	wantProblem(t, e.req(t, "POST", wh+"/test", e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "POST", wh+"/test", e.reader, ""), 403, "forbidden")
	if r := e.req(t, "GET", wh+"/test", e.admin, ""); r.status != 405 {
		t.Fatalf("GET test: %d", r.status)
	}
	e.req(t, "PATCH", wh, e.admin, `{"disabled":true}`)
	wantProblem(t, e.req(t, "POST", wh+"/test", e.admin, ""), 409, "webhook_disabled")
}

// POST …/deliveries/{delivery}/redeliver queues the event again as a new delivery; 409 while
// the delivery is pending or the endpoint disabled; 404 for another partner's endpoint, an
// unknown delivery, and a delivery of another endpoint.
func TestRedeliverOverHTTP(t *testing.T) {
	e := newEnv(t)
	redeliver := endedDelivery(t, e)
	wh := redeliver[:strings.Index(redeliver, "/deliveries/")]
	r := e.req(t, "POST", redeliver, e.admin, "")
	d := r.json(t)
	if r.status != 202 || d["state"] != "pending" || d["attempts"] != float64(0) || d["event_type"] != "tenant.created" ||
		strings.Contains(redeliver, d["id"].(string)) {
		t.Fatalf("redeliver: %d %s", r.status, r.body)
	}
	again := wh + "/deliveries/" + d["id"].(string) + "/redeliver"
	wantProblem(t, e.req(t, "POST", again, e.admin, ""), 409, "delivery_pending")
	wantProblem(t, e.req(t, "POST", redeliver, e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "POST", wh+"/deliveries/0190a0b0-0000-7000-8000-00000000dead/redeliver", e.admin, ""), 404, "not_found")
	other := registerWebhook(t, e, `{"url":"https://hooks.example/other"}`)
	wantProblem(t, e.req(t, "POST", other+redeliver[len(wh):], e.admin, ""), 404, "not_found")
	wantProblem(t, e.req(t, "POST", redeliver, e.reader, ""), 403, "forbidden")
	if r := e.req(t, "DELETE", redeliver, e.admin, ""); r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Fatalf("DELETE redeliver: %d %v", r.status, r.header)
	}
	if r := e.req(t, "GET", wh+"/deliveries", e.admin, ""); len(r.json(t)["data"].([]any)) != 2 {
		t.Fatalf("the log after a redelivery: %s", r.body)
	}
	e.req(t, "PATCH", wh, e.admin, `{"disabled":true}`)
	wantProblem(t, e.req(t, "POST", redeliver, e.admin, ""), 409, "webhook_disabled")
}
