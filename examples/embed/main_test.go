package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

func TestSeedInTheHostTransaction(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for range 2 { // the second run finds the tenant and changes nothing
		if err := seed(context.Background(), store); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := store.DB().Get(&n, `SELECT count(*) FROM host_accounts JOIN tenants ON tenants.id = host_accounts.tenant_id`); err != nil || n != 1 {
		t.Fatalf("host rows joined to tenants: %d, %v", n, err)
	}
}

// do sends one request to the host's server.
func do(t *testing.T, base, method, path, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEmbeddedHost(t *testing.T) {
	host := httptest.NewServer(newHandler(newService(memstore.New(), options{})))
	defer host.Close()
	if st, body := do(t, host.URL, "POST", "/api/provisioning/tenants", "key-acme", `{"company_name":"A","email":"a@example.com"}`); st != 201 || !strings.Contains(body, `"partner_id":"acme-reseller"`) {
		t.Fatalf("create with the API key: %d %s", st, body)
	}
	if st, _ := do(t, host.URL, "GET", "/api/provisioning/tenants", "key-wrong", ""); st != 401 {
		t.Fatalf("wrong key: %d", st)
	}
	if st, body := do(t, host.URL, "GET", "/host/hello", "", ""); st != 200 || !strings.Contains(body, "host") {
		t.Fatalf("host route: %d %s", st, body)
	}
	// The host's own rule: a partner whose billing is on hold reads, and changes nothing.
	if st, body := do(t, host.URL, "POST", "/api/provisioning/tenants", "key-globex", `{"company_name":"B","email":"b@example.com"}`); st != 403 || !strings.Contains(body, "billing") {
		t.Fatalf("the host's authorizer was not consulted: %d %s", st, body)
	}
	if st, _ := do(t, host.URL, "GET", "/api/provisioning/tenants", "key-globex", ""); st != 200 {
		t.Fatalf("reads on hold: %d", st)
	}
}

// A webhook registered through the host's mux is delivered, signed, to a local receiver by the
// worker the host runs.
func TestWebhooksAreDelivered(t *testing.T) {
	type delivery struct {
		header http.Header
		body   []byte
	}
	got := make(chan delivery, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), body}
	}))
	defer receiver.Close()
	store := memstore.New()
	host := httptest.NewServer(newHandler(newService(store, options{allowPrivateWebhooks: true})))
	defer host.Close()
	stopWorker := startWorker(store, options{allowPrivateWebhooks: true}, slog.New(slog.DiscardHandler))
	defer stopWorker()

	st, body := do(t, host.URL, "POST", "/api/provisioning/webhooks", "key-acme", `{"url":"`+receiver.URL+`/hooks"}`)
	var wh struct{ Secret string }
	if err := json.Unmarshal([]byte(body), &wh); st != 201 || err != nil || wh.Secret == "" {
		t.Fatalf("register a webhook: %d %s", st, body)
	}
	st, body = do(t, host.URL, "POST", "/api/provisioning/tenants", "key-acme", `{"company_name":"Hooked","email":"h@example.com"}`)
	var tn struct{ Tenant string }
	if err := json.Unmarshal([]byte(body), &tn); st != 201 || err != nil {
		t.Fatalf("create: %d %s", st, body)
	}
	var d delivery
	select {
	case d = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook was not delivered")
	}
	if err := webhook.Verify(wh.Secret, d.header, d.body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("the delivery's signature: %v", err)
	}
	var ev struct{ Type, Tenant string }
	if err := json.Unmarshal(d.body, &ev); err != nil || ev.Type != "tenant.created" || ev.Tenant != tn.Tenant {
		t.Fatalf("delivered %s", d.body)
	}
}

// A tenant deleted through the host's mux is restorable, then purged by the worker the host
// runs once its grace (here a second) has ended.
func TestDeletedTenantsArePurged(t *testing.T) {
	store := memstore.New()
	o := options{deletionGrace: time.Second}
	host := httptest.NewServer(newHandler(newService(store, o)))
	defer host.Close()
	stopWorker := startWorker(store, o, slog.New(slog.DiscardHandler))
	defer stopWorker()
	st, body := do(t, host.URL, "POST", "/api/provisioning/tenants", "key-acme", `{"company_name":"Brief","email":"b@example.com"}`)
	var tn struct{ Tenant string }
	if err := json.Unmarshal([]byte(body), &tn); st != 201 || err != nil {
		t.Fatalf("create: %d %s", st, body)
	}
	path := "/api/provisioning/tenants/" + tn.Tenant
	if st, body := do(t, host.URL, "DELETE", path, "key-acme", ""); st != 202 || !strings.Contains(body, `"status":"pending_deletion"`) {
		t.Fatalf("delete: %d %s", st, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st, body := do(t, host.URL, "GET", path, "key-acme", "")
		if st == 404 {
			break
		}
		if st != 200 || time.Now().After(deadline) {
			t.Fatalf("not purged: %d %s", st, body)
		}
	}
	if st, body := do(t, host.URL, "POST", "/api/provisioning/tenants", "key-acme", `{"company_name":"Brief","email":"b@example.com"}`); st != 201 {
		t.Fatalf("the purged name is not free: %d %s", st, body)
	}
}
