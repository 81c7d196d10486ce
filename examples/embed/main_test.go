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
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// quiet is a logger for the tests that do not read the log.
var quiet = slog.New(slog.DiscardHandler)

// logBuffer keeps what a logger writes, for a test to read; the server's goroutines write it.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSeedInTheHostTransaction(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var log logBuffer
	svc := newService(store, nil, options{}, slog.New(slog.NewTextHandler(&log, nil)))
	for range 2 { // the second run finds the tenant and changes nothing
		if err := seed(context.Background(), store, svc); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := store.DB().Get(&n, `SELECT count(*) FROM host_accounts JOIN tenants ON tenants.id = host_accounts.tenant_id`); err != nil || n != 1 {
		t.Fatalf("host rows joined to tenants: %d, %v", n, err)
	}
	// The tenant's event was written in the host's transaction, with the tenant.
	if err := store.DB().Get(&n, `SELECT count(*) FROM events JOIN host_accounts ON host_accounts.tenant_id = events.tenant_id
		WHERE events.type = 'tenant.created'`); err != nil || n != 1 {
		t.Fatalf("events of the seeded tenant: %d, %v", n, err)
	}
	// The host's decorator saw both seeds, in the host's transaction: one created, one refused.
	if got := log.String(); strings.Count(got, "msg=\"create tenant\"") != 2 || !strings.Contains(got, "outcome=tenant_exists") {
		t.Fatalf("the decorator's log:\n%s", got)
	}
}

// do sends one request to the host's server, with the headers given as name, value pairs.
func do(t *testing.T, base, method, path, key, body string, header ...string) (int, string) {
	st, _, b := doHeader(t, base, method, path, key, body, header...)
	return st, b
}

// doHeader is do, returning the answer's header too.
func doHeader(t *testing.T, base, method, path, key, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// A create sent twice with one Idempotency-Key through the host's mux creates one tenant and
// replays the first answer; the host's decorator saw the first call, and only it.
func TestIdempotentCreateThroughTheHostsDecorator(t *testing.T) {
	var log logBuffer
	store := memstore.New()
	svc := newService(store, nil, options{}, slog.New(slog.NewTextHandler(&log, nil)))
	host := httptest.NewServer(newHandler(svc, store))
	defer host.Close()
	const body = `{"company_name":"Keyed","email":"k@example.com"}`
	st1, h1, first := doHeader(t, host.URL, "POST", "/api/provisioning/tenants", "key-acme", body, "Idempotency-Key", "k-1")
	st2, h2, again := doHeader(t, host.URL, "POST", "/api/provisioning/tenants", "key-acme", body, "Idempotency-Key", "k-1")
	if st1 != 201 || st2 != 201 || again != first || h1.Get("Idempotent-Replayed") != "" || h2.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the keyed create and its retry: %d %s / %d %s", st1, first, st2, again)
	}
	if st, list := do(t, host.URL, "GET", "/api/provisioning/tenants", "key-acme", ""); st != 200 || strings.Count(list, `"company_name":"Keyed"`) != 1 {
		t.Fatalf("tenants after the retry: %d %s", st, list)
	}
	if n := strings.Count(log.String(), "msg=\"create tenant\""); n != 1 {
		t.Fatalf("the decorator saw %d creates, want the first request's only:\n%s", n, log.String())
	}
}

func TestEmbeddedHost(t *testing.T) {
	store := memstore.New()
	host := httptest.NewServer(newHandler(newService(store, nil, options{}, quiet), store))
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

// The host's own keys and the library's stored API keys share one chain: a partner issues
// itself a pk_ key with its host key, and the pk_ key acts as that partner with exactly its
// permissions until it is revoked.
func TestStoredAPIKeysBesideTheHostsKeys(t *testing.T) {
	store := memstore.New()
	host := httptest.NewServer(newHandler(newService(store, nil, options{}, quiet), store))
	defer host.Close()
	st, body := do(t, host.URL, "POST", "/api/provisioning/partners/acme-reseller/api-keys", "key-acme", `{"name":"reporting","permissions":["tenant:read"]}`)
	var k struct{ ID, Key string }
	if err := json.Unmarshal([]byte(body), &k); st != 201 || err != nil || !strings.HasPrefix(k.Key, "pk_") {
		t.Fatalf("issue a key: %d %s", st, body)
	}
	if st, body := do(t, host.URL, "GET", "/api/provisioning/tenants", k.Key, ""); st != 200 || !strings.Contains(body, `"data"`) {
		t.Fatalf("list with the stored key: %d %s", st, body)
	}
	if st, _ := do(t, host.URL, "POST", "/api/provisioning/tenants", k.Key, `{"company_name":"C","email":"c@example.com"}`); st != 403 {
		t.Fatalf("the read-only key creates: %d", st)
	}
	if st, _ := do(t, host.URL, "GET", "/api/provisioning/partners/acme-reseller/api-keys", "key-globex", ""); st != 403 {
		t.Fatalf("another partner without apikey:manage: %d", st)
	}
	if st, _ := do(t, host.URL, "DELETE", "/api/provisioning/partners/acme-reseller/api-keys/"+k.ID, "key-acme", ""); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	deadline := time.Now().Add(20 * time.Second) // the authenticator trusts a key for a few seconds
	for {
		st, _ := do(t, host.URL, "GET", "/api/provisioning/tenants", k.Key, "")
		if st == 401 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked key still answers %d", st)
		}
		time.Sleep(100 * time.Millisecond)
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
	host := httptest.NewServer(newHandler(newService(store, nil, options{allowPrivateWebhooks: true}, quiet), store))
	defer host.Close()
	stopWorker := startWorker(store, nil, options{allowPrivateWebhooks: true}, slog.New(slog.DiscardHandler))
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

// The host's step creates each new tenant's admin in the host's own table, once: the worker the
// host runs takes it up after the create, the tenant ends provisioned, and running the step
// again with its key — as after a crash — adds no second admin.
func TestAdminUserStep(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "host.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db := store.DB().DB
	if err := createUsersTable(ctx, db); err != nil {
		t.Fatal(err)
	}
	step := adminUserStep(db)
	svc := newService(store, []provisioning.Step{step}, options{}, quiet)
	host := httptest.NewServer(newHandler(svc, store))
	defer host.Close()
	stopWorker := startWorker(store, svc.Steps(), options{}, slog.New(slog.DiscardHandler))
	defer stopWorker()

	st, body := do(t, host.URL, "POST", "/api/provisioning/tenants", "key-acme", `{"company_name":"Stepped","email":"Admin@Stepped.example"}`)
	var tn struct {
		Tenant       string
		Provisioning struct{ State string }
	}
	if err := json.Unmarshal([]byte(body), &tn); st != 201 || err != nil || tn.Provisioning.State != "pending" {
		t.Fatalf("create: %d %s", st, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, body = do(t, host.URL, "GET", "/api/provisioning/tenants/"+tn.Tenant, "key-acme", ""); strings.Contains(body, `"provisioning":{"state":"succeeded"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not provisioned: %s", body)
		}
	}
	admins := func() (n int, email string) {
		t.Helper()
		if err := db.QueryRowContext(ctx, `SELECT count(*), COALESCE(MAX(email), '') FROM host_users WHERE tenant_id = ? AND role = 'admin'`, tn.Tenant).Scan(&n, &email); err != nil {
			t.Fatal(err)
		}
		return n, email
	}
	if n, email := admins(); n != 1 || email != "admin@stepped.example" {
		t.Fatalf("admins of the tenant: %d (%q)", n, email)
	}
	got, err := svc.GetTenant(ctx, provisioning.Principal{PartnerID: "acme-reseller", Roles: []string{"partner-admin"}}, tn.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	run := provisioning.StepRun{Tenant: got, Step: step.Name, Key: provisioning.StepKey(got.ID, step.Name), Attempt: 2}
	if err := step.Run(ctx, run); err != nil {
		t.Fatalf("the step run again: %v", err)
	}
	if n, _ := admins(); n != 1 {
		t.Fatalf("running the step again made %d admins", n)
	}
}

// A tenant deleted through the host's mux is restorable, then purged by the worker the host
// runs once its grace (here a second) has ended.
func TestDeletedTenantsArePurged(t *testing.T) {
	store := memstore.New()
	o := options{deletionGrace: time.Second}
	host := httptest.NewServer(newHandler(newService(store, nil, o, quiet), store))
	defer host.Close()
	stopWorker := startWorker(store, nil, o, slog.New(slog.DiscardHandler))
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
