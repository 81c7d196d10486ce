package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/pgtest"
)

// No request a client can send makes provisiond answer 500, on any store: text that PostgreSQL
// cannot hold (NUL, bytes that are not UTF-8), bidirectional controls, numbers beyond jsonb,
// times beyond the stores' range and a thousand filters are each a 400; look-alike company
// names are one name (409 naming the first). The server runs on each store in turn.
func TestHostileInputOnEveryStore(t *testing.T) {
	t.Chdir(t.TempDir()) // the dev key of the memory and PostgreSQL runs
	stores := map[string]func(t *testing.T) string{
		"memory":     func(*testing.T) string { return "memory:" },
		"sqlite":     func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "p.db") },
		"postgresql": func(t *testing.T) string { return pgtest.URL(t) },
		"pgbouncer":  func(t *testing.T) string { return pgtest.BouncerURL(t) },
	}
	for name, dsn := range stores {
		t.Run(name, func(t *testing.T) {
			base, out, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", dsn(t)}, nil)
			token := out.await(t, tokenRE)
			api := base + "/api/provisioning"
			st, created := call(t, "POST", api+"/tenants", token, `{"company_name":"Acme","email":"a@example.com"}`)
			if st != 201 {
				t.Fatalf("create: %d %s", st, created)
			}
			var acme struct{ Tenant string }
			_ = json.Unmarshal([]byte(created), &acme)
			bad := []struct{ method, path, body string }{
				{"GET", "/tenants?q=%FF", ""},
				{"GET", "/tenants?q=a%00b", ""},
				{"GET", "/tenants?email=a%00@example.com", ""},
				{"GET", "/tenants?external_id=crm%C3", ""},
				{"GET", "/tenants?metadata[plan]=g%00ld", ""},
				{"GET", "/tenants?metadata[pl%FFan]=gold", ""},
				{"GET", "/tenants?" + manyFilters(1000), ""},
				{"GET", "/tenants?created_after=0000-01-01T00:00:00Z", ""},
				{"GET", "/tenants?created_before=99999-01-01T00:00:00Z", ""},
				{"GET", "/tenants?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("9223372036854775807|"+acme.Tenant)), ""},
				{"POST", "/tenants", `{"company_name":"Evil\u0000Corp","email":"e@example.com"}`},
				{"POST", "/tenants", `{"company_name":"Evil\u202eCorp","email":"e@example.com"}`},
				{"POST", "/tenants", `{"company_name":"Evil","email":"e@example.com","industry":"x\u0000y"}`},
				{"POST", "/tenants", `{"company_name":"Evil","email":"e@example.com","metadata":{"k\u0000":"v"}}`},
				{"POST", "/tenants", `{"company_name":"Evil","email":"e@example.com","metadata":{"k":"v\u0000"}}`},
				{"POST", "/tenants", `{"company_name":"Evil","email":"e@example.com","config":{"n":1e999999}}`},
				{"PUT", "/tenants/" + acme.Tenant + "/config", `{"k\u0000":"v"}`},
				{"PUT", "/tenants/" + acme.Tenant + "/config", `{"v":"\u0000"}`},
				{"PATCH", "/tenants/" + acme.Tenant + "/config", `{"n":1e999999}`},
				{"PATCH", "/tenants/" + acme.Tenant + "/config", `{"n":0e-99999}`},
				{"PATCH", "/tenants/" + acme.Tenant, `{"external_id":"crm\u0000"}`},
				{"POST", "/webhooks", `{"url":"https://hooks.example/x","description":"a\u0000b"}`},
			}
			for _, b := range bad {
				if st, resp := call(t, b.method, api+b.path, token, b.body); st != 400 {
					t.Errorf("%s %.60s %.60s: %d %s, want 400", b.method, b.path, b.body, st, resp)
				}
			}
			for _, alike := range []string{"ＡＣＭＥ", "Ac\u00ADme", "Acme\u200B", "  acme "} {
				st, resp := call(t, "POST", api+"/tenants", token, `{"company_name":"`+alike+`","email":"a@example.com"}`)
				if st != 409 || !strings.Contains(resp, acme.Tenant) {
					t.Errorf("create %+q: %d %s, want 409 naming %s", alike, st, resp, acme.Tenant)
				}
			}
			if st, resp := call(t, "GET", api+"/tenants/"+acme.Tenant+"/config", token, ""); st != 200 || !strings.Contains(resp, `"version":1`) {
				t.Errorf("the refused changes touched the configuration: %d %s", st, resp)
			}
		})
	}
}

// manyFilters returns n metadata filters as a query.
func manyFilters(n int) string {
	filters := make([]string, n)
	for i := range filters {
		filters[i] = fmt.Sprintf("metadata[k%d]=v", i)
	}
	return strings.Join(filters, "&")
}
