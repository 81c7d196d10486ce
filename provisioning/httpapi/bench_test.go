package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// benchStack is the full handler stack — request id, logging, recovery, JWT authentication
// (Ed25519, static JWKS), strict decoding, RBAC, validation — over the memory store, called
// without a network so that the figures are the handler's own.
func benchStack(b *testing.B) (http.Handler, string) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := jwtauth.NewSigner(key)
	set, _ := s.JWKS()
	authn, err := jwtauth.New(context.Background(), jwtauth.Config{JWKS: set})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := s.Mint(jwtauth.Claims{PartnerID: "bench", Roles: []string{"partner-admin"}})
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	return httpapi.New(svc, authn, httpapi.WithIdempotency(svc)), tok
}

func serve(b *testing.B, h http.Handler, method, path, token, body string, want int) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	return w
}

func BenchmarkCreateTenant(b *testing.B) {
	h, tok := benchStack(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		serve(b, h, "POST", base+"/tenants", tok, fmt.Sprintf(`{"company_name":"Bench %d","email":"b@example.com","metadata":{"plan":"gold"}}`, i), 201)
	}
}

func BenchmarkGetTenant(b *testing.B) {
	h, tok := benchStack(b)
	w := serve(b, h, "POST", base+"/tenants", tok, `{"company_name":"Bench","email":"b@example.com"}`, 201)
	var tn struct{ Tenant string }
	_ = json.Unmarshal(w.Body.Bytes(), &tn)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, "GET", base+"/tenants/"+tn.Tenant, tok, "", 200)
	}
}

// BenchmarkBareHandler is the yardstick: a plain net/http handler that decodes the same body and
// answers JSON, with no authentication, validation or store.
func BenchmarkBareHandler(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode(in)
	})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		serve(b, h, "POST", "/", "", fmt.Sprintf(`{"company_name":"Bench %d","email":"b@example.com","metadata":{"plan":"gold"}}`, i), 201)
	}
}

// discardWriter is a ResponseWriter that keeps the status and headers and drops the body, reused
// across iterations so that BenchmarkGetTenantServed counts the handler's allocations only.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkGetTenantServed is GET /tenants/{id} as provisiond serves it — metrics registered,
// one JSON log line a request, JWTs and API keys chained, the failed-authentication limit on —
// with the request built once and a writer reused, so that allocs/op are the handler's own.
func BenchmarkGetTenantServed(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := jwtauth.NewSigner(key)
	set, _ := s.JWKS()
	authn, err := jwtauth.New(context.Background(), jwtauth.Config{JWKS: set})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := s.Mint(jwtauth.Claims{PartnerID: "bench", Roles: []string{"partner-admin"}})
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	h := httpapi.New(svc, httpapi.Chain(httpapi.Route{Authenticator: authn}), httpapi.WithIdempotency(svc),
		httpapi.WithMetrics(prometheus.NewRegistry()), httpapi.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	created := serve(b, h, "POST", base+"/tenants", tok, `{"company_name":"Bench","email":"b@example.com"}`, 201)
	var tn struct{ Tenant string }
	_ = json.Unmarshal(created.Body.Bytes(), &tn)
	r := httptest.NewRequest("GET", base+"/tenants/"+tn.Tenant, nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
