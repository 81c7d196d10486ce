package jwtauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
)

// absent in a case's claims removes the claim from the token.
var absent = &struct{}{}

// claims returns a valid token's claims with changes applied (absent removes one).
func claims(changes map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": jwttest.IssuerName, "aud": jwttest.Audience, "sub": "user-1",
		"partner_id": "partner-1", "roles": []any{"partner-admin"}, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix()}
	for k, v := range changes {
		if v == absent {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign signs the claims with the issuer's Ed25519 key, with extra header fields.
func sign(t *testing.T, iss *jwttest.Issuer, c map[string]any, header map[string]any) string {
	t.Helper()
	tok, err := iss.Ed.Sign(c, header)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signRaw signs a payload given as raw bytes (which json.Marshal would have cleaned), with
// the issuer's RSA key.
func signRaw(t *testing.T, iss *jwttest.Issuer, payload string) string {
	t.Helper()
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": iss.RSA.KeyID()})
	enc := base64.RawURLEncoding.EncodeToString
	signing := enc(header) + "." + enc([]byte(payload))
	sig, err := jwt.SigningMethodRS256.Sign(signing, iss.RSAKey)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc(sig)
}

// wantRefused checks that err is a 401 with exactly the message.
func wantRefused(t *testing.T, err error, msg string) {
	t.Helper()
	if provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
		t.Fatalf("Authenticate = %v, want unauthenticated %q", err, msg)
	}
	if got := provisioning.ErrorMessage(err); got != msg {
		t.Fatalf("message = %q, want %q", got, msg)
	}
}

func repeat(n int, f func(i int) string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func words(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "scope-%d ", i)
	}
	return b.String()
}

func TestIllTypedClaimsAreRefused(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	long := strings.Repeat("x", jwtauth.MaxClaimBytes+1)
	cases := []struct {
		name    string
		changes map[string]any
		want    string
	}{
		{"numeric partner_id", map[string]any{"partner_id": 42}, "the token's partner_id claim is not a string"},
		{"fractional partner_id", map[string]any{"partner_id": 4.5}, "the token's partner_id claim is not a string"},
		{"array partner_id", map[string]any{"partner_id": []any{"partner-1"}}, "the token's partner_id claim is not a string"},
		{"object partner_id", map[string]any{"partner_id": map[string]any{"id": "partner-1"}}, "the token's partner_id claim is not a string"},
		{"bool partner_id", map[string]any{"partner_id": true}, "the token's partner_id claim is not a string"},
		{"null partner_id", map[string]any{"partner_id": nil}, "the token's partner_id claim is not a string"},
		{"empty partner_id", map[string]any{"partner_id": ""}, "the token's partner_id claim is empty"},
		{"long partner_id", map[string]any{"partner_id": long}, "the token's partner_id claim is longer than 255 bytes"},
		{"no partner_id, no sub", map[string]any{"partner_id": absent, "sub": absent}, "the token names no partner: it has neither a partner_id nor a sub claim"},
		{"no partner_id, empty sub", map[string]any{"partner_id": absent, "sub": ""}, "the token's sub claim is empty"},
		{"numeric partner_id and no sub", map[string]any{"partner_id": 7, "sub": absent}, "the token's partner_id claim is not a string"},

		{"numeric sub", map[string]any{"sub": 42}, "the token's sub claim is not a string"},
		{"array sub", map[string]any{"sub": []any{"a"}}, "the token's sub claim is not a string"},
		{"null sub", map[string]any{"sub": nil}, "the token's sub claim is not a string"},
		{"long sub", map[string]any{"sub": long}, "the token's sub claim is longer than 255 bytes"},

		{"object roles", map[string]any{"roles": map[string]any{"partner-admin": true}}, "the token's roles claim is neither an array of strings nor a string"},
		{"numeric roles", map[string]any{"roles": 1}, "the token's roles claim is neither an array of strings nor a string"},
		{"bool roles", map[string]any{"roles": true}, "the token's roles claim is neither an array of strings nor a string"},
		{"null roles", map[string]any{"roles": nil}, "the token's roles claim is neither an array of strings nor a string"},
		{"numeric role", map[string]any{"roles": []any{"partner-admin", 1}}, "the token's roles claim has an entry that is not a string"},
		{"null role", map[string]any{"roles": []any{nil}}, "the token's roles claim has an entry that is not a string"},
		{"nested role array", map[string]any{"roles": []any{[]any{"partner-admin"}}}, "the token's roles claim has an entry that is not a string"},
		{"empty role", map[string]any{"roles": []any{""}}, "the token's roles claim has an entry that is empty"},
		{"long role", map[string]any{"roles": []any{long}}, "the token's roles claim has an entry that is longer than 255 bytes"},
		{"too many roles", map[string]any{"roles": repeat(jwtauth.MaxRoles+1, func(i int) string { return fmt.Sprint("r", i) })}, "the token's roles claim has more than 100 entries"},
		{"roles string with spaces", map[string]any{"roles": "not partner-admin"}, "the token's roles claim is a string with spaces (send several roles as an array)"},

		{"permissions string", map[string]any{"permissions": "tenant:read"}, "the token's permissions claim is not an array of strings"},
		{"object permissions", map[string]any{"permissions": map[string]any{}}, "the token's permissions claim is not an array of strings"},
		{"null permissions", map[string]any{"permissions": nil}, "the token's permissions claim is not an array of strings"},
		{"numeric permission", map[string]any{"permissions": []any{"tenant:read", 3}}, "the token's permissions claim has an entry that is not a string"},
		{"long permission", map[string]any{"permissions": []any{long}}, "the token's permissions claim has an entry that is longer than 255 bytes"},
		{"too many permissions", map[string]any{"permissions": repeat(jwtauth.MaxPermissions+1, func(i int) string { return fmt.Sprint("p", i) })}, "the token's permissions claim has more than 100 entries"},

		{"array scope", map[string]any{"scope": []any{"tenant:read"}}, "the token's scope claim is not a string"},
		{"numeric scope", map[string]any{"scope": 5}, "the token's scope claim is not a string"},
		{"null scope", map[string]any{"scope": nil}, "the token's scope claim is not a string"},
		{"long scope", map[string]any{"scope": "tenant:read " + long}, "the token's scope claim has a scope longer than 255 bytes"},
		{"too many scopes", map[string]any{"scope": words(jwtauth.MaxPermissions + 1)}, "the token's scope claim has more than 100 scopes"},
		{"too many permissions and scopes", map[string]any{"permissions": repeat(60, func(i int) string { return fmt.Sprint("p", i) }), "scope": words(41)}, "the token's permissions and scope claims hold more than 100 permissions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), sign(t, iss, claims(tc.changes), nil))
			wantRefused(t, err, tc.want)
		})
	}
}

// TestControlCharactersAreRefused puts each class of unfit character into each claim the
// Principal copies.
func TestControlCharactersAreRefused(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	classes := []struct {
		name, char, problem string
	}{
		{"NUL", "\x00", "holds a NUL character"},
		{"C0 SOH", "\x01", "holds a control character"},
		{"C0 tab", "\t", "holds a control character"},
		{"C0 newline", "\n", "holds a control character"},
		{"C0 escape", "\x1b", "holds a control character"},
		{"C0 unit separator", "\x1f", "holds a control character"},
		{"DEL", "\x7f", "holds a control character"},
		{"C1 padding", "\u0080", "holds a control character"},
		{"C1 next line", "\u0085", "holds a control character"},
		{"C1 CSI", "\u009b", "holds a control character"},
		{"C1 APC", "\u009f", "holds a control character"},
		{"bidi LRE", "\u202a", "holds a bidirectional control character"},
		{"bidi RLO", "\u202e", "holds a bidirectional control character"},
		{"bidi LRI", "\u2066", "holds a bidirectional control character"},
		{"bidi PDI", "\u2069", "holds a bidirectional control character"},
		{"bidi RLM", "\u200f", "holds a bidirectional control character"},
		{"bidi ALM", "\u061c", "holds a bidirectional control character"},
		{"zero-width space", "\u200b", "holds an invisible format character"},
		{"byte order mark", "\ufeff", "holds an invisible format character"},
		{"line separator", "\u2028", "holds a line or paragraph separator"},
		{"replacement character", "\ufffd", "holds invalid UTF-8 or U+FFFD"},
	}
	slots := []struct {
		name   string
		put    func(s string) map[string]any
		prefix string
	}{
		{"partner_id", func(s string) map[string]any { return map[string]any{"partner_id": s} }, "the token's partner_id claim "},
		{"sub", func(s string) map[string]any { return map[string]any{"sub": s} }, "the token's sub claim "},
		{"sub as partner", func(s string) map[string]any { return map[string]any{"partner_id": absent, "sub": s} }, "the token's sub claim "},
		{"roles entry", func(s string) map[string]any { return map[string]any{"roles": []any{"auditor", s}} }, "the token's roles claim has an entry that "},
		{"roles string", func(s string) map[string]any { return map[string]any{"roles": s} }, "the token's roles claim "},
		{"permissions entry", func(s string) map[string]any { return map[string]any{"permissions": []any{s}} }, "the token's permissions claim has an entry that "},
		{"scope", func(s string) map[string]any { return map[string]any{"scope": "openid " + s} }, "the token's scope claim "},
	}
	for _, slot := range slots {
		for _, class := range classes {
			t.Run(slot.name+"/"+class.name, func(t *testing.T) {
				tok := sign(t, iss, claims(slot.put("a"+class.char+"b")), nil)
				_, err := a.Authenticate(context.Background(), tok)
				wantRefused(t, err, slot.prefix+class.problem)
			})
		}
	}
}

// TestInvalidUTF8IsRefused sends bytes that are not UTF-8, and an escaped lone surrogate, in
// the raw payload: JSON decoding turns both into U+FFFD, which no claim may hold.
func TestInvalidUTF8IsRefused(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	exp := time.Now().Add(time.Hour).Unix()
	head := fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":%d,`, jwttest.IssuerName, jwttest.Audience, exp)
	cases := map[string]struct{ payload, want string }{
		"partner_id bytes":     {head + "\"sub\":\"u\",\"partner_id\":\"p\xff\xfeq\"}", "the token's partner_id claim holds invalid UTF-8 or U+FFFD"},
		"partner_id surrogate": {head + `"sub":"u","partner_id":"p\ud800q"}`, "the token's partner_id claim holds invalid UTF-8 or U+FFFD"},
		"truncated sequence":   {head + "\"sub\":\"u\",\"partner_id\":\"p\xe2\x82\"}", "the token's partner_id claim holds invalid UTF-8 or U+FFFD"},
		"overlong NUL":         {head + "\"sub\":\"u\",\"partner_id\":\"p\xc0\x80\"}", "the token's partner_id claim holds invalid UTF-8 or U+FFFD"},
		"sub bytes":            {head + "\"sub\":\"u\xff\",\"partner_id\":\"p\"}", "the token's sub claim holds invalid UTF-8 or U+FFFD"},
		"role bytes":           {head + "\"partner_id\":\"p\",\"roles\":[\"a\xff\"]}", "the token's roles claim has an entry that holds invalid UTF-8 or U+FFFD"},
		"scope bytes":          {head + "\"partner_id\":\"p\",\"scope\":\"openid a\xff\"}", "the token's scope claim holds invalid UTF-8 or U+FFFD"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), signRaw(t, iss, tc.payload))
			wantRefused(t, err, tc.want)
		})
	}
	// The same raw signing with clean bytes is accepted, so the cases above fail on their bytes.
	p, err := a.Authenticate(context.Background(), signRaw(t, iss, head+`"sub":"u","partner_id":"pé"}`))
	if err != nil || p.PartnerID != "pé" {
		t.Fatalf("clean raw payload: %+v, %v", p, err)
	}
}

func TestNestedClaimPaths(t *testing.T) {
	iss := jwttest.New(t)
	cfg := iss.Config()
	cfg.RolesClaim = "realm_access.roles"
	cfg.PartnerClaim = "https://example.com/partner"
	a := newAuth(t, cfg)
	cases := []struct {
		name    string
		changes map[string]any
		want    string
	}{
		{"realm_access a string", map[string]any{"realm_access": "admin"}, "the token's realm_access claim is not an object"},
		{"realm_access null", map[string]any{"realm_access": nil}, "the token's realm_access claim is not an object"},
		{"realm_access.roles an object", map[string]any{"realm_access": map[string]any{"roles": map[string]any{}}}, "the token's realm_access.roles claim is neither an array of strings nor a string"},
		{"namespaced partner numeric", map[string]any{"https://example.com/partner": 5}, "the token's https://example.com/partner claim is not a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), sign(t, iss, claims(tc.changes), nil))
			wantRefused(t, err, tc.want)
		})
	}
	p, err := a.Authenticate(context.Background(), sign(t, iss, claims(map[string]any{
		"https://example.com/partner": "partner-9", "realm_access": map[string]any{"roles": []any{"auditor"}}}), nil))
	if err != nil || p.PartnerID != "partner-9" || strings.Join(p.Roles, ",") != "auditor" {
		t.Fatalf("namespaced partner and nested roles: %+v, %v", p, err)
	}
}

// TestClaimsWithinBounds accepts what sits exactly at each bound, and the absent-claim
// fallbacks.
func TestClaimsWithinBounds(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	atBound := strings.Repeat("é", jwtauth.MaxClaimBytes/2) + "x" // 255 bytes
	cases := []struct {
		name    string
		changes map[string]any
		check   func(p provisioning.Principal) bool
	}{
		{"partner id of 255 bytes", map[string]any{"partner_id": atBound}, func(p provisioning.Principal) bool { return p.PartnerID == atBound }},
		{"partner falls back to sub when absent", map[string]any{"partner_id": absent, "sub": "client-7"}, func(p provisioning.Principal) bool { return p.PartnerID == "client-7" }},
		{"no sub", map[string]any{"sub": absent}, func(p provisioning.Principal) bool { return p.PartnerID == "partner-1" && p.Subject == "" }},
		{"100 roles", map[string]any{"roles": repeat(jwtauth.MaxRoles, func(i int) string { return fmt.Sprint("r", i) })}, func(p provisioning.Principal) bool { return len(p.Roles) == jwtauth.MaxRoles }},
		{"one role as a string", map[string]any{"roles": "partner-admin"}, func(p provisioning.Principal) bool { return strings.Join(p.Roles, ",") == "partner-admin" }},
		{"empty roles string", map[string]any{"roles": ""}, func(p provisioning.Principal) bool { return len(p.Roles) == 0 }},
		{"role of 255 bytes", map[string]any{"roles": []any{atBound}}, func(p provisioning.Principal) bool { return p.Roles[0] == atBound }},
		{"role with a space in an array", map[string]any{"roles": []any{"partner admin"}}, func(p provisioning.Principal) bool { return p.Roles[0] == "partner admin" }},
		{"60 permissions and 40 scopes", map[string]any{"permissions": repeat(60, func(i int) string { return fmt.Sprint("p", i) }), "scope": words(40)}, func(p provisioning.Principal) bool { return len(p.Permissions) == jwtauth.MaxPermissions }},
		{"empty scope", map[string]any{"scope": ""}, func(p provisioning.Principal) bool { return len(p.Permissions) == 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), sign(t, iss, claims(tc.changes), nil))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if !tc.check(p) {
				t.Fatalf("principal = %+v", p)
			}
		})
	}
}

func TestCritHeaderIsRefused(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	const unknown = "the token's crit header names extensions this server does not understand"
	const malformed = "the token's crit header is malformed"
	cases := []struct {
		name   string
		header map[string]any
		want   string
	}{
		{"unknown extension", map[string]any{"crit": []any{"exp"}, "exp": 1}, unknown},
		{"b64 (RFC 7797)", map[string]any{"crit": []any{"b64"}, "b64": true}, unknown},
		{"extension not in the header", map[string]any{"crit": []any{"https://example.com/ext"}}, unknown},
		{"empty list", map[string]any{"crit": []any{}}, malformed},
		{"a string", map[string]any{"crit": "b64"}, malformed},
		{"a number in the list", map[string]any{"crit": []any{1}}, malformed},
		{"an empty name", map[string]any{"crit": []any{""}}, malformed},
		{"null", map[string]any{"crit": nil}, malformed},
		{"an object", map[string]any{"crit": map[string]any{"b64": true}}, malformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), sign(t, iss, claims(nil), tc.header))
			wantRefused(t, err, tc.want)
		})
	}
	if _, err := a.Authenticate(context.Background(), sign(t, iss, claims(nil), map[string]any{"typ": "JWT"})); err != nil {
		t.Fatalf("the same token without crit: %v", err)
	}
}

func TestRegisteredClaimMessages(t *testing.T) {
	iss := jwttest.New(t)
	a := newAuth(t, iss.Config())
	past := time.Now().Add(-time.Hour).Unix()
	cases := []struct {
		name    string
		changes map[string]any
		want    string
	}{
		{"no exp", map[string]any{"exp": absent}, "the token has no exp claim"},
		{"null exp", map[string]any{"exp": nil}, "the token's exp claim is not a number"},
		{"string exp", map[string]any{"exp": "tomorrow"}, "the token's exp claim is not a number"},
		{"zero exp", map[string]any{"exp": 0}, "the token's exp claim is 0"},
		{"expired", map[string]any{"exp": past}, "the token has expired"},
		{"string nbf", map[string]any{"nbf": "now"}, "the token's nbf claim is not a number"},
		{"string iat", map[string]any{"iat": "now"}, "the token's iat claim is not a number"},
		{"not yet valid", map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}, "the token is not valid yet (nbf)"},
		{"issued in the future", map[string]any{"iat": time.Now().Add(time.Hour).Unix()}, "the token is issued in the future (iat)"},
		{"no iss", map[string]any{"iss": absent}, "the token has no iss claim"},
		{"empty iss", map[string]any{"iss": ""}, "the token's iss claim is empty"},
		{"numeric iss", map[string]any{"iss": 5}, "the token's iss claim is not a string"},
		{"wrong iss", map[string]any{"iss": "https://evil.test/"}, "the token's issuer is not accepted"},
		{"no aud", map[string]any{"aud": absent}, "the token has no aud claim"},
		{"empty aud", map[string]any{"aud": ""}, "the token's aud claim is empty"},
		{"empty aud list", map[string]any{"aud": []any{}}, "the token's aud claim is empty"},
		{"numeric aud", map[string]any{"aud": 5}, "the token's aud claim is neither a string nor an array of strings"},
		{"numeric aud entry", map[string]any{"aud": []any{jwttest.Audience, 5}}, "the token's aud claim is neither a string nor an array of strings"},
		{"wrong aud", map[string]any{"aud": []any{"someone-else"}}, "the token's audience is not accepted"},
		{"no iss and no aud", map[string]any{"iss": absent, "aud": absent}, "the token has no iss claim; the token has no aud claim"},
		{"no exp and wrong iss", map[string]any{"exp": absent, "iss": "https://evil.test/"}, "the token has no exp claim; the token's issuer is not accepted"},
		{"expired and no aud", map[string]any{"exp": past, "aud": absent}, "the token has no aud claim; the token has expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), sign(t, iss, claims(tc.changes), nil))
			wantRefused(t, err, tc.want)
		})
	}

	open := newAuth(t, jwtauth.Config{JWKSURL: iss.URL}) // no iss or aud required
	if _, err := open.Authenticate(context.Background(), sign(t, iss, claims(map[string]any{"iss": absent, "aud": absent}), nil)); err != nil {
		t.Fatalf("without an issuer or audience configured, neither is required: %v", err)
	}
	_, err := open.Authenticate(context.Background(), sign(t, iss, claims(map[string]any{"iss": absent, "exp": absent}), nil))
	wantRefused(t, err, "the token has no exp claim")
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestWrongPartnerTypeOverHTTP is the attack end to end, on the memory store and on
// PostgreSQL (where a NUL in the partner id once made a 500): a token whose partner_id is
// ill-typed and whose sub names another partner must not see that partner's tenants.
func TestWrongPartnerTypeOverHTTP(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testWrongPartnerTypeOverHTTP(t, memstore.New()) })
	t.Run("postgres", func(t *testing.T) {
		s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{Migrate: true})
		if err != nil {
			t.Fatalf("postgres.Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		testWrongPartnerTypeOverHTTP(t, s)
	})
}

func testWrongPartnerTypeOverHTTP(t *testing.T, store provisioning.Store) {
	iss := jwttest.New(t)
	authn := newAuth(t, iss.Config())
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	srv := httptest.NewServer(httpapi.New(svc, authn, httpapi.WithIdempotency(svc)))
	defer srv.Close()

	victim := sign(t, iss, claims(map[string]any{"partner_id": "victim"}), nil)
	status, _, body := call(t, srv.URL, "POST", "/tenants", victim, `{"company_name":"Victim Corp","email":"a@victim.example"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}

	cases := []struct {
		name    string
		changes map[string]any
		detail  string
	}{
		{"numeric partner_id", map[string]any{"partner_id": 42, "sub": "victim"}, "the token's partner_id claim is not a string"},
		{"array partner_id", map[string]any{"partner_id": []any{"victim"}, "sub": "victim"}, "the token's partner_id claim is not a string"},
		{"null partner_id", map[string]any{"partner_id": nil, "sub": "victim"}, "the token's partner_id claim is not a string"},
		{"NUL in partner_id", map[string]any{"partner_id": "victim\x00"}, "the token's partner_id claim holds a NUL character"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body := call(t, srv.URL, "GET", "/tenants", sign(t, iss, claims(tc.changes), nil), "")
			if status != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401; body %s", status, body)
			}
			if !strings.Contains(header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", header.Get("WWW-Authenticate"))
			}
			var p struct{ Code, Detail string }
			if err := json.Unmarshal(body, &p); err != nil || p.Code != "unauthenticated" || p.Detail != tc.detail {
				t.Fatalf("problem = %s (%v), want code unauthenticated, detail %q", body, err, tc.detail)
			}
		})
	}

	// The fallback still works when partner_id is absent, so the 401s above are the type's doing.
	status, _, body = call(t, srv.URL, "GET", "/tenants", sign(t, iss, claims(map[string]any{"partner_id": absent, "sub": "victim"}), nil), "")
	if status != http.StatusOK || !strings.Contains(string(body), "Victim Corp") {
		t.Fatalf("absent partner_id, sub victim: %d %s", status, body)
	}
}

func call(t *testing.T, url, method, path, token, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url+httpapi.BasePath+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}
