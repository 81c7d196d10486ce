package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
)

// nested wraps inner in depth copies of open and close.
func nested(depth int, open, close, inner string) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
}

// objects is a JSON value nested exactly levels deep, of objects; arrays, of arrays.
func objects(levels int) string { return nested(levels-1, `{"k":`, `}`, `{}`) }
func arrays(levels int) string  { return nested(levels-1, `[`, `]`, `[]`) }

// Every route that takes a body accepts JSON nested 32 levels deep where its schema allows
// that much, and refuses 33 levels as invalid_json, whatever the values that nest; so it does
// for 10,001 levels, and for a caller without any permission (bodies are decoded before
// authorization, in memory linear in their size).
func TestJSONNestingBoundOnEveryBodyRoute(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	nobody := jwttest.Mint(t, e.iss.Ed, jwtauth.Claims{PartnerID: "partner-a"})
	created := 0
	routes := []struct {
		name, method, path, contentType string
		body                            func(levels int, i int) string // a body nested levels deep
		status                          int                            // at 32 levels
		code                            string                         // at 32 levels, when status is 400
	}{
		{"create, config of objects", "POST", "/tenants", "application/json", func(n, i int) string {
			return fmt.Sprintf(`{"company_name":"Deep %d","email":"d@example.com","config":%s}`, i, objects(n-1))
		}, 201, ""},
		{"create, config of arrays", "POST", "/tenants", "application/json", func(n, i int) string {
			return fmt.Sprintf(`{"company_name":"Deep %d","email":"d@example.com","config":{"k":%s}}`, i, arrays(n-2))
		}, 201, ""},
		{"bulk create", "POST", "/tenants/bulk", "application/json", func(n, i int) string {
			return fmt.Sprintf(`{"tenants":[{"company_name":"Bulk %d","email":"b@example.com","config":%s}]}`, i, objects(n-3))
		}, 200, ""},
		{"replace config", "PUT", "/tenants/" + id + "/config", "application/json", func(n, _ int) string {
			return objects(n)
		}, 200, ""},
		{"merge-patch config", "PATCH", "/tenants/" + id + "/config", "application/merge-patch+json", func(n, _ int) string {
			return `{"k":` + arrays(n-1) + `}`
		}, 200, ""},
		{"replace tenant", "PUT", "/tenants/" + id, "application/json", func(n, _ int) string {
			return `{"company_name":"Acme","email":"ops@acme.example","metadata":` + objects(n-1) + `}`
		}, 400, "validation_failed"},
		{"merge-patch tenant", "PATCH", "/tenants/" + id, "application/merge-patch+json", func(n, _ int) string {
			return `{"metadata":` + arrays(n-1) + `}`
		}, 400, "validation_failed"},
		{"create webhook", "POST", "/webhooks", "application/json", func(n, _ int) string {
			return `{"url":"https://hooks.example/x","events":` + arrays(n-1) + `}`
		}, 400, "validation_failed"},
	}
	for i, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			send := func(token string, levels int) response {
				return e.req(t, rt.method, base+rt.path, token, rt.body(levels, i), "Content-Type", rt.contentType)
			}
			if r := send(e.admin, 32); r.status != rt.status || rt.code != "" && r.json(t)["code"] != rt.code {
				t.Fatalf("32 levels: %d %s, want %d %s", r.status, r.body, rt.status, rt.code)
			}
			if rt.status == 201 {
				created++
			}
			for _, levels := range []int{33, 10_001} { // 10,001: past encoding/json's own bound too
				p := wantProblem(t, send(e.admin, levels), 400, "invalid_json")
				if !strings.Contains(p["detail"].(string), "nested more than 32 levels") {
					t.Fatalf("%d levels: detail %q does not say the bound", levels, p["detail"])
				}
			}
			wantProblem(t, send(nobody, 33), 400, "invalid_json")
			if rt.status != 400 {
				wantProblem(t, send(nobody, 32), 403, "forbidden")
			}
		})
	}
	list := e.req(t, "GET", base+"/tenants?limit=200", e.admin, "").json(t)["data"].([]any)
	if want := 1 + created + 1; len(list) != want { // acme, the creates and the bulk item at 32 levels
		t.Fatalf("%d tenants exist, want %d: a refused body created one", len(list), want)
	}
}
