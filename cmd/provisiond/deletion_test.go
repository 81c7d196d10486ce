package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With a short --deletion-grace (here from its environment twin) the server's own Worker purges
// a deleted tenant once its grace has ended: nobody asks it to. Before that the tenant can be
// restored, and deleted again.
func TestDeletionGracePurgesOnItsOwn(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	base, out, _ := startRun(t, []string{"--dev", "--addr", "127.0.0.1:0", "--database-url", "sqlite:" + db},
		map[string]string{"PROVISIOND_DELETION_GRACE": "2s"})
	token := out.await(t, tokenRE)
	tenants := base + "/api/provisioning/tenants"
	st, body := call(t, "POST", tenants, token, `{"company_name":"Short Lived","email":"short@example.com"}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	var tn struct {
		ID                  string `json:"tenant"`
		Status              string `json:"status"`
		UpdatedAt           string `json:"updated_at"`
		DeletionScheduledAt string `json:"deletion_scheduled_at"`
	}
	decode := func(body string) {
		t.Helper()
		if err := json.Unmarshal([]byte(body), &tn); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
	}
	decode(body)
	one := tenants + "/" + tn.ID

	// Deleted, restored within the grace, deleted again.
	st, body = call(t, "DELETE", one, token, "")
	decode(body)
	deleted, _ := time.Parse(time.RFC3339, tn.UpdatedAt)
	scheduled, _ := time.Parse(time.RFC3339, tn.DeletionScheduledAt)
	if st != 202 || tn.Status != "pending_deletion" || scheduled.Sub(deleted) != 2*time.Second {
		t.Fatalf("delete: %d %s", st, body)
	}
	if st, body := call(t, "POST", one+"/restore", token, ""); st != 200 || !strings.Contains(body, `"status":"active"`) {
		t.Fatalf("restore: %d %s", st, body)
	}
	if st, body := call(t, "DELETE", one, token, ""); st != 202 {
		t.Fatalf("delete again: %d %s", st, body)
	}

	// The Worker purges it on its own.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, body := call(t, "GET", one, token, "")
		if st == 404 {
			break
		}
		if st != 200 || time.Now().After(deadline) {
			t.Fatalf("the tenant is still there: %d %s", st, body)
		}
	}
	if st, body := call(t, "POST", one+"/restore", token, ""); st != 404 {
		t.Fatalf("restore after the purge: %d %s", st, body)
	}
	st, body = call(t, "GET", base+"/api/provisioning/events?limit=200", token, "")
	if st != 200 || !strings.Contains(body, `"type":"tenant.deleted"`) || strings.Contains(body, "short@example.com") {
		t.Fatalf("events after the purge: %d %s", st, body)
	}
	if st, body := call(t, "POST", tenants, token, `{"company_name":"Short Lived","email":"again@example.com"}`); st != 201 {
		t.Fatalf("the purged tenant's name is not free: %d %s", st, body)
	}
}
