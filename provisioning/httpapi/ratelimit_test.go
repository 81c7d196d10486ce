package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// countingAuthn wraps jwtauth and counts what it is asked: calls counts the tokens given to
// Authenticate, each a signature check unless jwtauth has it cached; cachedCalls those given
// to AuthenticateCached, which forwards, as a wrapper should — jwtauth checks no token there
// that it has not verified before, and the tests here run well within its cache TTL, so no
// token is checked again there either.
type countingAuthn struct {
	jwt         *jwtauth.Authenticator
	calls       atomic.Int64
	cachedCalls atomic.Int64
}

var _ httpapi.CachedAuthenticator = (*countingAuthn)(nil)

func (c *countingAuthn) Authenticate(ctx context.Context, token string) (provisioning.Principal, error) {
	c.calls.Add(1)
	return c.jwt.Authenticate(ctx, token)
}

func (c *countingAuthn) AuthenticateCached(ctx context.Context, token string) (provisioning.Principal, bool) {
	c.cachedCalls.Add(1)
	return c.jwt.AuthenticateCached(ctx, token)
}

// newLimitedEnv serves the API with opts over the default options (so the default
// failed-authentication limit), with an Authenticator that counts its calls.
func newLimitedEnv(t *testing.T, opts ...httpapi.Option) (*env, *countingAuthn) {
	t.Helper()
	iss := jwttest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	jwt, err := jwtauth.New(ctx, iss.Config())
	if err != nil {
		t.Fatal(err)
	}
	authn := &countingAuthn{jwt: jwt}
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	srv := httptest.NewServer(httpapi.New(svc, authn, append([]httpapi.Option{httpapi.WithIdempotency(svc), httpapi.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...))
	t.Cleanup(srv.Close)
	return &env{url: srv.URL, iss: iss,
		admin:  jwttest.Token(t, iss.RSA, "partner-a", "partner-admin"),
		adminB: jwttest.Token(t, iss.EC, "partner-b", "partner-admin"),
		reader: jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "partner-a", Permissions: []string{"tenant:read"}}),
	}, authn
}

func (e *env) httpClient() *http.Client {
	if e.client != nil {
		return e.client
	}
	return http.DefaultClient
}

// from returns a copy of e whose requests come from the loopback address ip.
func (e *env) from(t *testing.T, ip string) *env {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	c := *e
	c.client = &http.Client{Transport: tr}
	return &c
}

// wantRetryAfter checks a 429 rate_limited with a Retry-After of at least a second.
func wantRetryAfter(t *testing.T, r response) {
	t.Helper()
	wantProblem(t, r, 429, "rate_limited")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
}

// Tokens that fail authentication spend their client address's budget; once it is spent, a
// token from the address is refused before it is checked, unless it is one already verified.
// Authenticated requests spend nothing, requests without a token neither spend the budget nor
// meet it, and other addresses have budgets of their own.
func TestFailedAuthFloodIsRefusedBeforeTheTokenIsChecked(t *testing.T) {
	e, authn := newLimitedEnv(t, httpapi.WithFailedAuthLimit(0.001, 4)) // refills in over 16 minutes
	for range 5 {
		if r := e.req(t, "GET", base+"/tenants", e.admin, ""); r.status != 200 {
			t.Fatalf("authenticated: %d %s", r.status, r.body)
		}
	}
	for range 10 {
		wantProblem(t, e.req(t, "GET", base+"/tenants", "", ""), 401, "unauthenticated")
	}
	for _, tok := range []string{"not-a-jwt", e.admin + "x", "bad.bad.bad", e.adminB + "x"} {
		wantProblem(t, e.req(t, "GET", base+"/tenants", tok, ""), 401, "unauthenticated")
	}
	checked := authn.calls.Load()
	for _, tok := range []string{"not-a-jwt", e.adminB + "x", e.adminB} { // adminB: valid, never verified
		wantRetryAfter(t, e.req(t, "GET", base+"/tenants", tok, ""))
	}
	if n := authn.calls.Load(); n != checked {
		t.Fatalf("%d tokens were checked over the budget", n-checked)
	}
	if r := e.req(t, "GET", base+"/tenants", e.admin, ""); r.status != 200 {
		t.Fatalf("a token verified before, over the budget: %d %s", r.status, r.body)
	}
	wantProblem(t, e.req(t, "GET", base+"/tenants", "", ""), 401, "unauthenticated")
	if r := e.from(t, "127.0.0.2").req(t, "GET", base+"/tenants", e.adminB, ""); r.status != 200 {
		t.Fatalf("another address: %d %s", r.status, r.body)
	}
}

// The review's lock-out: 30 requests with "Bearer bad.bad.bad" from one address (401 × 20, then
// 429 × 10) must not lock out the partners behind the same address. Over the budget, a valid
// token the server has verified before is served (200) from the authenticator's cache; a
// valid token it has not seen yet is refused (429, until the budget refills — the documented
// price of checking no unknown token); a request without a token is answered 401, not 429. No
// token is given to Authenticate — no signature is checked — while the address is over its
// budget: only AuthenticateCached is asked, which checks no token it has not verified before.
func TestFailedAuthLimitDoesNotLockOutValidTokens(t *testing.T) {
	e, authn := newLimitedEnv(t, httpapi.WithFailedAuthLimit(0.001, 20))     // refills in over 5 hours
	if r := e.req(t, "GET", base+"/tenants", e.admin, ""); r.status != 200 { // partner a, before the flood
		t.Fatalf("before the flood: %d %s", r.status, r.body)
	}
	for i := range 30 {
		r := e.req(t, "GET", base+"/tenants", "bad.bad.bad", "")
		if i < 20 {
			wantProblem(t, r, 401, "unauthenticated")
		} else {
			wantRetryAfter(t, r)
		}
	}
	checked, asked := authn.calls.Load(), authn.cachedCalls.Load()

	if r := e.req(t, "GET", base+"/tenants", e.admin, ""); r.status != 200 {
		t.Fatalf("a valid token verified before the flood: %d %s, want 200", r.status, r.body)
	}
	fresh := jwttest.Mint(t, e.iss.EC, jwtauth.Claims{PartnerID: "partner-c", Roles: []string{"partner-admin"}})
	wantRetryAfter(t, e.req(t, "GET", base+"/tenants", fresh, "")) // valid, never verified
	none := e.req(t, "GET", base+"/tenants", "", "")
	wantProblem(t, none, 401, "unauthenticated")
	if got := none.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") || strings.Contains(got, "error=") {
		t.Fatalf("WWW-Authenticate = %q, want the scheme without an error: no credential was sent", got)
	}
	wantRetryAfter(t, e.req(t, "GET", base+"/tenants", "bad.bad.bad", ""))

	if n := authn.calls.Load(); n != checked {
		t.Fatalf("%d tokens were given to Authenticate over the budget, want none", n-checked)
	}
	if n := authn.cachedCalls.Load() - asked; n != 3 {
		t.Fatalf("AuthenticateCached was asked about %d tokens over the budget, want the 3 sent", n)
	}
	if r := e.from(t, "127.0.0.2").req(t, "GET", base+"/tenants", fresh, ""); r.status != 200 {
		t.Fatalf("the fresh token from another address: %d %s", r.status, r.body)
	}
}

// Requests without a token cost nothing to refuse, so they spend none of the address's budget:
// after a hundred of them, the whole burst of bad tokens is still answered 401.
func TestRequestsWithoutTokenSpendNoBudget(t *testing.T) {
	e, authn := newLimitedEnv(t, httpapi.WithFailedAuthLimit(0.001, 3))
	for range 100 {
		r := e.req(t, "GET", base+"/tenants", "", "", "Authorization", "")
		if r.status != 401 {
			t.Fatalf("no credential: %d, want 401", r.status)
		}
	}
	for _, h := range []string{"Basic dXNlcjpwdw==", "Bearer", "Bearer    "} { // not a bearer token either
		wantProblem(t, e.req(t, "GET", base+"/tenants", "", "", "Authorization", h), 401, "unauthenticated")
	}
	for range 3 {
		wantProblem(t, e.req(t, "GET", base+"/tenants", "bad", ""), 401, "unauthenticated")
	}
	wantRetryAfter(t, e.req(t, "GET", base+"/tenants", "bad", ""))
	if n := authn.calls.Load(); n != 3 {
		t.Fatalf("%d tokens checked, want the 3 bad ones within the budget", n)
	}
}

// Without WithFailedAuthLimit the default limit holds: a flood of bad tokens is cut off after
// the default burst, and no token is checked after that.
func TestFailedAuthLimitIsOnByDefault(t *testing.T) {
	e, authn := newLimitedEnv(t)
	failed := 0
	for ; failed < 1000; failed++ {
		r := e.req(t, "GET", base+"/tenants", "not-a-jwt", "")
		if r.status == 429 {
			wantRetryAfter(t, r)
			break
		}
		wantProblem(t, r, 401, "unauthenticated")
	}
	if failed < httpapi.DefaultFailedAuthBurst || failed == 1000 {
		t.Fatalf("the first 429 came after %d failures, want it after at least the burst of %d", failed, httpapi.DefaultFailedAuthBurst)
	}
	if n := authn.calls.Load(); n != int64(failed) {
		t.Fatalf("%d tokens checked for %d failures", n, failed)
	}
}

var rateLimitRE = regexp.MustCompile(`^"partner";r=(\d+);t=(\d+)$`)

// wantRateLimit checks the RateLimit headers of an authenticated answer and returns r.
func wantRateLimit(t *testing.T, r response, policy string) int {
	t.Helper()
	if got := r.header.Get("RateLimit-Policy"); got != policy {
		t.Fatalf("RateLimit-Policy = %q, want %q (status %d)", got, policy, r.status)
	}
	m := rateLimitRE.FindStringSubmatch(r.header.Get("RateLimit"))
	if m == nil {
		t.Fatalf("RateLimit = %q (status %d)", r.header.Get("RateLimit"), r.status)
	}
	if secs, _ := strconv.Atoi(m[2]); secs < 1 {
		t.Fatalf("RateLimit = %q: a bucket that is not full fills in some seconds", r.header.Get("RateLimit"))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Every authenticated answer — success, replay, refusal, 429 — announces the partner's limit
// and what is left of it; answers to requests that were not authenticated do not.
func TestRateLimitHeaders(t *testing.T) {
	e, _ := newLimitedEnv(t, httpapi.WithRateLimit(0.001, 4)) // 4 requests, then nothing for over an hour
	const policy = `"partner";q=4;w=4000`
	first := e.req(t, "POST", base+"/tenants", e.admin, acme, "Idempotency-Key", "k")
	replay := e.req(t, "POST", base+"/tenants", e.admin, acme, "Idempotency-Key", "k")
	if first.status != 201 || replay.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("create: %d, replay %v", first.status, replay.header)
	}
	missing := e.req(t, "GET", base+"/tenants/6ba7b810-9dad-11d1-80b4-00c04fd430c8", e.reader, "")
	forbidden := e.req(t, "POST", base+"/webhooks", e.reader, `{"url":"https://hooks.example/x"}`)
	wantProblem(t, missing, 404, "not_found")
	wantProblem(t, forbidden, 403, "forbidden")
	limited := e.req(t, "GET", base+"/tenants", e.admin, "")
	wantRetryAfter(t, limited)
	for i, r := range []response{first, replay, missing, forbidden, limited} {
		if left, want := wantRateLimit(t, r, policy), max(3-i, 0); left != want {
			t.Fatalf("answer %d (%d) leaves r=%d, want %d", i, r.status, left, want)
		}
	}
	if left := wantRateLimit(t, e.req(t, "GET", base+"/tenants", e.adminB, ""), policy); left != 3 {
		t.Fatalf("another partner has r=%d, want its own 3", left)
	}
	for _, r := range []response{e.req(t, "GET", base+"/tenants", "", ""), e.req(t, "GET", "/healthz", "", "")} {
		if r.header.Get("RateLimit-Policy") != "" || r.header.Get("RateLimit") != "" {
			t.Fatalf("an unauthenticated answer (%d) carries RateLimit headers: %v", r.status, r.header)
		}
	}
}

// The limits keep a bounded number of buckets: past the bound, new keys share one overflow
// bucket instead of getting their own, while the keys that have one keep it.
func TestRateLimitsAtTheirBound(t *testing.T) {
	t.Run("partners", func(t *testing.T) {
		e, _ := newLimitedEnv(t, httpapi.WithRateLimit(0.001, 2), httpapi.WithLimiterBound(1))
		const policy = `"partner";q=2;w=2000`
		c := jwttest.Token(t, e.iss.RSA, "partner-c", "partner-admin")
		for i, step := range []struct {
			token string
			left  int
		}{{e.admin, 1}, {e.adminB, 1}, {c, 0}} { // a has its bucket; b and c share the overflow
			if left := wantRateLimit(t, e.req(t, "GET", base+"/tenants", step.token, ""), policy); left != step.left {
				t.Fatalf("request %d leaves r=%d, want %d", i, left, step.left)
			}
		}
		wantRetryAfter(t, e.req(t, "GET", base+"/tenants", c, "")) // after one request of its own
		if left := wantRateLimit(t, e.req(t, "GET", base+"/tenants", e.admin, ""), policy); left != 0 {
			t.Fatalf("the partner with a bucket has r=%d, want 0", left)
		}
	})
	t.Run("client addresses", func(t *testing.T) {
		e, authn := newLimitedEnv(t, httpapi.WithFailedAuthLimit(0.001, 1), httpapi.WithLimiterBound(1))
		wantProblem(t, e.req(t, "GET", base+"/tenants", "bad", ""), 401, "unauthenticated")                      // its own bucket
		wantProblem(t, e.from(t, "127.0.0.2").req(t, "GET", base+"/tenants", "bad", ""), 401, "unauthenticated") // the overflow
		checked := authn.calls.Load()
		wantRetryAfter(t, e.from(t, "127.0.0.3").req(t, "GET", base+"/tenants", e.admin, "")) // the overflow, spent
		wantRetryAfter(t, e.req(t, "GET", base+"/tenants", e.admin, ""))                      // never verified
		if n := authn.calls.Load(); n != checked {
			t.Fatalf("%d tokens were checked over the budget", n-checked)
		}
	})
}

// The OpenAPI document declares the RateLimit headers on every answer of every authenticated
// operation but 401.
func TestOpenAPIDeclaresRateLimitHeaders(t *testing.T) {
	route, _, err := openAPIRouter(t).FindRoute(httptest.NewRequest("GET", base+"/tenants", nil))
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range route.Spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				continue // not authenticated
			}
			for status, resp := range op.Responses.Map() {
				if status == "401" {
					continue
				}
				for _, h := range []string{"RateLimit-Policy", "RateLimit"} {
					if resp.Value.Headers[h] == nil {
						t.Errorf("%s %s → %s does not declare %s", method, path, status, h)
					}
				}
			}
		}
	}
}

// gatedAuthn accepts every token once n requests are being authenticated together (or a
// generous while has passed), so that they overlap for certain.
type gatedAuthn struct {
	n       int
	arrived atomic.Int64
	open    chan struct{}
	once    sync.Once
}

func (g *gatedAuthn) Authenticate(ctx context.Context, token string) (provisioning.Principal, error) {
	if int(g.arrived.Add(1)) == g.n {
		g.once.Do(func() { close(g.open) })
	}
	select {
	case <-g.open:
	case <-time.After(5 * time.Second):
	}
	return provisioning.Principal{PartnerID: token, Roles: []string{"partner-admin"}}, nil
}

// Good tokens never spend the failed-authentication budget, however many arrive together from
// one address: only failures do.
func TestConcurrentGoodTokensSpendNoFailedAuthBudget(t *testing.T) {
	const n = 3 * httpapi.DefaultFailedAuthBurst / 2
	authn := &gatedAuthn{n: n, open: make(chan struct{})}
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	srv := httptest.NewServer(httpapi.New(svc, authn, httpapi.WithLogger(slog.New(slog.DiscardHandler))))
	t.Cleanup(srv.Close)
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL+base+"/tenants", nil)
			req.Header.Set("Authorization", fmt.Sprintf("Bearer partner-%d", i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for status := range statuses {
		if status != http.StatusOK {
			t.Fatalf("a good token got %d among %d concurrent ones from one address", status, n)
		}
	}
	if got := authn.arrived.Load(); got != n {
		t.Fatalf("%d of %d requests were authenticated", got, n)
	}
}
