package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
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

	// Answers that are errors of the request are kept too; a retried delete answers 204 again.
	bad := e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":""}`, "Idempotency-Key", "bad-1")
	badAgain := e.req(t, "POST", base+"/tenants", e.admin, `{"company_name":""}`, "Idempotency-Key", "bad-1")
	if bad.status != 400 || badAgain.status != 400 || string(bad.body) != string(badAgain.body) || badAgain.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed 400: %d %d", bad.status, badAgain.status)
	}
	loc := first.header.Get("Location")
	for i := range 2 {
		if r := e.req(t, "DELETE", loc, e.admin, "", "Idempotency-Key", "del-1"); r.status != 204 {
			t.Fatalf("delete #%d: %d %s", i+1, r.status, r.body)
		}
	}
	if r := e.req(t, "DELETE", loc, e.admin, "", "Idempotency-Key", "del-2"); r.status != 404 {
		t.Fatalf("a delete with a new key: %d", r.status)
	}
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

// failOnce fails its first create with an internal error: before the change, or after it as a
// request does when its server breaks down after the change.
type failOnce struct {
	*provisioning.Service
	afterChange bool
	failed      atomic.Bool
}

func (f *failOnce) CreateTenant(ctx context.Context, p provisioning.Principal, in provisioning.TenantInput) (*provisioning.Tenant, error) {
	if !f.afterChange && f.failed.CompareAndSwap(false, true) {
		return nil, provisioning.Internal(errors.New("database went away"))
	}
	t, err := f.Service.CreateTenant(ctx, p, in)
	if err == nil && f.failed.CompareAndSwap(false, true) {
		return nil, provisioning.Internal(errors.New("lost after the change"))
	}
	return t, err
}

// serveFailOnce serves a failOnce and returns a partner-admin token for it.
func serveFailOnce(t *testing.T, afterChange bool) (*env, string) {
	iss := jwttest.New(t)
	authn, _ := jwtauth.New(context.Background(), iss.Config())
	prov := &failOnce{Service: provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy())), afterChange: afterChange}
	srv := httptest.NewServer(httpapi.New(prov, authn, httpapi.WithLogger(slog.New(slog.DiscardHandler))))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL}, jwttest.Token(t, iss.RSA, "p", "partner-admin")
}

func TestIdempotencyDoesNotKeepInternalErrors(t *testing.T) {
	e, tok := serveFailOnce(t, false)
	wantProblem(t, e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k"), 500, "internal")
	if r := e.req(t, "POST", base+"/tenants", tok, acme, "Idempotency-Key", "k"); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the retry after a 500 did not run afresh: %d %v", r.status, r.header)
	}
}

// An answer that is not kept takes its change with it: the retry creates the tenant afresh
// instead of finding it there (409) without an answer to replay.
func TestIdempotencyRollsBackWhatItDoesNotKeep(t *testing.T) {
	e, tok := serveFailOnce(t, true)
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
