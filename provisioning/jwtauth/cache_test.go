package jwtauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisiond/provisiond/provisioning"
)

func TestTokenCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := provisioning.Principal{PartnerID: "p"}
	c := tokenCache{ttl: time.Minute}

	c.put("a", p, now.Add(time.Hour), now)
	if _, ok := c.get("a", now.Add(59*time.Second)); !ok {
		t.Fatal("entry missing within the TTL")
	}
	if _, ok := c.get("a", now.Add(time.Minute)); ok {
		t.Fatal("entry outlived the TTL")
	}
	if !c.known("a", now.Add(59*time.Minute)) || c.known("a", now.Add(time.Hour)) {
		t.Fatal("a token that passed is not known until its exp, and only until then")
	}
	if c.known("never verified", now) {
		t.Fatal("a token never put is known")
	}

	c.put("b", p, now.Add(10*time.Second), now)
	if _, ok := c.get("b", now.Add(10*time.Second)); ok {
		t.Fatal("entry outlived the token's exp")
	}
	c.put("c", p, now.Add(time.Hour), now)
	c.forget("c")
	if c.known("c", now) {
		t.Fatal("a forgotten token is known")
	}

	off := tokenCache{ttl: -1}
	off.put("a", p, now.Add(time.Hour), now)
	if _, ok := off.get("a", now); ok {
		t.Fatal("a disabled cache answered")
	}
}

// fill puts n tokens named prefix+i, each with principal p.
func fill(c *tokenCache, prefix string, n int, p provisioning.Principal, now time.Time) {
	for i := range n {
		c.put(fmt.Sprint(prefix, i), p, now.Add(time.Hour), now)
	}
}

func TestTokenCacheEntryBound(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := provisioning.Principal{PartnerID: "p"}
	c := tokenCache{ttl: time.Minute}
	fill(&c, "t", maxCached, p, now)
	if n := len(c.entries); n != maxCached {
		t.Fatalf("at the bound the cache holds %d entries, want %d", n, maxCached)
	}
	for i := range maxCached {
		if _, ok := c.get(fmt.Sprint("t", i), now); !ok {
			t.Fatalf("entry %d was evicted before the bound was passed", i)
		}
	}
	c.put("one more", p, now.Add(time.Hour), now)
	if n := len(c.entries); n != maxCached {
		t.Fatalf("past the bound the cache holds %d entries, want %d", n, maxCached)
	}
	if _, ok := c.get("one more", now); !ok {
		t.Fatal("the newest entry is missing")
	}
	c.put("one more", p, now.Add(time.Hour), now) // again: replaces, evicts nothing
	if n := len(c.entries); n != maxCached {
		t.Fatalf("putting a cached token again left %d entries, want %d", n, maxCached)
	}
}

func TestTokenCacheByteBound(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	big := provisioning.Principal{PartnerID: strings.Repeat("p", MaxClaimBytes)}
	for i := range MaxRoles {
		big.Roles = append(big.Roles, fmt.Sprintf("%0255d", i))
	}
	fits := maxCachedBytes / principalSize(big)
	if fits >= maxCached {
		t.Fatalf("%d large principals fit, so the entry bound would be hit first", fits)
	}
	c := tokenCache{ttl: time.Minute}
	fill(&c, "t", fits, big, now)
	if n := len(c.entries); n != fits {
		t.Fatalf("at the byte bound the cache holds %d entries, want %d", n, fits)
	}
	c.put("one more", big, now.Add(time.Hour), now)
	if n := len(c.entries); n != fits || c.bytes > maxCachedBytes {
		t.Fatalf("past the byte bound: %d entries, %d bytes; want %d entries, at most %d bytes",
			n, c.bytes, fits, maxCachedBytes)
	}
	if _, ok := c.get("one more", now); !ok {
		t.Fatal("the newest entry is missing")
	}
	// The token's expiry gives the bytes back (the TTL alone does not: the entry is kept as a
	// token known to have passed).
	before := c.bytes
	if _, ok := c.get("one more", now.Add(2*time.Minute)); ok || c.bytes != before {
		t.Fatalf("an entry past the TTL answered (%v), or was dropped before its token expired", ok)
	}
	if _, ok := c.get("one more", now.Add(2*time.Hour)); ok {
		t.Fatal("expired entry answered")
	}
	if c.bytes != before-principalSize(big) {
		t.Fatalf("bytes after expiry = %d, want %d", c.bytes, before-principalSize(big))
	}
}

func TestTokenCacheHandsOutCopies(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := tokenCache{ttl: time.Minute}
	put := provisioning.Principal{PartnerID: "p", Roles: []string{"auditor"},
		Permissions: []provisioning.Permission{"tenant:read"}}
	c.put("a", put, now.Add(time.Hour), now)
	put.Roles[0], put.Permissions[0] = "partner-admin", "tenant:purge" // the first caller's copy
	p, _ := c.get("a", now)
	p.Roles[0], p.Permissions[0] = "partner-admin", "tenant:purge" // a later caller's
	again, _ := c.get("a", now)
	if again.Roles[0] != "auditor" || again.Permissions[0] != "tenant:read" {
		t.Fatalf("a caller's change reached the cache: %+v", again)
	}
}

// ageEntry makes the token's cache entry stale: past the TTL, before the token's exp.
func ageEntry(a *Authenticator, token string) {
	key := sha256.Sum256([]byte(token))
	a.cache.mu.Lock()
	defer a.cache.mu.Unlock()
	e := a.cache.entries[key]
	e.fresh = time.Now().Add(-time.Second)
	a.cache.entries[key] = e
}

// AuthenticateCached checks a token again when its entry is older than the cache TTL: one that
// still passes is accepted and fresh again; one that no longer does is refused and forgotten.
func TestAuthenticateCachedChecksStaleEntriesAgain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	secret := []byte("a development secret of enough bytes")
	a, err := New(ctx, Config{HMACSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u", "partner_id": "p",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	ageEntry(a, token)
	if _, ok := a.cache.get(token, time.Now()); ok {
		t.Fatal("the aged entry is still fresh")
	}
	if got, ok := a.AuthenticateCached(ctx, token); !ok || got.PartnerID != want.PartnerID || got.Subject != want.Subject {
		t.Fatalf("a stale entry of a token that still passes: %+v %v, want %+v", got, ok, want)
	}
	if _, ok := a.cache.get(token, time.Now()); !ok {
		t.Fatal("checked again, the entry is not fresh again")
	}

	// An entry whose token no longer passes — as after its key was withdrawn; here, a token
	// that never could — is refused when checked again, and forgotten.
	const forged = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
	a.cache.put(forged, want, time.Now().Add(time.Hour), time.Now())
	ageEntry(a, forged)
	if _, ok := a.AuthenticateCached(ctx, forged); ok {
		t.Fatal("a stale entry was trusted without a check")
	}
	if a.cache.known(forged, time.Now()) {
		t.Fatal("a token that failed its check is still known")
	}
}
