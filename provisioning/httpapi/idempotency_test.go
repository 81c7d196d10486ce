package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

func count(t *testing.T, e *env, token string) int {
	t.Helper()
	return len(e.req(t, "GET", base+"/tenants", token, "").json(t)["data"].([]any))
}

func TestIdempotentRetries(t *testing.T) {
	e := newEnv(t)
	first := e.req(t, "POST", base+"/tenants", e.admin, acme, "Idempotency-Key", "create-1")
	if first.status != 201 || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v", first.status, first.header)
	}
	again := e.req(t, "POST", base+"/tenants", e.admin, acme, "Idempotency-Key", "create-1")
	if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) ||
		again.header.Get("Location") != first.header.Get("Location") || again.header.Get("ETag") != first.header.Get("ETag") {
		t.Fatalf("replay: %d %v %s", again.status, again.header, again.body)
	}
	charset := e.req(t, "POST", base+"/tenants", e.admin, acme, "Idempotency-Key", "create-1", "Content-Type", "application/json; charset=utf-8")
	if charset.status != 201 || charset.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retry with a charset parameter: %d %v", charset.status, charset.header)
	}
	if n := count(t, e, e.admin); n != 1 {
		t.Fatalf("%d tenants after a retried create, want 1", n)
	}
	wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":"Other","email":"o@example.com"}`, "Idempotency-Key", "create-1"),
		422, "idempotency_key_reused")
	wantProblem(t, e.req(t, "POST", base+"/tenants", e.admin, acme, "Idempotency-Key", strings.Repeat("k", 256)), 400, "bad_request")

	// Keys are per partner: partner B's create with the same key is its own.
	if r := e.req(t, "POST", base+"/tenants", e.adminB, acme, "Idempotency-Key", "create-1"); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("partner B with A's key: %d %v", r.status, r.header)
	}

	// Answers that are errors of the request are kept too; a retried delete answers 202 again.
	bad := e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":""}`, "Idempotency-Key", "bad-1")
	badAgain := e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":""}`, "Idempotency-Key", "bad-1")
	if bad.status != 400 || badAgain.status != 400 || string(bad.body) != string(badAgain.body) || badAgain.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed 400: %d %d", bad.status, badAgain.status)
	}
	loc := first.header.Get("Location")
	var deleted response
	for i := range 2 {
		if deleted = e.req(t, "DELETE", loc, e.admin, "", "Idempotency-Key", "del-1"); deleted.status != 202 {
			t.Fatalf("delete #%d: %d %s", i+1, deleted.status, deleted.body)
		}
	}
	// A delete with a new key finds the tenant pending deletion already: the same tenant.
	if r := e.req(t, "DELETE", loc, e.admin, "", "Idempotency-Key", "del-2"); r.status != 202 || string(r.body) != string(deleted.body) {
		t.Fatalf("a delete with a new key: %d %s", r.status, r.body)
	}
	for i := range 2 {
		if r := e.req(t, "DELETE", loc+"?purge=true", e.purger, "", "Idempotency-Key", "purge-1"); r.status != 204 || len(r.body) != 0 {
			t.Fatalf("purge #%d: %d %s", i+1, r.status, r.body)
		}
	}
	wantProblem(t, e.req(t, "DELETE", loc+"?purge=true", e.purger, "", "Idempotency-Key", "purge-2"), 404, "not_found")
}

func TestIdempotentConcurrentRetries(t *testing.T) {
	e := newEnv(t)
	const n = 20
	var (
		fresh, replayed, inUse atomic.Int32
		mu                     sync.Mutex
		bodies                 = map[string]bool{}
		other                  []string
	)
	barrier.Run(n, func(int) {
		r := e.req(t, "POST", base+"/tenants", e.admin, acme, "Idempotency-Key", "storm")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.status == 201 && r.header.Get("Idempotent-Replayed") == "":
			fresh.Add(1)
			bodies[string(r.body)] = true
		case r.status == 201:
			replayed.Add(1)
			bodies[string(r.body)] = true
		case r.status == 409 && strings.Contains(string(r.body), "idempotency_key_in_use"):
			inUse.Add(1)
		default:
			other = append(other, fmt.Sprintf("%d %s", r.status, r.body))
		}
	})
	if fresh.Load() != 1 || len(bodies) != 1 || len(other) > 0 {
		t.Fatalf("fresh %d, replayed %d, in use %d, distinct bodies %d, other %v", fresh.Load(), replayed.Load(), inUse.Load(), len(bodies), other)
	}
	if c := count(t, e, e.admin); c != 1 {
		t.Fatalf("%d tenants, want 1", c)
	}
}

// failOnce fails its first create: with an internal error before or, as a request does when its
// server breaks down after the change, after the change; or before it, with the code of a
// refusal. It is a decorator of the Service (see middleware), so keyed requests run through it.
type failOnce struct {
	afterChange bool
	code        provisioning.Code // the code of the first answer; CodeInternal when empty
	failed      atomic.Bool
}

// middleware decorates a Provisioner with f, shared by every copy the Service makes.
func (f *failOnce) middleware(next provisioning.Provisioner) provisioning.Provisioner {
	return failingOnce{next, f}
}

// failingOnce is a Provisioner decorated by a failOnce.
type failingOnce struct {
	provisioning.Provisioner
	f *failOnce
}

func (d failingOnce) CreateTenant(ctx context.Context, p provisioning.Principal, in provisioning.TenantInput) (*provisioning.Tenant, error) {
	f := d.f
	if f.code != "" && f.code != provisioning.CodeInternal && f.failed.CompareAndSwap(false, true) {
		return nil, provisioning.Errorf(f.code, "refused this once")
	}
	if !f.afterChange && f.failed.CompareAndSwap(false, true) {
		return nil, provisioning.Internal(errors.New("database went away"))
	}
	t, err := d.Provisioner.CreateTenant(ctx, p, in)
	if err == nil && f.failed.CompareAndSwap(false, true) {
		return nil, provisioning.Internal(errors.New("lost after the change"))
	}
	return t, err
}

// serveFailOnce serves a fresh Service decorated with f and returns a partner-admin token for it.
func serveFailOnce(t *testing.T, f *failOnce) (*env, string) {
	return serveDecorated(t, f.middleware)
}

// serveDecorated serves a fresh Service decorated with mw, keeping idempotent answers, and
// returns a partner-admin token for it.
func serveDecorated(t *testing.T, mw provisioning.Middleware) (*env, string) {
	iss := jwttest.New(t)
	authn, _ := jwtauth.New(context.Background(), iss.Config())
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithMiddleware(mw))
	srv := httptest.NewServer(httpapi.New(svc, authn, httpapi.WithIdempotency(svc), httpapi.WithLogger(slog.New(slog.DiscardHandler))))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL}, jwttest.Token(t, iss.RSA, "p", "partner-admin")
}

// counting is a decorator that counts the creates it sees: metrics, as a host would add them.
type counting struct {
	provisioning.Provisioner
	creates *atomic.Int32
}

func (c counting) CreateTenant(ctx context.Context, p provisioning.Principal, in provisioning.TenantInput) (*provisioning.Tenant, error) {
	c.creates.Add(1)
	return c.Provisioner.CreateTenant(ctx, p, in)
}

// A decorated Service keeps Idempotency-Key working: a keyed create sent twice makes one
// tenant, the retry gets the first answer replayed, and the decorator saw the first call (and
// nothing of the replay), as it sees a create without a key.
func TestIdempotencyThroughADecorator(t *testing.T) {
	var creates atomic.Int32
	e, tok := serveDecorated(t, func(next provisioning.Provisioner) provisioning.Provisioner {
		return counting{next, &creates}
	})
	first := e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "decorated")
	again := e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "decorated")
	if first.status != 201 || again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
		t.Fatalf("the keyed create and its retry: %d %s / %d %v %s", first.status, first.body, again.status, again.header, again.body)
	}
	if n := count(t, e, tok); n != 1 {
		t.Fatalf("%d tenants after a retried create, want 1", n)
	}
	if n := creates.Load(); n != 1 {
		t.Fatalf("the decorator saw %d creates, want the first request's one", n)
	}
	if r := e.req(t, "POST", base+"/tenants", tok, `{"company_name":"Unkeyed","email":"u@example.com"}`); r.status != 201 || creates.Load() != 2 {
		t.Fatalf("a create without a key: %d, the decorator saw %d creates", r.status, creates.Load())
	}
}

// A server built without WithIdempotency refuses a keyed change rather than run it without the
// protection the client asked for; without a key the change goes through.
func TestIdempotencyKeyWithoutIdempotencyIsRefused(t *testing.T) {
	iss := jwttest.New(t)
	authn, _ := jwtauth.New(context.Background(), iss.Config())
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	srv := httptest.NewServer(httpapi.New(svc, authn, httpapi.WithLogger(slog.New(slog.DiscardHandler))))
	t.Cleanup(srv.Close)
	e, tok := &env{url: srv.URL}, jwttest.Token(t, iss.RSA, "p", "partner-admin")
	wantProblem(t, e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k"), 400, "bad_request")
	if n := count(t, e, tok); n != 0 {
		t.Fatalf("%d tenants after a refused keyed create, want 0", n)
	}
	if r := e.req(t, "POST", base+"/tenants", tok, acme); r.status != 201 {
		t.Fatalf("a create without a key: %d %s", r.status, r.body)
	}
}

// Answers that are not about the request itself are not kept: a retry runs afresh instead of
// being given the refusal or the failure again.
func TestIdempotencyDoesNotKeepRefusalsOrFailures(t *testing.T) {
	for _, tc := range []struct {
		code   provisioning.Code
		status int
	}{
		{provisioning.CodeUnauthenticated, 401},
		{provisioning.CodeForbidden, 403},
		{"rate_limited", 429},
		{provisioning.CodeInternal, 500},
	} {
		t.Run(string(tc.code), func(t *testing.T) {
			e, tok := serveFailOnce(t, &failOnce{code: tc.code})
			wantProblem(t, e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k"), tc.status, string(tc.code))
			if r := e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k"); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("the retry after a %d did not run afresh: %d %v", tc.status, r.status, r.header)
			}
		})
	}
}

// An answer that is not kept takes its change with it: the retry creates the tenant afresh
// instead of finding it there (409) without an answer to replay.
func TestIdempotencyRollsBackWhatItDoesNotKeep(t *testing.T) {
	e, tok := serveFailOnce(t, &failOnce{afterChange: true})
	wantProblem(t, e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k"), 500, "internal")
	if c := count(t, e, tok); c != 0 {
		t.Fatalf("%d tenants after a 500 with an idempotency key, want 0", c)
	}
	r := e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k")
	if r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the retry: %d %s", r.status, r.body)
	}
	if again := e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k"); again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(r.body) {
		t.Fatalf("the second retry was not the replay: %d %s", again.status, again.body)
	}
}

// idempotentRoute is a route that honours Idempotency-Key, with a request to it.
type idempotentRoute struct {
	name, method string
	target       func(t *testing.T, e *env) string // a path to a fresh resource where one is needed
	body         string
	perm         string // the permission the route needs
	status       int    // the answer to its actor
	operator     bool   // its actor is an operator, not a partner-admin
}

// actor returns the token of the route's actor: an operator, or a partner-admin, who with
// tenant:purge also purges.
func (rt idempotentRoute) actor(e *env) string {
	switch {
	case rt.operator:
		return e.ops
	case rt.perm == "tenant:purge":
		return e.purger
	}
	return e.admin
}

// idempotentRoutes lists every route that honours Idempotency-Key.
func idempotentRoutes() []idempotentRoute {
	path := func(p string) func(*testing.T, *env) string { return func(*testing.T, *env) string { return base + p } }
	tenant := func(suffix string) func(*testing.T, *env) string {
		return func(t *testing.T, e *env) string {
			tn := e.create(t, e.admin, fmt.Sprintf(`{"company_name":"Target %d","email":"t@example.com"}`, targets.Add(1)))
			return base + "/tenants/" + tn["tenant"].(string) + suffix
		}
	}
	pending := func(suffix string) func(*testing.T, *env) string {
		return func(t *testing.T, e *env) string {
			path := tenant("")(t, e)
			if r := e.req(t, "DELETE", path, e.admin, ""); r.status != 202 {
				t.Fatalf("delete: %d %s", r.status, r.body)
			}
			return path + suffix
		}
	}
	webhook := func(suffix string) func(*testing.T, *env) string {
		return func(t *testing.T, e *env) string {
			r := e.req(t, "POST", base+"/webhooks", e.admin, `{"url":"https://hooks.example/x"}`)
			if r.status != 201 {
				t.Fatalf("webhook: %d %s", r.status, r.body)
			}
			return r.header.Get("Location") + suffix
		}
	}
	return []idempotentRoute{
		{"create tenant", "POST", path("/tenants"), acme, "tenant:create", 201, false},
		{"bulk create", "POST", path("/tenants/bulk"), `{"tenants":[{"company_name":"Bulk","email":"b@example.com"}]}`, "tenant:create", 200, false},
		{"patch tenant", "PATCH", tenant(""), `{"industry":"Retail"}`, "tenant:update", 200, false},
		{"put tenant", "PUT", tenant(""), `{"company_name":"Acme Two","email":"new@acme.example"}`, "tenant:update", 200, false},
		{"delete tenant", "DELETE", tenant(""), "", "tenant:delete", 202, false},
		{"delete tenant with a grace", "DELETE", tenant("?grace=2h"), "", "tenant:delete", 202, false},
		{"purge tenant", "DELETE", tenant("?purge=true"), "", "tenant:purge", 204, false},
		{"restore tenant", "POST", pending("/restore"), "", "tenant:delete", 200, false},
		{"put config", "PUT", tenant("/config"), `{"plan":"gold"}`, "tenant:update", 200, false},
		{"patch config", "PATCH", tenant("/config"), `{"plan":"silver"}`, "tenant:update", 200, false},
		{"create webhook", "POST", path("/webhooks"), `{"url":"https://hooks.example/provisioning"}`, "webhook:manage", 201, false},
		{"delete webhook", "DELETE", webhook(""), "", "webhook:manage", 204, false},
		{"rotate webhook secret", "POST", webhook("/rotate-secret"), "", "webhook:manage", 200, false},
		{"register partner", "POST", path("/partners"), `{"id":"idem-partner","name":"P"}`, "partner:manage", 201, true},
		{"change partner", "PATCH", path("/partners/partner-a"), `{"max_tenants":1000}`, "partner:manage", 200, true},
		{"issue API key", "POST", path("/partners/partner-a/api-keys"), `{"name":"k","permissions":["tenant:read"]}`, "apikey:manage", 201, true},
		{"revoke API key", "DELETE", func(t *testing.T, e *env) string {
			r := e.req(t, "POST", base+"/partners/partner-a/api-keys", e.ops, `{"name":"k","permissions":["tenant:read"]}`)
			if r.status != 201 {
				t.Fatalf("key: %d %s", r.status, r.body)
			}
			return base + "/partners/partner-a/api-keys/" + r.json(t)["id"].(string)
		}, "", "apikey:manage", 204, true},
		{"patch webhook", "PATCH", webhook(""), `{"description":"changed"}`, "webhook:manage", 200, false},
		{"test webhook", "POST", webhook("/test"), "", "webhook:manage", 202, false},
		{"redeliver", "POST", endedDelivery, "", "webhook:manage", 202, false},
		{"retry provisioning", "POST", failedProvisioning, "", "tenant:update", 202, false},
	}
}

// targets numbers the tenants made as targets of idempotentRoutes.
var targets atomic.Int64

// allPermissions are the permissions the routes check.
var allPermissions = []string{"tenant:create", "tenant:read", "tenant:update", "tenant:delete", "tenant:purge",
	"webhook:manage", "apikey:manage", "partner:manage"}

// withPermissions mints a token of partner-a, e.admin's partner, holding exactly perms.
func (e *env) withPermissions(t *testing.T, perms ...string) string {
	t.Helper()
	return jwttest.Mint(t, e.iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Subject: "other-user-of-partner-a", Permissions: perms})
}

// The key is the partner's, shared by its principals: a principal of the same partner without
// the route's permission — only tenant:read, or every permission but that one — who sends an
// admin's request again with its key is refused, and never given the admin's kept answer (for a
// webhook, its signing secret).
func TestIdempotentReplayIsAuthorized(t *testing.T) {
	tested := map[string]bool{} // "METHOD /path/{template}" of the operations tested
	// One partner for all routes, each route with keys of its own.
	e := newEnv(t)
	for _, rt := range idempotentRoutes() {
		t.Run(rt.name, func(t *testing.T) {
			target := rt.target(t, e)
			tested[operation(t, rt.method, target)] = true
			first := e.req(t, rt.method, target, rt.actor(e), rt.body, "Idempotency-Key", rt.name)
			if first.status != rt.status {
				t.Fatalf("admin: %d %s", first.status, first.body)
			}
			allBut := slices.DeleteFunc(slices.Clone(allPermissions), func(p string) bool { return p == rt.perm })
			refused := map[string]string{"reader": e.reader, "all but " + rt.perm: e.withPermissions(t, allBut...)}
			if rt.perm == "tenant:purge" {
				refused["partner-admin"] = e.admin // the role grants every permission but this one
			}
			for name, tok := range refused {
				r := e.req(t, rt.method, target, tok, rt.body, "Idempotency-Key", rt.name)
				wantProblem(t, r, 403, "forbidden")
				if r.header.Get("Idempotent-Replayed") != "" || strings.Contains(string(r.body), "whsec_") ||
					len(first.body) > 0 && strings.Contains(string(r.body), string(first.body)) {
					t.Fatalf("%s was given the admin's answer: %v %s", name, r.header, r.body)
				}
			}
			again := e.req(t, rt.method, target, rt.actor(e), rt.body, "Idempotency-Key", rt.name)
			if again.status != rt.status || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
				t.Fatalf("the admin's retry after the refusals: %d %v %s", again.status, again.header, again.body)
			}
		})
	}
	for _, op := range documentedIdempotent(t) {
		if !tested[op] {
			t.Errorf("%s takes an Idempotency-Key but is not in idempotentRoutes", op)
		}
	}
}

// operation names the documented operation that serves method and path.
func operation(t *testing.T, method, path string) string {
	t.Helper()
	route, _, err := openAPIRouter(t).FindRoute(httptest.NewRequest(method, path, nil))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return route.Method + " " + route.Path
}

// documentedIdempotent lists the operations the OpenAPI document says take an Idempotency-Key.
func documentedIdempotent(t *testing.T) []string {
	t.Helper()
	route, _, err := openAPIRouter(t).FindRoute(httptest.NewRequest("GET", base+"/tenants", nil))
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range route.Spec.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == "header" && p.Value.Name == "Idempotency-Key" {
					ops = append(ops, method+" "+path)
				}
			}
		}
	}
	if len(ops) == 0 {
		t.Fatal("the OpenAPI document names no operation that takes an Idempotency-Key")
	}
	return ops
}

// A refused request does not squat its key: the admin who then sends the same request with the
// same key has it run afresh, not a replayed 403.
func TestRefusalDoesNotSquatIdempotencyKey(t *testing.T) {
	e := newEnv(t) // one partner for all routes, each route with keys of its own
	for _, rt := range idempotentRoutes() {
		t.Run(rt.name, func(t *testing.T) {
			target := rt.target(t, e)
			wantProblem(t, e.req(t, rt.method, target, e.withPermissions(t), rt.body, "Idempotency-Key", rt.name), 403, "forbidden")
			r := e.req(t, rt.method, target, rt.actor(e), rt.body, "Idempotency-Key", rt.name)
			if r.status != rt.status || r.header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("the admin after a refused request with its key: %d %v %s", r.status, r.header, r.body)
			}
			if again := e.req(t, rt.method, target, rt.actor(e), rt.body, "Idempotency-Key", rt.name); again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("the admin's own answer was not kept: %d %v", again.status, again.header)
			}
		})
	}
}

// Serving a wrapper of the Service that keeps the idempotency keys would bypass the wrapper for
// keyed changes: New refuses to build such a handler, loudly.
func TestNewRefusesAWrapperBesideItsIdempotency(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	wrapper := struct{ provisioning.Provisioner }{svc}
	defer func() {
		if recover() == nil {
			t.Fatal("New served a wrapper of the Service given to WithIdempotency")
		}
	}()
	httpapi.New(wrapper, nil, httpapi.WithIdempotency(svc))
}
