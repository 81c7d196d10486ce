package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// refusedName is the company name the stores of these tests fail to insert.
const refusedName = "Refused Inc"

// bulkAnswer is a bulk answer as the tests read it.
type bulkAnswer struct {
	Results []struct {
		Index  int
		Status int
		Tenant *struct{ Tenant string }
		Error  *struct{ Code, Detail string }
	}
}

// bulkBody is a bulk request for the company names.
func bulkBody(atomic bool, names ...string) string {
	items := make([]string, len(names))
	for i, n := range names {
		items[i] = fmt.Sprintf(`{"company_name":%q,"email":"bulk@example.com"}`, n)
	}
	return fmt.Sprintf(`{"atomic":%t,"tenants":[%s]}`, atomic, strings.Join(items, ","))
}

// wantBulk checks a bulk answer's status and its items' statuses: each created item holds its
// tenant (which the server then has), each failed one a problem with its code, an internal one
// without a word of its cause.
func wantBulk(t *testing.T, e *env, r response, status int, items ...int) bulkAnswer {
	t.Helper()
	var a bulkAnswer
	if err := json.Unmarshal(r.body, &a); err != nil || r.status != status || len(a.Results) != len(items) {
		t.Fatalf("answer %d %s, want %d with %d items", r.status, r.body, status, len(items))
	}
	for i, res := range a.Results {
		switch {
		case res.Index != i || res.Status != items[i]:
			t.Fatalf("item %d: index %d status %d, want status %d: %s", i, res.Index, res.Status, items[i], r.body)
		case res.Status == 201 && (res.Tenant == nil || res.Error != nil):
			t.Fatalf("created item %d: %s", i, r.body)
		case res.Status == 201:
			if got := e.req(t, "GET", base+"/tenants/"+res.Tenant.Tenant, e.admin, ""); got.status != 200 {
				t.Fatalf("created item %d is not there: %d %s", i, got.status, got.body)
			}
		case res.Tenant != nil || res.Error == nil:
			t.Fatalf("failed item %d: %s", i, r.body)
		case res.Status == 500 && (res.Error.Code != "internal" || res.Error.Detail != "internal error"):
			t.Fatalf("internal item %d says more than it may: %s", i, r.body)
		}
	}
	return a
}

// A bulk item that the store fails to insert for an internal reason — here the database
// refuses its value — is that item's 500 in the results, and nothing more: without atomic the
// items around it are created and reported 201, and the answer, 200, is kept for its
// Idempotency-Key, so that a retry is told what was created instead of creating it again into
// 409s. With atomic nothing is created. Only an answer under which nothing was created is
// 500 and not kept.
func TestBulkItemFailingInTheStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.store(t, refusedName))
			body := bulkBody(false, "Before", refusedName, "After")
			wantBulk(t, e, e.req(t, "POST", base+"/tenants/bulk", e.admin, body), 200, 201, 500, 201)
			if !strings.Contains(e.logs.String(), "internal error") {
				t.Error("the internal failure was not logged")
			}

			body = bulkBody(false, "Kept One", refusedName, "Kept Two")
			first := e.req(t, "POST", base+"/tenants/bulk", e.admin, body, "Idempotency-Key", "bulk-1")
			wantBulk(t, e, first, 200, 201, 500, 201)
			retry := e.req(t, "POST", base+"/tenants/bulk", e.admin, body, "Idempotency-Key", "bulk-1")
			if retry.status != 200 || retry.header.Get("Idempotent-Replayed") != "true" || string(retry.body) != string(first.body) {
				t.Fatalf("the retry is not the replay: %d %v %s", retry.status, retry.header, retry.body)
			}
			if n := count(t, e, e.admin); n != 4 {
				t.Fatalf("%d tenants, want 4", n)
			}

			for _, c := range []struct {
				key, body string
				items     []int
			}{
				{"nothing-created", bulkBody(false, refusedName, "Before"), []int{500, 409}},
				{"atomic", bulkBody(true, "Atomic One", refusedName, "Atomic Two"), []int{424, 500, 424}},
			} {
				for range 2 {
					r := e.req(t, "POST", base+"/tenants/bulk", e.admin, c.body, "Idempotency-Key", c.key)
					wantBulk(t, e, r, 500, c.items...)
					if r.header.Get("Idempotent-Replayed") != "" {
						t.Fatalf("%s: an answer under which nothing was created was kept", c.key)
					}
				}
			}
			if n := count(t, e, e.admin); n != 4 {
				t.Fatalf("%d tenants after bulks that created nothing, want 4", n)
			}
		})
	}
}
