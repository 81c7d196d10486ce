package jwtauth

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/provisiond/provisiond/provisioning"
)

// FuzzPrincipal maps arbitrary claims to a Principal: the JSON payload as golang-jwt decodes
// it, plus a partner_id and a role put in as raw Go strings (so invalid UTF-8 reaches the
// mapping too, which JSON decoding would have replaced). Whatever it accepts must carry a
// clean, non-empty, bounded partner id taken from partner_id, or from sub only when
// partner_id is absent; whatever it refuses must be a 401.
func FuzzPrincipal(f *testing.F) {
	for _, seed := range []struct {
		payload       string
		partner, role string
	}{
		{`{"partner_id":"partner-1","sub":"user-1","roles":["partner-admin"],"scope":"tenant:read"}`, "", ""},
		{`{"partner_id":42,"sub":"victim"}`, "", ""},
		{`{"sub":"victim","roles":"partner-admin"}`, "", ""},
		{`{"partner_id":"p\u0000","permissions":["tenant:read"]}`, "", ""},
		{`{"sub":"s"}`, "p\x00q", "r\u202e"},
		{`{"sub":"s"}`, "p\xff", "admin"},
	} {
		f.Add([]byte(seed.payload), seed.partner, seed.role)
	}
	a := &Authenticator{}
	defaults(&a.cfg)
	f.Fuzz(func(t *testing.T, payload []byte, partner, role string) {
		var claims map[string]any
		if json.Unmarshal(payload, &claims) != nil || claims == nil {
			return
		}
		if partner != "" {
			claims["partner_id"] = partner
		}
		if role != "" {
			claims["roles"] = []any{role}
		}
		p, err := a.principal(claims)
		if err != nil {
			if provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
				t.Fatalf("refused with %v, want unauthenticated", err)
			}
			return
		}
		checkPrincipal(t, claims, p)
	})
}

// checkPrincipal asserts what an accepted Principal promises, by rules written apart from the
// code under test.
func checkPrincipal(t *testing.T, claims map[string]any, p provisioning.Principal) {
	t.Helper()
	want, ok := claims["partner_id"]
	if !ok {
		want = claims["sub"]
	}
	if p.PartnerID != want {
		t.Fatalf("partner %q, want %#v (partner_id, or sub when absent)", p.PartnerID, want)
	}
	if !fuzzClean(p.PartnerID) {
		t.Fatalf("unclean partner id %q", p.PartnerID)
	}
	if p.Subject != "" && !fuzzClean(p.Subject) {
		t.Fatalf("unclean subject %q", p.Subject)
	}
	if len(p.Roles) > MaxRoles || len(p.Permissions) > MaxPermissions {
		t.Fatalf("%d roles, %d permissions", len(p.Roles), len(p.Permissions))
	}
	for _, r := range p.Roles {
		if !fuzzClean(r) {
			t.Fatalf("unclean role %q", r)
		}
	}
	for _, x := range p.Permissions {
		if !fuzzClean(string(x)) {
			t.Fatalf("unclean permission %q", x)
		}
	}
}

// fuzzClean: non-empty, at most 255 bytes of valid UTF-8 without U+FFFD, C0 and C1 controls,
// DEL, or bidirectional controls.
func fuzzClean(s string) bool {
	if s == "" || len(s) > 255 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0xfffd,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069,
			r == 0x061c, r == 0x200e, r == 0x200f:
			return false
		}
	}
	return true
}
