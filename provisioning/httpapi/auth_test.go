package httpapi_test

import (
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
)

// A 401 challenges with the Bearer scheme (RFC 6750, section 3.1): without an error when no bearer token
// was sent, with error="invalid_token" when the token sent was refused.
func TestUnauthenticatedChallenge(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, authorization string
		invalidToken        bool
	}{
		{"no credential", "", false},
		{"another scheme", "Basic YTpi", false},
		{"an empty bearer token", "Bearer ", false},
		{"a malformed token", "Bearer garbage", true},
		{"a token of another issuer", "Bearer " + jwttest.Token(t, jwttest.New(t).RSA, "partner-a", "partner-admin"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.authorization != "" {
				headers = []string{"Authorization", tc.authorization}
			}
			r := e.req(t, "GET", base+"/tenants", "", "", headers...)
			wantProblem(t, r, 401, "unauthenticated")
			got := r.header.Get("WWW-Authenticate")
			if !tc.invalidToken && got != `Bearer realm="provisiond"` {
				t.Fatalf("WWW-Authenticate = %q, want the scheme and realm alone", got)
			}
			if tc.invalidToken && !strings.HasPrefix(got, `Bearer realm="provisiond", error="invalid_token", error_description="`) {
				t.Fatalf(`WWW-Authenticate = %q, want error="invalid_token" with a description`, got)
			}
		})
	}
}
