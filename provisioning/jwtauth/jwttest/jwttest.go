// Package jwttest runs a real token issuer for tests: RSA, RSA-PSS, ECDSA and Ed25519 signing
// keys whose public JWK Set is served over HTTP by an httptest.Server, and tokens minted with
// them.
package jwttest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisiond/provisiond/provisioning/jwtauth"
)

// The issuer and audience every Issuer's tokens carry.
const (
	IssuerName = "https://issuer.test/"
	Audience   = "provisiond"
)

// Issuer is a token issuer with a served JWK Set.
type Issuer struct {
	RSA, PS, EC, Ed *jwtauth.Signer
	RSAKey          *rsa.PrivateKey
	URL             string // the JWK Set's URL
	Fetches         atomic.Int64

	mu      sync.Mutex
	signers []*jwtauth.Signer
}

// New starts an Issuer, stopped when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	psKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	i := &Issuer{RSAKey: rsaKey}
	i.RSA, err = jwtauth.NewSigner(rsaKey)
	must(t, err)
	i.PS, err = jwtauth.NewSignerWithMethod(psKey, jwt.SigningMethodPS256)
	must(t, err)
	i.EC, err = jwtauth.NewSigner(ecKey)
	must(t, err)
	i.Ed, err = jwtauth.NewSigner(edKey)
	must(t, err)
	i.signers = []*jwtauth.Signer{i.RSA, i.PS, i.EC, i.Ed}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.Fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(i.jwks(t))
	}))
	t.Cleanup(srv.Close)
	i.URL = srv.URL + "/jwks"
	return i
}

// Add publishes another signer's key, as a key rotation at the identity provider does.
func (i *Issuer) Add(s *jwtauth.Signer) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.signers = append(i.signers, s)
}

func (i *Issuer) jwks(t testing.TB) []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	for _, s := range i.signers {
		one, err := s.JWKS()
		if err != nil {
			t.Errorf("jwttest: %v", err)
		}
		var part struct {
			Keys []json.RawMessage `json:"keys"`
		}
		_ = json.Unmarshal(one, &part)
		set.Keys = append(set.Keys, part.Keys...)
	}
	b, _ := json.Marshal(set)
	return b
}

// Config returns a jwtauth.Config that trusts this issuer.
func (i *Issuer) Config() jwtauth.Config {
	return jwtauth.Config{JWKSURL: i.URL, Issuer: IssuerName, Audience: Audience}
}

// Token mints a valid one-hour token from s for the partner with the roles.
func Token(t testing.TB, s *jwtauth.Signer, partner string, roles ...string) string {
	t.Helper()
	return Mint(t, s, jwtauth.Claims{PartnerID: partner, Roles: roles})
}

// Mint mints a token from s with the issuer's iss and aud filled in when c leaves them empty.
func Mint(t testing.TB, s *jwtauth.Signer, c jwtauth.Claims) string {
	t.Helper()
	if c.Issuer == "" {
		c.Issuer = IssuerName
	}
	if c.Audience == "" {
		c.Audience = Audience
	}
	if c.Subject == "" {
		c.Subject = "user-of-" + c.PartnerID
	}
	if c.TTL == 0 {
		c.TTL = time.Hour
	}
	tok, err := s.Mint(c)
	must(t, err)
	return tok
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("jwttest: %v", err)
	}
}
