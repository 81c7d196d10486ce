package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The life of a deletion over HTTP: scheduled (202), readable, refusing changes, holding its
// names, restored, scheduled again with a shorter grace, purged (204), gone.
func TestDeletion(t *testing.T) {
	e := newEnv(t)
	tn := e.create(t, e.admin, acme)
	id := tn["tenant"].(string)
	path := base + "/tenants/" + id

	r := e.req(t, "DELETE", path, e.admin, "")
	deleted := r.json(t)
	if r.status != 202 || r.header.Get("ETag") != `"2"` || deleted["status"] != "pending_deletion" || deleted["version"] != float64(2) {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	updated, _ := time.Parse(time.RFC3339, deleted["updated_at"].(string))
	scheduled, _ := time.Parse(time.RFC3339, deleted["deletion_scheduled_at"].(string))
	if !scheduled.Equal(updated.Add(720 * time.Hour)) {
		t.Fatalf("deletion_scheduled_at %v, deleted at %v: want the default grace of 720h", scheduled, updated)
	}
	// Again: the same tenant, the schedule unchanged.
	if again := e.req(t, "DELETE", path, e.admin, ""); again.status != 202 || string(again.body) != string(r.body) {
		t.Fatalf("second delete: %d %s", again.status, again.body)
	}
	wantProblem(t, e.req(t, "DELETE", path, e.admin, "", "If-Match", `"1"`), 412, "precondition_failed")

	// Pending deletion: read, never changed.
	if r := e.req(t, "GET", path, e.reader, ""); r.status != 200 || r.json(t)["status"] != "pending_deletion" {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "PATCH", path, e.admin, `{"industry":"Retail"}`), 409, "tenant_pending_deletion")
	wantProblem(t, e.req(t, "PUT", path, e.admin, `{"company_name":"Acme","email":"ops@acme.example"}`), 409, "tenant_pending_deletion")
	wantProblem(t, e.req(t, "PUT", path+"/config", e.admin, `{"seats":1}`), 409, "tenant_pending_deletion")
	wantProblem(t, e.req(t, "PATCH", path+"/config", e.admin, `{"seats":1}`), 409, "tenant_pending_deletion")
	if r := e.req(t, "GET", path+"/config", e.reader, ""); r.status != 200 {
		t.Fatalf("get config: %d %s", r.status, r.body)
	}
	p := wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":"ACME","email":"x@example.com"}`), 409, "tenant_exists")
	if p["tenant"] != id {
		t.Fatalf("the conflict names %v, want %s", p["tenant"], id)
	}
	if r := e.req(t, "GET", base+"/tenants/availability?company_name=acme", e.reader, ""); r.status != 200 ||
		r.json(t)["available"] != false || r.json(t)["tenant"] != id {
		t.Fatalf("availability: %d %s", r.status, r.body)
	}

	// Restore: back to active; a second restore is refused.
	r = e.req(t, "POST", path+"/restore", e.admin, "", "If-Match", `"2"`)
	if restored := r.json(t); r.status != 200 || r.header.Get("ETag") != `"3"` || restored["status"] != "active" ||
		restored["deletion_scheduled_at"] != nil {
		t.Fatalf("restore: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "POST", path+"/restore", e.admin, ""), 409, "tenant_not_pending_deletion")
	if r := e.req(t, "PATCH", path, e.admin, `{"industry":"Retail"}`); r.status != 200 {
		t.Fatalf("patch after the restore: %d %s", r.status, r.body)
	}

	// Deleted again, with a shorter grace.
	r = e.req(t, "DELETE", path+"?grace=2h", e.admin, "")
	deleted = r.json(t)
	updated, _ = time.Parse(time.RFC3339, deleted["updated_at"].(string))
	scheduled, _ = time.Parse(time.RFC3339, deleted["deletion_scheduled_at"].(string))
	if r.status != 202 || !scheduled.Equal(updated.Add(2*time.Hour)) {
		t.Fatalf("delete with grace=2h: %d %s", r.status, r.body)
	}

	// The purge needs tenant:purge, which partner-admin lacks.
	wantProblem(t, e.req(t, "DELETE", path+"?purge=true", e.admin, ""), 403, "forbidden")
	wantProblem(t, e.req(t, "DELETE", path+"?purge=true", e.purger, "", "If-Match", `"4"`), 412, "precondition_failed")
	if r := e.req(t, "DELETE", path+"?purge=true", e.purger, "", "If-Match", `"5"`); r.status != 204 || len(r.body) != 0 {
		t.Fatalf("purge: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "GET", path, e.admin, ""), 404, "not_found")
	wantProblem(t, e.req(t, "POST", path+"/restore", e.admin, ""), 404, "not_found")
	wantProblem(t, e.req(t, "GET", path+"/export", e.admin, ""), 404, "not_found")
	wantProblem(t, e.req(t, "DELETE", path, e.admin, ""), 404, "not_found")
	wantProblem(t, e.req(t, "DELETE", path+"?purge=true", e.purger, ""), 404, "not_found")
	if r := e.req(t, "GET", base+"/tenants/availability?company_name=Acme&external_id=crm-1", e.reader, ""); r.status != 200 ||
		string(r.body) != `{"available":true,"tenant":null}`+"\n" {
		t.Fatalf("availability after the purge: %d %s", r.status, r.body)
	}
	e.create(t, e.admin, acme) // its names are free

	// Its events keep their ids and types, and lose its data.
	r = e.req(t, "GET", base+"/events?limit=200", e.reader, "")
	var types []string
	for _, ev := range r.json(t)["data"].([]any) {
		if ev := ev.(map[string]any); ev["tenant"] == id {
			types = append(types, ev["type"].(string))
			if ev["data"] != nil {
				t.Fatalf("a purged tenant's event keeps its data: %v", ev)
			}
		}
	}
	if strings.Join(types, " ") != "tenant.created tenant.deletion_scheduled tenant.restored tenant.updated tenant.deletion_scheduled tenant.deleted" {
		t.Fatalf("events of the purged tenant: %v", types)
	}
	// The email is in the feed once: in the event of the new tenant that took the names.
	if n := strings.Count(string(r.body), "ops@acme.example"); n != 1 {
		t.Fatalf("the email is in the feed %d times, want once: %s", n, r.body)
	}
}

func TestDeleteQuery(t *testing.T) {
	e := newEnv(t)
	path := base + "/tenants/" + e.create(t, e.admin, acme)["tenant"].(string)
	for _, q := range []string{"grace=abc", "grace=-1h", "grace=0s", "grace=30m", "grace=721h", "grace=1h&grace=2h",
		"purge=yes", "purge=1", "purge=true&grace=2h", "force=true"} {
		wantProblem(t, e.req(t, "DELETE", path+"?"+q, e.purger, ""), 400, "validation_failed")
	}
	if r := e.req(t, "GET", path, e.admin, ""); r.json(t)["status"] != "active" {
		t.Fatalf("a refused delete changed the tenant: %s", r.body)
	}
	if r := e.req(t, "DELETE", path+"?grace=1h&purge=false", e.admin, ""); r.status != 202 {
		t.Fatalf("grace=1h&purge=false: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "DELETE", path, e.reader, ""), 403, "forbidden")
	wantProblem(t, e.req(t, "DELETE", path, "", ""), 401, "unauthenticated")
	wantProblem(t, e.req(t, "DELETE", path, e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "DELETE", base+"/tenants/not-a-uuid", e.admin, ""), 404, "not_found")
}

func TestRestoreRoute(t *testing.T) {
	e := newEnv(t)
	path := base + "/tenants/" + e.create(t, e.admin, acme)["tenant"].(string)
	wantProblem(t, e.req(t, "POST", path+"/restore", e.admin, ""), 409, "tenant_not_pending_deletion")
	e.req(t, "DELETE", path, e.admin, "")
	wantProblem(t, e.req(t, "POST", path+"/restore", e.reader, ""), 403, "forbidden")
	wantProblem(t, e.req(t, "POST", path+"/restore", e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "POST", path+"/restore", e.admin, "", "If-Match", `"1"`), 412, "precondition_failed")
	wantProblem(t, e.req(t, "POST", path+"/restore?now=1", e.admin, ""), 400, "validation_failed")
	r := e.req(t, "GET", path+"/restore", e.admin, "")
	wantProblem(t, r, 405, "method_not_allowed")
	if r.header.Get("Allow") != "POST" {
		t.Fatalf("Allow: %q", r.header.Get("Allow"))
	}
	if r := e.req(t, "POST", path+"/restore", e.admin, "", "Idempotency-Key", "restore-1"); r.status != 200 {
		t.Fatalf("restore: %d %s", r.status, r.body)
	}
}

func TestExportRoute(t *testing.T) {
	e := newEnv(t)
	path := base + "/tenants/" + e.create(t, e.admin, acme)["tenant"].(string)
	for i := range 3 {
		e.req(t, "PATCH", path, e.admin, `{"industry":"I`+string(rune('0'+i))+`"}`)
	}
	e.req(t, "PUT", path+"/config", e.admin, `{"seats":3}`)
	r := e.req(t, "GET", path+"/export", e.reader, "")
	x := r.json(t)
	events := x["events"].([]any)
	if r.status != 200 || len(events) != 5 || x["has_more"] != false || x["next_cursor"] == nil ||
		x["tenant"].(map[string]any)["industry"] != "I2" || x["config"].(map[string]any)["version"] != float64(2) {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	var ids []string
	cursor := ""
	for range 10 {
		r := e.req(t, "GET", path+"/export?limit=2"+cursor, e.reader, "")
		page := r.json(t)
		for _, ev := range page["events"].([]any) {
			ids = append(ids, ev.(map[string]any)["id"].(string))
		}
		if page["has_more"] == false {
			break
		}
		cursor = "&after=" + url.QueryEscape(page["next_cursor"].(string))
	}
	if len(ids) != 5 || ids[0] != events[0].(map[string]any)["id"] || ids[4] != events[4].(map[string]any)["id"] {
		t.Fatalf("paged export: %v", ids)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "after=nope", "after=a&after=b", "since=1"} {
		wantProblem(t, e.req(t, "GET", path+"/export?"+q, e.reader, ""), 400, "validation_failed")
	}
	wantProblem(t, e.req(t, "GET", path+"/export", e.adminB, ""), 404, "not_found")
	wantProblem(t, e.req(t, "GET", path+"/export", "", ""), 401, "unauthenticated")
	wantProblem(t, e.req(t, "GET", path+"/export", e.withPermissions(t, "tenant:update"), ""), 403, "forbidden")
	r = e.req(t, "POST", path+"/export", e.admin, "")
	wantProblem(t, r, 405, "method_not_allowed")
	if r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow: %q", r.header.Get("Allow"))
	}
}

func TestAvailabilityRoute(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, e.admin, acme)["tenant"].(string)
	for q, want := range map[string]string{
		"company_name=%EF%BC%A1%EF%BD%83%EF%BD%8D%EF%BD%85": `{"available":false,"tenant":"` + id + `"}`, // fullwidth
		"external_id=crm-1":                    `{"available":false,"tenant":"` + id + `"}`,
		"company_name=Other&external_id=crm-2": `{"available":true,"tenant":null}`,
		"company_name=Other&external_id=":      `{"available":true,"tenant":null}`,
	} {
		r := e.req(t, "GET", base+"/tenants/availability?"+q, e.reader, "")
		if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
			t.Fatalf("%s: %d %s, want %s", q, r.status, r.body, want)
		}
	}
	if r := e.req(t, "GET", base+"/tenants/availability?company_name=Acme", e.adminB, ""); r.json(t)["available"] != true {
		t.Fatalf("another partner's names: %s", r.body)
	}
	wantProblem(t, e.req(t, "GET", base+"/tenants/availability", e.reader, ""), 400, "bad_request")
	wantProblem(t, e.req(t, "GET", base+"/tenants/availability?company_name=", e.reader, ""), 400, "bad_request")
	for _, q := range []string{"company_name=a%00b", "external_id=x%E2%80%AEy", "company_name=" + strings.Repeat("a", 256),
		"company_name=%E2%80%8B", "company_name=a&company_name=b", "name=Acme", "company_name=%FF"} {
		wantProblem(t, e.req(t, "GET", base+"/tenants/availability?"+q, e.reader, ""), 400, "validation_failed")
	}
	wantProblem(t, e.req(t, "GET", base+"/tenants/availability?company_name=Acme", "", ""), 401, "unauthenticated")
	wantProblem(t, e.req(t, "GET", base+"/tenants/availability?company_name=Acme", e.withPermissions(t, "tenant:create"), ""), 403, "forbidden")
	// Other methods on the path are those of /tenants/{id}, for which it is no tenant.
	wantProblem(t, e.req(t, "DELETE", base+"/tenants/availability", e.admin, ""), 404, "not_found")
	if r := e.req(t, "POST", base+"/tenants/availability", e.admin, "{}"); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", r.status)
	}
}
