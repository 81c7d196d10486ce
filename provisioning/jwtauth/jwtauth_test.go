package jwtauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
)

func newAuth(t *testing.T, cfg jwtauth.Config) *jwtauth.Authenticator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, err := jwtauth.New(ctx, cfg)
	if err != nil {
		t.Fatalf("jwtauth.New: %v", err)
	}
	return a
}

func TestAcceptsEveryKeyType(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	for name, s := range map[string]*jwtauth.Signer{"RS256": iss.RSA, "PS256": iss.PS, "ES256": iss.EC, "EdDSA": iss.Ed} {
		t.Run(name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), jwttest.Token(t, s, "partner-1", "partner-admin"))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.PartnerID != "partner-1" || p.Subject != "user-of-partner-1" || len(p.Roles) != 1 || p.Roles[0] != "partner-admin" {
				t.Fatalf("principal = %+v", p)
			}
		})
	}
	if err := a.Ready(context.Background()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}

func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestRejectsAttacks(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	now := time.Now()
	good := jwttest.Token(t, iss.RSA, "partner-1", "partner-admin")
	parts := strings.Split(good, ".")

	claims := map[string]any{"iss": jwttest.IssuerName, "aud": jwttest.Audience, "sub": "x",
		"partner_id": "partner-1", "roles": []string{"partner-admin"}, "exp": now.Add(time.Hour).Unix()}
	none := segment(map[string]any{"alg": "none", "typ": "JWT"}) + "." + segment(claims) + "."

	pub, _ := x509.MarshalPKIXPublicKey(&iss.RSAKey.PublicKey)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	hs.Header["kid"] = iss.RSA.KeyID()
	hsWithPub, _ := hs.SignedString(pub)

	tamperedClaims := map[string]any{}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &tamperedClaims)
	tamperedClaims["partner_id"] = "partner-2"
	tampered := parts[0] + "." + segment(tamperedClaims) + "." + parts[2]

	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	unknown, _ := jwtauth.NewSigner(stranger)

	cases := map[string]string{
		"alg none":                 none,
		"HS256 with the RSA key":   hsWithPub,
		"expired":                  jwttest.Mint(t, iss.RSA, jwtauth.Claims{PartnerID: "p", TTL: -time.Hour}),
		"not yet valid":            jwttest.Mint(t, iss.EC, jwtauth.Claims{PartnerID: "p", Extra: map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}}),
		"issued in the future":     jwttest.Mint(t, iss.EC, jwtauth.Claims{PartnerID: "p", Extra: map[string]any{"iat": now.Add(10 * time.Minute).Unix()}}),
		"wrong issuer":             jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "p", Issuer: "https://evil.test/"}),
		"wrong audience":           jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "p", Audience: "someone-else"}),
		"unknown kid":              jwttest.Mint(t, unknown, jwtauth.Claims{PartnerID: "p"}),
		"tampered payload":         tampered,
		"no exp":                   jwttest.Mint(t, iss.RSA, jwtauth.Claims{PartnerID: "p", Extra: map[string]any{"exp": nil}}),
		"no partner and no sub":    jwttest.Mint(t, iss.RSA, jwtauth.Claims{Extra: map[string]any{"sub": nil}}),
		"garbage":                  "not.a.jwt",
		"empty signature":          parts[0] + "." + parts[1] + ".",
		"signature of another key": parts[0] + "." + parts[1] + "." + strings.Split(jwttest.Token(t, iss.PS, "partner-1"), ".")[2],
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), tok)
			if provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
				t.Fatalf("Authenticate = %v, want unauthenticated", err)
			}
			if strings.Contains(provisioning.ErrorMessage(err), tok) {
				t.Fatal("the error message echoes the token")
			}
		})
	}
}

func TestClaimsMapping(t *testing.T) {
	iss := jwttest.New(t)
	cfg := iss.Config()
	cfg.RolesClaim = "realm_access.roles"
	a := newAuth(t, cfg)
	tok := jwttest.Mint(t, iss.Ed, jwtauth.Claims{Subject: "client-7",
		Permissions: []string{"tenant:read"},
		Extra: map[string]any{"realm_access": map[string]any{"roles": []string{"partner-admin", "auditor"}},
			"scope": "tenant:create openid"}})
	p, err := a.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.PartnerID != "client-7" {
		t.Errorf("partner falls back to sub: got %q", p.PartnerID)
	}
	if strings.Join(p.Roles, ",") != "partner-admin,auditor" {
		t.Errorf("roles = %v", p.Roles)
	}
	var perms []string
	for _, x := range p.Permissions {
		perms = append(perms, string(x))
	}
	if strings.Join(perms, ",") != "tenant:read,tenant:create,openid" {
		t.Errorf("permissions = %v", perms)
	}

	cfg = iss.Config()
	a = newAuth(t, cfg)
	p, err = a.Authenticate(context.Background(), jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "p", Extra: map[string]any{"roles": "auditor"}}))
	if err != nil || strings.Join(p.Roles, ",") != "auditor" {
		t.Errorf("one role as a string: %v, %v", p.Roles, err)
	}
}

// The configured operator role, and it alone, makes an operator; without one configured no
// role does.
func TestOperatorRole(t *testing.T) {
	iss := jwttest.New(t)
	cfg := iss.Config()
	cfg.OperatorRole = "platform-ops"
	a := newAuth(t, cfg)
	plain := newAuth(t, iss.Config())
	for _, tc := range []struct {
		roles    any
		auth     *jwtauth.Authenticator
		operator bool
	}{
		{[]string{"partner-admin", "platform-ops"}, a, true},
		{"platform-ops", a, true},
		{[]string{"operator", "partner-admin"}, a, false},
		{[]string{"platform-ops"}, plain, false},
	} {
		p, err := tc.auth.Authenticate(context.Background(), jwttest.Mint(t, iss.RSA, jwtauth.Claims{PartnerID: "ops",
			Extra: map[string]any{"roles": tc.roles}}))
		if err != nil || p.Operator != tc.operator {
			t.Errorf("roles %v: operator = %v (%v), want %v", tc.roles, p.Operator, err, tc.operator)
		}
	}
}

func TestRefreshOnUnknownKeyID(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	if _, err := a.Authenticate(context.Background(), jwttest.Token(t, iss.RSA, "p")); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	rotated, _ := jwtauth.NewSigner(key)
	iss.Add(rotated) // the identity provider publishes a new key
	before := iss.Fetches.Load()
	if _, err := a.Authenticate(context.Background(), jwttest.Token(t, rotated, "p")); err != nil {
		t.Fatalf("token signed by a newly published key: %v", err)
	}
	if iss.Fetches.Load() == before {
		t.Fatal("the JWK Set was not fetched again for the unknown kid")
	}
}

func TestStaticJWKSAndHMAC(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := jwtauth.NewSigner(key)
	set, err := s.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, jwtauth.Config{JWKS: set})
	if _, err := a.Authenticate(context.Background(), jwttest.Token(t, s, "p")); err != nil {
		t.Fatalf("static JWKS: %v", err)
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"partner_id": "p", "exp": time.Now().Add(time.Hour).Unix()})
	tok, _ := hs.SignedString([]byte("a-dev-secret-of-enough-length-000"))
	if _, err := a.Authenticate(context.Background(), tok); err == nil {
		t.Fatal("HMAC token accepted without an HMAC secret configured")
	}
	withHMAC := newAuth(t, jwtauth.Config{HMACSecret: []byte("a-dev-secret-of-enough-length-000")})
	if _, err := withHMAC.Authenticate(context.Background(), tok); err != nil {
		t.Fatalf("HMAC token with the secret configured: %v", err)
	}
	if _, err := jwtauth.New(context.Background(), jwtauth.Config{}); err == nil {
		t.Fatal("New without any key source succeeded")
	}
}

func TestReadyWithoutKeys(t *testing.T) {
	a := newAuth(t, jwtauth.Config{JWKSURL: "http://127.0.0.1:1/jwks"}) // nothing listens there
	if err := a.Ready(context.Background()); err == nil {
		t.Fatal("Ready with no keys loaded")
	}
}

func TestReadyOnceTheIssuerComesUp(t *testing.T) {
	iss := jwttest.New(t)
	var up atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		resp, err := http.Get(iss.URL)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	cfg := iss.Config()
	cfg.JWKSURL = proxy.URL
	a := newAuth(t, cfg)
	if err := a.Ready(context.Background()); err == nil {
		t.Fatal("ready before the issuer is up")
	}
	up.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for a.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("not ready 10s after the issuer came up")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := a.Authenticate(context.Background(), jwttest.Token(t, iss.RSA, "p")); err != nil {
		t.Fatalf("after the issuer came up: %v", err)
	}
}

func TestLeewayIsSmall(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	now := time.Now()
	mint := func(extra map[string]any) string {
		return jwttest.Mint(t, iss.Ed, jwtauth.Claims{PartnerID: "p", Extra: extra})
	}
	cases := []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"expired 2s ago, within the leeway", map[string]any{"exp": now.Add(-2 * time.Second).Unix()}, true},
		{"expired 30s ago", map[string]any{"exp": now.Add(-30 * time.Second).Unix()}, false},
		{"valid from 2s on", map[string]any{"nbf": now.Add(2 * time.Second).Unix()}, true},
		{"valid from 30s on", map[string]any{"nbf": now.Add(30 * time.Second).Unix()}, false},
	}
	for _, tc := range cases {
		_, err := a.Authenticate(context.Background(), mint(tc.claims))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// AuthenticateCached accepts a token only once Authenticate has, with the same principal; it
// checks no other token: one whose key the JWKS lacks — which Authenticate would go and fetch
// the JWKS again for — is refused without a fetch. With caching off it accepts nothing.
func TestAuthenticateCachedChecksNoUnknownToken(t *testing.T) {
	ctx := context.Background()
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	valid := jwttest.Token(t, iss.RSA, "partner-a", "partner-admin")
	other := jwttest.Token(t, iss.EC, "partner-b", "partner-admin")
	if _, err := a.Authenticate(ctx, other); err != nil { // the keys are loaded
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := jwtauth.NewSigner(edKey) // its key is not in the JWKS
	if err != nil {
		t.Fatal(err)
	}
	unknownKey := jwttest.Token(t, stranger, "partner-a", "partner-admin")

	fetches := iss.Fetches.Load()
	for name, tok := range map[string]string{"valid, never verified": valid, "unknown key": unknownKey,
		"malformed": "bad.bad.bad", "tampered": other + "x"} {
		if p, ok := a.AuthenticateCached(ctx, tok); ok {
			t.Fatalf("%s: accepted as %+v", name, p)
		}
	}
	if n := iss.Fetches.Load(); n != fetches {
		t.Fatalf("AuthenticateCached fetched the JWKS %d times", n-fetches)
	}
	if _, err := a.Authenticate(ctx, unknownKey); err == nil || iss.Fetches.Load() == fetches {
		t.Fatalf("Authenticate of the unknown key: %v after %d fetches; the check above would have fetched", err, iss.Fetches.Load()-fetches)
	}

	want, err := a.Authenticate(ctx, valid)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := a.AuthenticateCached(ctx, valid); !ok || got.PartnerID != want.PartnerID || got.Subject != want.Subject {
		t.Fatalf("after Authenticate: %+v %v, want %+v", got, ok, want)
	}

	cfg := iss.Config()
	cfg.CacheTTL = -1
	off := newAuth(t, cfg)
	if _, err := off.Authenticate(ctx, valid); err != nil {
		t.Fatal(err)
	}
	if _, ok := off.AuthenticateCached(ctx, valid); ok {
		t.Fatal("with caching off, a token was accepted without a check")
	}
}
