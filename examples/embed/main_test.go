package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
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

func TestEmbeddedHost(t *testing.T) {
	monday := func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	saturday := func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }
	do := func(h http.Handler, method, path, key, body string) (int, string) {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+key)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		b, _ := io.ReadAll(w.Body)
		return w.Code, string(b)
	}
	store := memstore.New()
	h := newHandler(store, monday)
	if st, body := do(h, "POST", "/api/provisioning/tenants", "key-acme", `{"company_name":"A","email":"a@example.com"}`); st != 201 || !strings.Contains(body, `"partner_id":"acme-reseller"`) {
		t.Fatalf("create with the API key: %d %s", st, body)
	}
	if st, _ := do(h, "GET", "/api/provisioning/tenants", "key-wrong", ""); st != 401 {
		t.Fatalf("wrong key: %d", st)
	}
	if st, body := do(h, "GET", "/host/hello", "", ""); st != 200 || !strings.Contains(body, "host") {
		t.Fatalf("host route: %d %s", st, body)
	}
	weekend := newHandler(store, saturday)
	if st, _ := do(weekend, "POST", "/api/provisioning/tenants", "key-acme", `{"company_name":"B","email":"b@example.com"}`); st != 403 {
		t.Fatalf("the host's authorizer was not consulted: %d", st)
	}
	if st, _ := do(weekend, "GET", "/api/provisioning/tenants", "key-acme", ""); st != 200 {
		t.Fatalf("reads on weekends: %d", st)
	}
}
