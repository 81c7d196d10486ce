package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// Every route that takes a body refuses every kind of bad input with a clear 4xx, and none of
// it changes anything: the event feed, which records every change, stays as it was.
func TestBadInputOnEveryRouteChangesNothing(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	hook := e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://hooks.example/x"}`).json(t)["id"].(string)
	eventsBefore := e.req(t, "GET", base+"/events?limit=200", e.admin, "").body

	routes := []struct{ method, path string }{
		{"POST", base + "/tenants"},
		{"PUT", base + "/tenants/" + id},
		{"PATCH", base + "/tenants/" + id},
		{"POST", base + "/tenants/bulk"},
		{"PUT", base + "/tenants/" + id + "/config"},
		{"PATCH", base + "/tenants/" + id + "/config"},
		{"POST", base + "/webhooks"},
	}
	huge := `{"company_name":"` + strings.Repeat("x", 2<<20) + `"}`
	bad := []struct {
		name, body, contentType string
		status                  int
	}{
		{"malformed JSON", `{"company_name":`, "application/json", 400},
		{"not JSON at all", `company_name=x`, "application/json", 400},
		{"an array", `[{"company_name":"x"}]`, "application/json", 400},
		{"trailing data", `{} {}`, "application/json", 400},
		{"duplicate keys", `{"a":1,"a":2}`, "application/json", 400},
		{"invalid UTF-8", "{\"company_name\":\"Acme\xff\",\"email\":\"a@b.co\"}", "application/json", 400},
		{"empty body", ``, "application/json", 400},
		{"huge body", huge, "application/json", 413},
		{"wrong content type", `{}`, "text/plain", 415},
		{"no content type", `{}`, "", 415},
	}
	for _, rt := range routes {
		for _, b := range bad {
			t.Run(rt.method+" "+rt.path[len(base):]+" "+b.name, func(t *testing.T) {
				r := e.req(t, rt.method, rt.path, e.admin, b.body, "Content-Type", b.contentType)
				if r.status != b.status || r.header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("%d %s, want %d problem", r.status, r.body, b.status)
				}
			})
		}
	}
	// Wrong types and unknown fields, where the body is a resource (config takes any object).
	for _, rt := range []struct{ method, path, body string }{
		{"POST", base + "/tenants", `{"company_name":1,"email":"a@b.co","nope":true}`},
		{"PUT", base + "/tenants/" + id, `{"company_name":1,"email":"a@b.co","nope":true}`},
		{"PATCH", base + "/tenants/" + id, `{"company_name":1,"nope":true}`},
		{"POST", base + "/tenants/bulk", `{"tenants":1,"nope":true}`},
		{"POST", base + "/webhooks", `{"url":1,"nope":true}`},
	} {
		r := e.req(t, rt.method, rt.path, e.admin, rt.body)
		errs, _ := r.json(t)["errors"].(map[string]any)
		if r.status != 400 || errs["nope"] == nil || len(errs) != 2 {
			t.Errorf("%s %s: %d %s, want 400 naming both fields", rt.method, rt.path, r.status, r.body)
		}
	}
	// Missing and bad tokens on every authenticated route.
	authed := append(routes,
		struct{ method, path string }{"GET", base + "/tenants"},
		struct{ method, path string }{"GET", base + "/tenants/" + id},
		struct{ method, path string }{"DELETE", base + "/tenants/" + id},
		struct{ method, path string }{"GET", base + "/tenants/" + id + "/config"},
		struct{ method, path string }{"GET", base + "/events"},
		struct{ method, path string }{"GET", base + "/webhooks"},
		struct{ method, path string }{"GET", base + "/webhooks/" + hook},
		struct{ method, path string }{"DELETE", base + "/webhooks/" + hook},
		struct{ method, path string }{"GET", base + "/webhooks/" + hook + "/deliveries"},
	)
	for _, rt := range authed {
		for _, token := range []string{"", "not-a-jwt", e.admin + "x"} {
			r := e.req(t, rt.method, rt.path, token, `{}`)
			if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with token %.10q: %d", rt.method, rt.path, token, r.status)
			}
		}
	}
	if after := e.req(t, "GET", base+"/events?limit=200", e.admin, "").body; string(after) != string(eventsBefore) {
		t.Fatalf("bad input changed something: the event feed moved")
	}
	if r := e.req(t, "GET", base+"/webhooks/"+hook, e.admin, ""); r.status != 200 {
		t.Fatalf("bad requests removed the webhook: %d", r.status)
	}
}
