package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/apikey"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// platformEnv is a real server as provisiond builds it: httpapi over a Service that is also the
// Platform, authenticating JWTs (the role "operator" makes an operator) and API keys through a
// Chain.
type platformEnv struct {
	*env
	svc   *provisioning.Service
	clock *fakeClock
	ops   string // an operator's JWT (partner ops)
}

func newPlatformEnv(t *testing.T) *platformEnv {
	t.Helper()
	iss := jwttest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := iss.Config()
	cfg.OperatorRole = "operator"
	jwt, err := jwtauth.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithClock(clock.now))
	keys := apikey.New(store, apikey.Options{Clock: clock.now, CacheTTL: -1})
	logs := &syncBuffer{}
	h := httpapi.New(svc, httpapi.Chain(
		httpapi.Route{Prefix: provisioning.APIKeyPrefix, Authenticator: keys},
		httpapi.Route{Authenticator: jwt},
	), httpapi.WithIdempotency(svc), httpapi.WithPlatform(svc), httpapi.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))),
		httpapi.WithFailedAuthLimit(0, 0))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &platformEnv{
		env: &env{url: srv.URL, iss: iss, logs: logs, store: store,
			admin:  jwttest.Token(t, iss.RSA, "partner-a", "partner-admin"),
			adminB: jwttest.Token(t, iss.EC, "partner-b", "partner-admin"),
			reader: jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Permissions: []string{"tenant:read"}})},
		svc: svc, clock: clock,
		ops: jwttest.Mint(t, iss.RSA, jwtauth.Claims{PartnerID: "ops", Subject: "olga", Roles: []string{"operator"}}),
	}
}

// issue issues an API key through the API as the principal of token, and returns the answer.
func (e *platformEnv) issue(t *testing.T, token, partner, body string) map[string]any {
	t.Helper()
	r := e.req(t, "POST", base+"/partners/"+partner+"/api-keys", token, body)
	if r.status != 201 {
		t.Fatalf("issuing a key: %d %s", r.status, r.body)
	}
	return r.json(t)
}

// Every route, as an operator (by JWT and by API key), a partner's admin, a partner's key
// manager, and partners' API keys: operators reach every partner; everyone else only its own
// partner (another's resources are 404) and what its permissions allow.
func TestPrincipalsOnEveryRoute(t *testing.T) {
	// The principals, each a column of the table.
	const (
		op     = iota // an operator's JWT
		opKey         // an operator API key
		adminA        // partner-a's partner-admin JWT
		mgrA          // a partner-a JWT with apikey:manage and tenant:read
		keyA          // a partner-a API key with tenant:read
		keyB          // a partner-b API key with every tenant permission
		columns
	)
	names := [columns]string{"operator JWT", "operator key", "partner-a admin", "partner-a key manager", "partner-a key", "partner-b key"}
	// Each route acts on partner-b's tenant {tb}, partner-b's throwaway key {kb}, or its own.
	routes := []struct {
		method, path, body string
		want               [columns]int
	}{
		{"POST", "/tenants", `{"company_name":"New %d","email":"a@example.com"}`, [columns]int{201, 201, 201, 403, 403, 201}},
		{"GET", "/tenants", "", [columns]int{200, 200, 200, 200, 200, 200}},
		{"GET", "/tenants?partner_id=partner-b", "", [columns]int{200, 200, 403, 403, 403, 403}},
		{"GET", "/tenants/{tb}", "", [columns]int{200, 200, 404, 404, 404, 200}},
		{"PATCH", "/tenants/{tb}", `{"industry":"Audited"}`, [columns]int{200, 200, 404, 403, 403, 200}},
		{"PUT", "/tenants/{tb}", `{"company_name":"Bravo","email":"b@example.com"}`, [columns]int{200, 200, 404, 403, 403, 200}},
		{"GET", "/tenants/{tb}/config", "", [columns]int{200, 200, 404, 404, 404, 200}},
		{"PATCH", "/tenants/{tb}/config", `{"tier":"gold"}`, [columns]int{200, 200, 404, 403, 403, 200}},
		{"PUT", "/tenants/{tb}/config", `{"tier":"silver"}`, [columns]int{200, 200, 404, 403, 403, 200}},
		{"POST", "/tenants/bulk", `{"tenants":[{"company_name":"Bulk %d","email":"a@example.com"}]}`, [columns]int{200, 200, 200, 403, 403, 200}},
		{"GET", "/events", "", [columns]int{200, 200, 200, 200, 200, 200}},
		{"GET", "/events?partner_id=partner-b", "", [columns]int{200, 200, 403, 403, 403, 403}},
		{"POST", "/webhooks", `{"url":"https://hooks.example/%d"}`, [columns]int{201, 201, 201, 403, 403, 403}},
		{"GET", "/webhooks", "", [columns]int{200, 200, 200, 403, 403, 403}},
		{"POST", "/partners", `{"id":"new-%d","name":"New","max_tenants":10}`, [columns]int{201, 201, 403, 403, 403, 403}},
		{"GET", "/partners", "", [columns]int{200, 200, 403, 403, 403, 403}},
		{"GET", "/partners/partner-b", "", [columns]int{200, 200, 403, 403, 403, 403}},
		{"PATCH", "/partners/partner-b", `{"name":"B %d"}`, [columns]int{200, 200, 403, 403, 403, 403}},
		{"POST", "/partners/partner-a/api-keys", `{"name":"k","permissions":["tenant:read"]}`, [columns]int{201, 201, 403, 201, 403, 403}},
		{"POST", "/partners/partner-b/api-keys", `{"name":"k","permissions":["tenant:read"]}`, [columns]int{201, 201, 403, 404, 403, 403}},
		{"GET", "/partners/partner-b/api-keys", "", [columns]int{200, 200, 403, 404, 403, 403}},
		{"DELETE", "/partners/partner-b/api-keys/{kb}", "", [columns]int{204, 204, 403, 404, 403, 403}},
		{"GET", "/tenants/{tb}/export", "", [columns]int{200, 200, 404, 404, 404, 200}},
		{"GET", "/tenants/availability?company_name=Bravo", "", [columns]int{200, 200, 200, 200, 200, 200}},
		{"DELETE", "/tenants/{tb}", "", [columns]int{202, 202, 404, 403, 403, 202}},
		{"POST", "/tenants/{tb}/restore", "", [columns]int{200, 200, 404, 403, 403, 200}},
		// tenant:purge: operators hold it; partner-admin does not grant it.
		{"DELETE", "/tenants/{tb}?purge=true", "", [columns]int{204, 204, 403, 403, 403, 403}},
	}
	for col := range columns {
		t.Run(names[col], func(t *testing.T) {
			e := newPlatformEnv(t)
			tb := e.create(t, e.adminB, `{"company_name":"Bravo","email":"b@example.com"}`)["tenant"].(string)
			if r := e.req(t, "POST", base+"/partners", e.ops, `{"id":"partner-b","name":"B"}`); r.status != 201 {
				t.Fatalf("registering partner-b: %d %s", r.status, r.body)
			}
			kb := e.issue(t, e.ops, "partner-b", `{"name":"throwaway","permissions":["tenant:read"]}`)["id"].(string)
			tokens := [columns]string{
				op:     e.ops,
				opKey:  e.issue(t, e.ops, "ops", `{"name":"bootstrap","operator":true,"permissions":[]}`)["key"].(string),
				adminA: e.admin,
				mgrA: jwttest.Mint(t, e.iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Subject: "kim",
					Permissions: []string{"apikey:manage", "tenant:read"}}),
				keyA: e.issue(t, e.ops, "partner-a", `{"name":"reader","permissions":["tenant:read"]}`)["key"].(string),
				keyB: e.issue(t, e.ops, "partner-b", `{"name":"crm","permissions":["tenant:create","tenant:read","tenant:update","tenant:delete"]}`)["key"].(string),
			}
			for i, rt := range routes {
				path := strings.NewReplacer("{tb}", tb, "{kb}", kb).Replace(rt.path)
				body := rt.body
				if strings.Contains(body, "%d") {
					body = fmt.Sprintf(body, i)
				}
				r := e.req(t, rt.method, base+path, tokens[col], body)
				if r.status != rt.want[col] {
					t.Errorf("%s %s: %d, want %d: %s", rt.method, rt.path, r.status, rt.want[col], r.body)
				}
			}
		})
	}
}

// A token that begins with pk_ goes to the API-key authenticator and no further: a refused key
// is a 401 of its own, never tried as a JWT. Any other token goes to the JWT authenticator.
func TestAuthenticatorChain(t *testing.T) {
	e := newPlatformEnv(t)
	key := e.issue(t, e.ops, "partner-a", `{"name":"crm","permissions":["tenant:read"]}`)["key"].(string)
	if r := e.req(t, "GET", base+"/tenants", key, ""); r.status != 200 {
		t.Fatalf("the key: %d %s", r.status, r.body)
	}
	if r := e.req(t, "GET", base+"/tenants", e.admin, ""); r.status != 200 {
		t.Fatalf("a JWT: %d %s", r.status, r.body)
	}
	for name, tok := range map[string]string{
		"malformed key": "pk_short",
		"unknown key":   otherKey(key),
		"not a JWT":     "eyJhbGciOiJub25lIn0.e30.",
	} {
		r := e.req(t, "GET", base+"/tenants", tok, "")
		wantProblem(t, r, 401, "unauthenticated")
		if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) || strings.Contains(string(r.body), tok) {
			t.Fatalf("%s: %v %s", name, r.header, r.body)
		}
	}
	// A host's own authenticator joins the chain with its own prefix.
	host := httpapi.Chain(httpapi.Route{Prefix: "host_", Authenticator: staticAuth{"host_1": admin}})
	if p, err := host.Authenticate(context.Background(), "host_1"); err != nil || p.PartnerID != admin.PartnerID {
		t.Fatalf("a host's route: %+v, %v", p, err)
	}
	if _, err := host.Authenticate(context.Background(), "other"); provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
		t.Fatalf("a token no route takes: %v", err)
	}
	// The chain forwards AuthenticateCached to the route's authenticator when it caches, and
	// accepts nothing from one that does not.
	cached := httpapi.Chain(
		httpapi.Route{Prefix: provisioning.APIKeyPrefix, Authenticator: apikey.New(e.store, apikey.Options{})},
		httpapi.Route{Prefix: "host_", Authenticator: staticAuth{"host_1": admin}},
	).(httpapi.CachedAuthenticator)
	if _, ok := cached.AuthenticateCached(context.Background(), key); ok {
		t.Fatal("a key that authenticator never looked up is accepted from its cache")
	}
	if _, err := cached.Authenticate(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if p, ok := cached.AuthenticateCached(context.Background(), key); !ok || p.PartnerID != "partner-a" {
		t.Fatalf("the key after a lookup: %+v, %v", p, ok)
	}
	if _, ok := cached.AuthenticateCached(context.Background(), "host_1"); ok {
		t.Fatal("a route that does not cache accepts from a cache")
	}
}

// A key acts as its partner with exactly its permissions; it expires at its time (an injected
// clock); its last use is recorded at most once a minute.
func TestAPIKeyLifetime(t *testing.T) {
	e := newPlatformEnv(t)
	expires := e.clock.now().Add(time.Hour)
	issued := e.issue(t, e.ops, "partner-a", fmt.Sprintf(`{"name":"crm","permissions":["tenant:create","tenant:read"],"expires_at":%q}`,
		expires.Format(time.RFC3339)))
	key, id := issued["key"].(string), issued["id"].(string)
	if issued["last_used_at"] != nil || issued["expires_at"] != "2030-01-01T01:00:00.000Z" || issued["partner_id"] != "partner-a" ||
		issued["prefix"] != key[:11] || issued["operator"] != false {
		t.Fatalf("issued: %v", issued)
	}
	tn := e.create(t, key, `{"company_name":"Keyed","email":"k@example.com"}`)
	if tn["partner_id"] != "partner-a" {
		t.Fatalf("created as %v", tn["partner_id"])
	}
	wantProblem(t, e.req(t, "PATCH", base+"/tenants/"+tn["tenant"].(string), key, `{"industry":"x"}`), 403, "forbidden")
	ev := e.req(t, "GET", base+"/events?type=tenant.created", e.admin, "").json(t)["data"].([]any)[0].(map[string]any)
	if ev["actor"] != "api_key:"+id {
		t.Fatalf("the actor of a key's change: %v", ev["actor"])
	}

	lastUsed := func() any {
		t.Helper()
		for _, k := range e.req(t, "GET", base+"/partners/partner-a/api-keys", e.ops, "").json(t)["data"].([]any) {
			if k := k.(map[string]any); k["id"] == id {
				if _, shown := k["key"]; shown {
					t.Fatal("a listing shows the key")
				}
				return k["last_used_at"]
			}
		}
		t.Fatal("the key is not listed")
		return nil
	}
	if got := lastUsed(); got != "2030-01-01T00:00:00.000Z" {
		t.Fatalf("last used %v", got)
	}
	e.clock.add(30 * time.Second)
	e.req(t, "GET", base+"/tenants", key, "")
	if got := lastUsed(); got != "2030-01-01T00:00:00.000Z" {
		t.Fatalf("used again within the minute: last used %v", got)
	}
	e.clock.add(31 * time.Second)
	e.req(t, "GET", base+"/tenants", key, "")
	if got := lastUsed(); got != "2030-01-01T00:01:01.000Z" {
		t.Fatalf("used again after a minute: last used %v", got)
	}

	e.clock.add(time.Hour)
	r := e.req(t, "GET", base+"/tenants", key, "")
	wantProblem(t, r, 401, "unauthenticated")
	if !strings.Contains(string(r.body), "expired") {
		t.Fatalf("an expired key: %s", r.body)
	}
}

// A partner may give a key only what it holds itself, never operator rights; a revoked key is
// refused; events of keys never carry a key.
func TestAPIKeysIssuedByAPartner(t *testing.T) {
	e := newPlatformEnv(t)
	mgr := jwttest.Mint(t, e.iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Subject: "kim", Permissions: []string{"apikey:manage", "tenant:read"}})
	wantProblem(t, e.req(t, "POST", base+"/partners/partner-a/api-keys", mgr, `{"name":"k","permissions":["tenant:create"]}`), 403, "forbidden")
	wantProblem(t, e.req(t, "POST", base+"/partners/partner-a/api-keys", mgr, `{"name":"k","permissions":[],"operator":true}`), 403, "forbidden")
	p := wantProblem(t, e.req(t, "POST", base+"/partners/partner-a/api-keys", mgr, `{"name":"k","permissions":["tenant:fly"],"extra":1}`), 400, "validation_failed")
	if errs := p["errors"].(map[string]any); errs["extra"] == nil {
		t.Fatalf("an unknown field: %v", errs)
	}
	issued := e.issue(t, mgr, "partner-a", `{"name":"reader","permissions":["tenant:read"]}`)
	key := issued["key"].(string)
	if r := e.req(t, "GET", base+"/tenants", key, ""); r.status != 200 {
		t.Fatalf("the new key: %d", r.status)
	}
	// The key's own holder may not issue keys: it lacks apikey:manage.
	wantProblem(t, e.req(t, "POST", base+"/partners/partner-a/api-keys", key, `{"name":"k","permissions":["tenant:read"]}`), 403, "forbidden")
	if r := e.req(t, "DELETE", base+"/partners/partner-a/api-keys/"+issued["id"].(string), mgr, ""); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "GET", base+"/tenants", key, ""), 401, "unauthenticated")
	wantProblem(t, e.req(t, "DELETE", base+"/partners/partner-a/api-keys/"+issued["id"].(string), mgr, ""), 404, "not_found")

	r := e.req(t, "GET", base+"/events", mgr, "")
	if strings.Contains(string(r.body), key) || strings.Count(string(r.body), `"type":"api_key.`) != 2 {
		t.Fatalf("the events of keys: %s", r.body)
	}
}

// An operator's idempotent answer — a key of another partner — is never replayed to a principal
// of its partner that is not an operator.
func TestOperatorAnswersAreNotReplayedToPartners(t *testing.T) {
	e := newPlatformEnv(t)
	body := `{"name":"k","permissions":["tenant:read"]}`
	first := e.req(t, "POST", base+"/partners/ops/api-keys", e.ops, body, "Idempotency-Key", "k-1")
	if first.status != 201 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	again := e.req(t, "POST", base+"/partners/ops/api-keys", e.ops, body, "Idempotency-Key", "k-1")
	if again.status != 201 || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the operator's retry: %d %s", again.status, again.body)
	}
	mgr := jwttest.Mint(t, e.iss.Ed, jwtauth.Claims{PartnerID: "ops", Subject: "not-an-operator", Permissions: []string{"apikey:manage", "tenant:read"}})
	r := e.req(t, "POST", base+"/partners/ops/api-keys", mgr, body, "Idempotency-Key", "k-1")
	wantProblem(t, r, 422, "idempotency_key_reused")
}

// A disabled partner's every request — JWT or API key — is refused; its tenants stay, and come
// back when it is enabled. A quota refuses creates beyond it, in bulk too.
func TestDisabledPartnerAndQuota(t *testing.T) {
	e := newPlatformEnv(t)
	key := e.issue(t, e.ops, "partner-a", `{"name":"crm","permissions":["tenant:create","tenant:read"]}`)["key"].(string)
	tn := e.create(t, e.admin, acme)["tenant"].(string)
	r := e.req(t, "PATCH", base+"/partners/partner-a", e.ops, `{"status":"disabled","max_tenants":2}`, "Content-Type", "application/merge-patch+json")
	if p := r.json(t); r.status != 200 || p["status"] != "disabled" || p["max_tenants"] != float64(2) || p["name"] != "partner-a" {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	for _, tok := range []string{e.admin, e.reader, key} {
		wantProblem(t, e.req(t, "GET", base+"/tenants/"+tn, tok, ""), 403, "partner_disabled")
		wantProblem(t, e.req(t, "POST", base+"/tenants", tok, `{"company_name":"X","email":"x@example.com"}`), 403, "partner_disabled")
	}
	if r := e.req(t, "GET", base+"/tenants/"+tn, e.adminB, ""); r.status != 404 {
		t.Fatalf("another partner: %d", r.status)
	}
	if r := e.req(t, "GET", base+"/tenants/"+tn, e.ops, ""); r.status != 200 {
		t.Fatalf("an operator: %d", r.status)
	}
	if r := e.req(t, "PATCH", base+"/partners/partner-a", e.ops, `{"status":"active"}`); r.status != 200 {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	e.create(t, key, `{"company_name":"Second","email":"x@example.com"}`)
	wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":"Third","email":"x@example.com"}`), 403, "quota_exceeded")
	r = e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"tenants":[{"company_name":"Third","email":"x@example.com"}]}`)
	res := r.json(t)["results"].([]any)[0].(map[string]any)
	if r.status != 200 || res["status"] != float64(403) || res["error"].(map[string]any)["code"] != "quota_exceeded" {
		t.Fatalf("bulk beyond the quota: %d %s", r.status, r.body)
	}
	r = e.req(t, "POST", base+"/tenants/bulk", e.admin, `{"atomic":true,"tenants":[{"company_name":"Third","email":"x@example.com"}]}`)
	wantStatus := 403
	if r.status != wantStatus {
		t.Fatalf("atomic bulk beyond the quota: %d %s", r.status, r.body)
	}
	evs := e.req(t, "GET", base+"/events?partner_id=partner-a&type=partner.disabled", e.ops, "").json(t)["data"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["tenant"] != nil || evs[0].(map[string]any)["actor"] != "olga" {
		t.Fatalf("partner.disabled events: %v", evs)
	}
}

// otherKey returns a well-formed key that differs from key in its last character.
func otherKey(key string) string {
	last := "A"
	if strings.HasSuffix(key, last) {
		last = "B"
	}
	return key[:len(key)-1] + last
}

// A key that expires cannot keep itself alive through a key it issues: what it issues expires no
// later than it does.
func TestExpiringKeyIssuesNoLongerLivedKey(t *testing.T) {
	e := newPlatformEnv(t)
	expires := e.clock.now().Add(2 * time.Minute)
	manager := e.issue(t, e.ops, "partner-a", fmt.Sprintf(`{"name":"short","permissions":["apikey:manage","tenant:read"],"expires_at":%q}`,
		expires.Format(time.RFC3339)))["key"].(string)
	for _, body := range []string{
		`{"name":"forever","permissions":["tenant:read","apikey:manage"]}`,
		fmt.Sprintf(`{"name":"longer","permissions":["tenant:read"],"expires_at":%q}`, expires.Add(time.Second).Format(time.RFC3339)),
	} {
		wantProblem(t, e.req(t, "POST", base+"/partners/partner-a/api-keys", manager, body), 403, "forbidden")
	}
	e.issue(t, manager, "partner-a", fmt.Sprintf(`{"name":"within","permissions":["tenant:read"],"expires_at":%q}`, expires.Format(time.RFC3339)))
}
