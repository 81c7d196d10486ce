package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

var admin = provisioning.Principal{PartnerID: "partner-a", Subject: "alice", Roles: []string{"partner-admin"}}

// fault is what the flaky front does to one request instead of (or around) serving it.
type fault func(w http.ResponseWriter, r *http.Request, next http.Handler)

// flaky is a real server (httpapi over a Service) behind a front that applies one fault per
// request to the routes it is told, in order, then serves normally; it records every attempt.
type flaky struct {
	next http.Handler
	svc  *provisioning.Service

	mu       sync.Mutex
	faults   []fault
	attempts []*http.Request
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.attempts = append(f.attempts, r)
	var fl fault
	if len(f.faults) > 0 {
		fl, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	if fl != nil {
		fl(w, r, f.next)
		return
	}
	f.next.ServeHTTP(w, r)
}

func (f *flaky) seen() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.attempts)
}

func newFlaky(t *testing.T, faults ...fault) (*flaky, *httptest.Server) {
	t.Helper()
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	f := &flaky{next: httpapi.New(svc, staticAuth{"tok": admin}, httpapi.WithIdempotency(svc)), svc: svc, faults: faults}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// waits records the client's waits between attempts instead of spending them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return ctx.Err()
}

func unavailable(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
	http.Error(w, "upstream restarting", http.StatusServiceUnavailable)
}

func tooMany(after string) fault {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		w.Header().Set("Retry-After", after)
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"type":"urn:provisiond:problem:rate_limited","title":"Rate limited","status":429,"code":"rate_limited","request_id":"r"}`)
	}
}

// drop closes the connection without an answer; with served, after the server has done the
// work (so only the answer is lost).
func drop(served bool) fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if served {
			next.ServeHTTP(httptest.NewRecorder(), r)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_ = conn.Close()
	}
}

func tenantsOf(t *testing.T, svc *provisioning.Service) int {
	t.Helper()
	page, err := svc.ListTenants(context.Background(), admin, provisioning.TenantFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Tenants)
}

// Every attempt of one change carries the same Idempotency-Key, so however its attempts fail —
// a 503, a 429 that says when to come back, a connection lost before or after the server did
// the work — the client retries on its own and exactly one tenant is created.
func TestClientRetriesAChangeSafely(t *testing.T) {
	f, srv := newFlaky(t, unavailable, tooMany("2"), drop(false), drop(true))
	w := &waits{}
	c := httpapi.NewClient(srv.URL, httpapi.WithToken("tok"), httpapi.WithSleep(w.sleep),
		httpapi.WithRetry(httpapi.RetryPolicy{MaxAttempts: 8, BaseDelay: time.Millisecond}))
	tn, err := c.CreateTenant(context.Background(), provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Acme", Email: "ops@acme.example"})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if tn.CompanyName != "Acme" || tn.Version != 1 {
		t.Fatalf("tenant = %+v", tn)
	}
	attempts := f.seen()
	if len(attempts) < 5 {
		t.Fatalf("%d attempts, want at least 5 (4 faults, then success)", len(attempts))
	}
	key := attempts[0].Header.Get("Idempotency-Key")
	if key == "" {
		t.Fatal("the first attempt carries no Idempotency-Key")
	}
	for i, a := range attempts {
		if got := a.Header.Get("Idempotency-Key"); got != key || a.Method != "POST" {
			t.Fatalf("attempt %d: %s with key %q, want POST with %q", i, a.Method, got, key)
		}
	}
	if n := tenantsOf(t, f.svc); n != 1 {
		t.Fatalf("%d tenants exist, want 1", n)
	}
	if !slices.Contains(w.d, 2*time.Second) {
		t.Fatalf("waits %v do not honour Retry-After: 2", w.d)
	}
	for i, d := range w.d { // the wait after attempt i+1: at most BaseDelay doubled i times
		if d != 2*time.Second && (d <= 0 || d > time.Millisecond<<i) {
			t.Fatalf("wait %d is %v, beyond the policy's backoff", i, d)
		}
	}

	// The next call is another logical request: another key.
	if _, err := c.CreateTenant(context.Background(), provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Beta", Email: "ops@beta.example"}); err != nil {
		t.Fatal(err)
	}
	if next := f.seen(); next[len(next)-1].Header.Get("Idempotency-Key") == key {
		t.Fatal("a second call reused the first call's key")
	}
}

// Reads are retried too, and carry no key.
func TestClientRetriesAReadWithoutKey(t *testing.T) {
	f, srv := newFlaky(t, unavailable, drop(false))
	c := httpapi.NewClient(srv.URL, httpapi.WithToken("tok"), httpapi.WithSleep((&waits{}).sleep))
	page, err := c.ListTenants(context.Background(), provisioning.Principal{}, provisioning.TenantFilter{})
	if err != nil || len(page.Tenants) != 0 {
		t.Fatalf("ListTenants: %+v, %v", page, err)
	}
	for _, a := range f.seen() {
		if a.Header.Get("Idempotency-Key") != "" {
			t.Fatal("a GET carries an Idempotency-Key")
		}
	}
}

// The policy bounds the attempts, and the total time: a Retry-After beyond MaxElapsed is not
// waited for, the answer is returned as it is.
func TestClientRetryBounds(t *testing.T) {
	faults := make([]fault, 10)
	for i := range faults {
		faults[i] = unavailable
	}
	f, srv := newFlaky(t, faults...)
	w := &waits{}
	c := httpapi.NewClient(srv.URL, httpapi.WithToken("tok"), httpapi.WithSleep(w.sleep),
		httpapi.WithRetry(httpapi.RetryPolicy{MaxAttempts: 3}))
	_, err := c.GetTenant(context.Background(), provisioning.Principal{}, "0190a0b0-0000-7000-8000-000000000001")
	if provisioning.ErrorCode(err) != provisioning.CodeInternal || len(f.seen()) != 3 || len(w.d) != 2 {
		t.Fatalf("after %d attempts and waits %v: %v", len(f.seen()), w.d, err)
	}
	var re *httpapi.ResponseError
	if !errors.As(err, &re) || re.Status != http.StatusServiceUnavailable {
		t.Fatalf("cause = %#v", re)
	}

	f, srv = newFlaky(t, tooMany("3600"))
	w = &waits{}
	c = httpapi.NewClient(srv.URL, httpapi.WithToken("tok"), httpapi.WithSleep(w.sleep))
	_, err = c.CreateTenant(context.Background(), provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Acme", Email: "ops@acme.example"})
	if provisioning.ErrorCode(err) != "rate_limited" || len(f.seen()) != 1 || len(w.d) != 0 {
		t.Fatalf("after %d attempts and waits %v: %v", len(f.seen()), w.d, err)
	}

	// An answer that no retry mends is final at once.
	f, srv = newFlaky(t)
	c = httpapi.NewClient(srv.URL, httpapi.WithToken("tok"))
	_, err = c.CreateTenant(context.Background(), provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Acme"})
	if provisioning.ErrorCode(err) != provisioning.CodeInvalid || len(f.seen()) != 1 {
		t.Fatalf("after %d attempts: %v", len(f.seen()), err)
	}
}

// A call ends when its context does, also between attempts.
func TestClientHonoursTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f, srv := newFlaky(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		cancel()
		unavailable(w, r, next)
	})
	c := httpapi.NewClient(srv.URL, httpapi.WithToken("tok"), httpapi.WithRetry(httpapi.RetryPolicy{BaseDelay: time.Hour, MaxElapsed: 2 * time.Hour}))
	_, err := c.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Acme", Email: "ops@acme.example"})
	if !errors.Is(err, context.Canceled) || len(f.seen()) != 1 {
		t.Fatalf("after %d attempts: %v", len(f.seen()), err)
	}
}

func TestClientErrors(t *testing.T) {
	_, srv := newFlaky(t)
	c := httpapi.NewClient(srv.URL, httpapi.WithToken("tok"))
	ctx := context.Background()
	_, err := c.GetTenant(ctx, provisioning.Principal{}, "0190a0b0-0000-7000-8000-000000000001")
	var e *provisioning.Error
	var re *httpapi.ResponseError
	if !errors.As(err, &e) || e.Code != provisioning.CodeNotFound || e.Message == "" ||
		!errors.As(err, &re) || re.Status != 404 || re.RequestID == "" {
		t.Fatalf("not found: %v (%#v)", err, re)
	}

	_, err = httpapi.NewClient(srv.URL).ListTenants(ctx, provisioning.Principal{}, provisioning.TenantFilter{})
	if provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
		t.Fatalf("without a token: %v", err)
	}
	_, err = httpapi.NewClient(srv.URL, httpapi.WithToken("stolen")).ListTenants(ctx, provisioning.Principal{}, provisioning.TenantFilter{})
	if provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
		t.Fatalf("with an unknown token: %v", err)
	}

	// What a proxy or a newer server may answer.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/tenants"):
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"type":"urn:provisiond:problem:quota_exceeded","title":"Quota exceeded","status":403,"code":"quota_exceeded","detail":"at most 10 tenants","request_id":"r1"}`)
		case strings.HasSuffix(r.URL.Path, "/events"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[1,2,3]`)
		default:
			http.Error(w, "no such thing", http.StatusNotFound)
		}
	}))
	defer other.Close()
	c = httpapi.NewClient(other.URL, httpapi.WithToken("tok"))
	_, err = c.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Acme", Email: "ops@acme.example"})
	if !errors.As(err, &e) || e.Code != "quota_exceeded" || e.Message != "at most 10 tenants" || !errors.As(err, &re) || re.RequestID != "r1" {
		t.Fatalf("unknown code: %v", err)
	}
	_, err = c.GetTenant(ctx, provisioning.Principal{}, "x")
	if provisioning.ErrorCode(err) != provisioning.CodeNotFound {
		t.Fatalf("plain 404: %v", err)
	}
	_, err = c.ListEvents(ctx, provisioning.Principal{}, provisioning.EventFilter{})
	if provisioning.ErrorCode(err) != provisioning.CodeInternal || !strings.Contains(err.Error(), "not what the API sends") {
		t.Fatalf("a body of the wrong shape: %v", err)
	}
}

// A token source is asked before every attempt; when it fails, nothing is sent.
func TestClientTokenSource(t *testing.T) {
	f, srv := newFlaky(t, unavailable)
	var asked int
	src := func(context.Context) (string, error) { asked++; return "tok", nil }
	c := httpapi.NewClient(srv.URL, httpapi.WithTokenSource(src), httpapi.WithSleep((&waits{}).sleep))
	if _, err := c.ListTenants(context.Background(), provisioning.Principal{}, provisioning.TenantFilter{}); err != nil || asked != 2 {
		t.Fatalf("asked %d times: %v", asked, err)
	}
	broken := errors.New("identity provider down")
	c = httpapi.NewClient(srv.URL, httpapi.WithTokenSource(func(context.Context) (string, error) { return "", broken }))
	before := len(f.seen())
	if _, err := c.ListTenants(context.Background(), provisioning.Principal{}, provisioning.TenantFilter{}); !errors.Is(err, broken) || len(f.seen()) != before {
		t.Fatalf("with a failing source: %v, %d requests", err, len(f.seen())-before)
	}
}

// AllTenants and AllEvents walk every page, and stop fetching when the loop stops.
func TestClientIterators(t *testing.T) {
	f, srv := newFlaky(t)
	c := httpapi.NewClient(srv.URL, httpapi.WithToken("tok"))
	ctx := context.Background()
	var want []string
	for i := range 5 {
		tn, err := c.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{CompanyName: fmt.Sprintf("T%d", i), Email: "t@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{tn.ID}, want...)
	}
	var got []string
	for tn, err := range c.AllTenants(ctx, provisioning.TenantFilter{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tn.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("AllTenants = %v, want %v", got, want)
	}
	before := len(f.seen())
	for range c.AllTenants(ctx, provisioning.TenantFilter{Limit: 2}) {
		break
	}
	if n := len(f.seen()) - before; n != 1 {
		t.Fatalf("breaking after the first tenant fetched %d pages", n)
	}
	var events []string
	for e, err := range c.AllEvents(ctx, provisioning.EventFilter{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e.TenantID)
	}
	slices.Reverse(want)
	if !slices.Equal(events, want) {
		t.Fatalf("AllEvents = %v, want %v", events, want)
	}
	for _, err := range c.AllTenants(ctx, provisioning.TenantFilter{Limit: 500}) {
		if provisioning.ErrorCode(err) != provisioning.CodeInvalid {
			t.Fatalf("a bad filter yields %v", err)
		}
	}
}
