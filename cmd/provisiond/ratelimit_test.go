package main

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/provisioning/jwtauth/jwttest"
)

// get sends GET url with the bearer token and returns the status and headers.
func get(t *testing.T, url, token string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// startWithIssuer runs the server on the memory store, trusting a fresh token issuer, and
// returns its tenants URL and a partner-admin token.
func startWithIssuer(t *testing.T, args []string, env map[string]string) (string, string) {
	t.Helper()
	iss := jwttest.New(t)
	args = append([]string{"--addr", "127.0.0.1:0", "--database-url", "memory:", "--jwks-url", iss.URL,
		"--issuer", jwttest.IssuerName, "--audience", jwttest.Audience}, args...)
	base, _, _ := startRun(t, args, env)
	return base + "/api/provisioning/tenants", jwttest.Token(t, iss.RSA, "partner-x", "partner-admin")
}

// Rate limits are on unless turned off: 100 requests a second per partner in bursts of 200,
// announced on every authenticated answer, and a flood of bad tokens from one address is cut
// off.
func TestRunLimitsByDefault(t *testing.T) {
	url, tok := startWithIssuer(t, nil, nil)
	if st, h := get(t, url, tok); st != 200 || h.Get("RateLimit-Policy") != `"partner";q=200;w=2` || h.Get("RateLimit") == "" {
		t.Fatalf("%d, RateLimit-Policy %q, RateLimit %q", st, h.Get("RateLimit-Policy"), h.Get("RateLimit"))
	}
	for i := range 1000 {
		st, h := get(t, url, "not-a-jwt")
		if st == 429 && h.Get("Retry-After") != "" {
			return
		}
		if st != 401 {
			t.Fatalf("bad token #%d: %d", i+1, st)
		}
	}
	t.Fatal("1000 bad tokens from one address were all checked")
}

func TestRunRateLimitsConfigured(t *testing.T) {
	t.Run("from the environment", func(t *testing.T) {
		url, tok := startWithIssuer(t, nil, map[string]string{"PROVISIOND_RATE_LIMIT": "5"})
		if _, h := get(t, url, tok); h.Get("RateLimit-Policy") != `"partner";q=10;w=2` {
			t.Fatalf("RateLimit-Policy %q, want 5 a second in bursts of 10", h.Get("RateLimit-Policy"))
		}
	})
	t.Run("off", func(t *testing.T) {
		url, tok := startWithIssuer(t, []string{"--rate-limit", "0", "--failed-auth-limit", "0"}, nil)
		if st, h := get(t, url, tok); st != 200 || h.Get("RateLimit-Policy") != "" || h.Get("RateLimit") != "" {
			t.Fatalf("%d with RateLimit headers while limits are off: %v", st, h)
		}
		for i := range 100 {
			if st, _ := get(t, url, "not-a-jwt"); st != 401 {
				t.Fatalf("bad token #%d with the limit off: %d", i+1, st)
			}
		}
	})
}
