package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// Company names that read alike are one name: each look-alike of an existing tenant's name is
// refused with 409 naming that tenant, on create and on rename.
func TestLookAlikeNamesConflict(t *testing.T) {
	e := newEnv(t)
	other := e.create(t, e.admin, `{"company_name":"Someone Else","email":"x@example.com"}`)["tenant"].(string)
	groups := map[string][]string{
		"Acme": {"ACME ", "Ａｃｍｅ", "Ac\u00ADme", "Acme\u200B", "\uFEFFAcme", "A\u2060cme", "Acme\uFE0F"},
		"Café": {"Cafe\u0301", "CAFÉ"},
	}
	for name, alikes := range groups {
		id := e.create(t, e.admin, body(map[string]any{"company_name": name, "email": "a@example.com"}))["tenant"].(string)
		for _, alike := range alikes {
			in := body(map[string]any{"company_name": alike, "email": "a@example.com"})
			p := wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, in), 409, "tenant_exists")
			if p["tenant"] != id {
				t.Errorf("create %+q: conflict names %v, want %s", alike, p["tenant"], id)
			}
			p = wantProblem(t, e.req(t, "PATCH", base+"/tenants/"+other, e.admin, body(map[string]any{"company_name": alike})), 409, "tenant_exists")
			if p["tenant"] != id {
				t.Errorf("rename to %+q: conflict names %v, want %s", alike, p["tenant"], id)
			}
		}
	}
	// The search matches by the same key.
	r := e.req(t, "GET", base+"/tenants?q="+url.QueryEscape("ＡＣ\u00ADＭ"), e.admin, "")
	if data := r.json(t)["data"].([]any); r.status != 200 || len(data) != 1 || data[0].(map[string]any)["company_name"] != "Acme" {
		t.Errorf("q of a look-alike: %d %s", r.status, r.body)
	}
}

// A right-to-left override (and any bidirectional or C0/C1 control) in any text field is
// refused with 400 naming the field, on every route that takes the field; nothing changes.
func TestBidiControlsRefusedInEveryTextField(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	hook := e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://hooks.example/x"}`).json(t)["id"].(string)
	eventsBefore := e.req(t, "GET", base+"/events?limit=200", e.admin, "").body
	for _, bad := range []string{"\u202E", "\u202A", "\u2066", "\u200F", "\x00", "\x1b", "\u0085"} {
		fields := map[string]map[string]any{
			"company_name": {"company_name": "Evil" + bad + "Corp"},
			"email":        {"email": "evil" + bad + "x@example.com"},
			"phone_number": {"phone_number": "+1234" + bad + "567890"},
			"industry":     {"industry": "Tech" + bad + "nology"},
			"external_id":  {"external_id": "crm" + bad + "-1"},
			"metadata":     {"metadata": map[string]string{"plan" + bad: "gold"}},
		}
		fields["metadata value"] = map[string]any{"metadata": map[string]string{"plan": "gold" + bad + "en"}}
		for name, f := range fields {
			field, _, _ := strings.Cut(name, " ")
			full := map[string]any{"company_name": "Fine", "email": "fine@example.com"}
			for k, v := range f {
				full[k] = v
			}
			for _, rq := range []struct{ method, path, body string }{
				{"POST", base + "/tenants", body(full)},
				{"PUT", base + "/tenants/" + id, body(full)},
				{"PATCH", base + "/tenants/" + id, body(f)},
			} {
				p := wantProblem(t, e.req(t, rq.method, rq.path, e.admin, rq.body), 400, "validation_failed")
				if errs, _ := p["errors"].(map[string]any); errs[field] == nil {
					t.Errorf("%s %s with %s %+q: errors %v do not name %s", rq.method, rq.path, name, bad, p["errors"], field)
				}
			}
		}
		for field, w := range map[string]map[string]any{
			"url":         {"url": "https://hooks.example/a" + bad + "b"},
			"description": {"url": "https://hooks.example/y", "description": "mine" + bad + "!"},
		} {
			p := wantProblem(t, e.req(t, "POST", base+"/webhooks", e.admin, body(w)), 400, "validation_failed")
			if errs, _ := p["errors"].(map[string]any); errs[field] == nil {
				t.Errorf("webhook %s %+q: errors %v", field, bad, p["errors"])
			}
		}
	}
	if after := e.req(t, "GET", base+"/events?limit=200", e.admin, "").body; string(after) != string(eventsBefore) {
		t.Errorf("refused input changed something: the event feed moved")
	}
	if ws, _ := e.req(t, "GET", base+"/webhooks", e.admin, "").json(t)["data"].([]any); len(ws) != 1 || ws[0].(map[string]any)["id"] != hook {
		t.Errorf("webhooks after refused registrations: %v, want only %s", ws, hook)
	}
}

// No query a client can send makes a listing fail: bytes that are not UTF-8, NUL, controls,
// too many metadata filters, times outside years 1–9999 and forged cursors are each a 400
// naming the parameter.
func TestHostileListQueries(t *testing.T) {
	e := newEnv(t)
	e.create(t, e.admin, acme)
	metadata := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "&metadata[k%d]=v", i)
		}
		return b.String()[1:]
	}
	cursor := func(s string) string { return "cursor=" + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	bad := map[string]string{
		"q=%FF":                                     "q",
		"q=a%00b":                                   "q",
		"q=%E2%80%AE":                               "q",
		"email=a%C3@example.com":                    "email",
		"email=a%00@example.com":                    "email",
		"external_id=crm%FF":                        "external_id",
		"external_id=crm%E2%80%AE":                  "external_id",
		"metadata[pl%FFan]=gold":                    "metadata",
		"metadata[plan]=go%00ld":                    "metadata",
		"metadata[plan]=gold%E2%81%A6":              "metadata",
		"metadata[a]b]=c":                           "metadata",
		metadata(11):                                "metadata",
		metadata(1000):                              "metadata",
		"created_after=0000-01-01T00:00:00Z":        "created_after",
		"created_after=0001-01-01T00:30:00%2B01:00": "created_after",
		"created_before=99999-01-01T00:00:00Z":      "created_before",
		"created_before=2025-13-01T00:00:00Z":       "created_before",
		"created_before=yesterday":                  "created_before",
		"limit=99999999999999999999":                "limit",
		cursor("9223372036854775807|0190a0b0-0000-7000-8000-000000000001"):    "cursor",
		cursor("1739205000123|urn:uuid:0190a0b0-0000-7000-8000-000000000001"): "cursor",
		"cursor=%FF%00": "cursor",
	}
	for query, field := range bad {
		p := wantProblem(t, e.req(t, "GET", base+"/tenants?"+query, e.admin, ""), 400, "validation_failed")
		if errs, _ := p["errors"].(map[string]any); errs[field] == nil {
			t.Errorf("%.80s: errors %v do not name %s", query, p["errors"], field)
		}
	}
	for _, query := range []string{metadata(10), "created_after=0001-01-01T00:00:00Z&created_before=9999-12-31T23:59:59Z",
		"q=" + url.QueryEscape("Ａｃ"), "created_after=2025-01-01T00:00:00.5%2B14:00"} {
		if r := e.req(t, "GET", base+"/tenants?"+query, e.admin, ""); r.status != 200 {
			t.Errorf("%.80s: %d %s", query, r.status, r.body)
		}
	}
}

// Configuration values every store holds: NUL and numbers beyond a double are refused with 400.
func TestHostileConfigValues(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	for _, doc := range []string{`{"a":"\u0000"}`, `{"\u0000":1}`, `{"n":1e999999}`, `{"n":-1e400}`, `{"n":1e-999999}`,
		`{"n":0e-99999}`, `{"deep":[{"n":[1,2,1e309]}]}`} {
		for _, method := range []string{"PUT", "PATCH"} {
			wantProblem(t, e.req(t, method, base+"/tenants/"+id+"/config", e.admin, doc), 400, "validation_failed")
		}
		wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":"C","email":"c@example.com","config":`+doc+`}`), 400, "validation_failed")
	}
	if r := e.req(t, "GET", base+"/tenants/"+id+"/config", e.admin, ""); r.status != 200 || r.json(t)["version"] != float64(1) {
		t.Errorf("refused configurations changed it: %d %s", r.status, r.body)
	}
}

func body(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
