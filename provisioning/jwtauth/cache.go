package jwtauth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/provisiond/provisiond/provisioning"
)

// Bounds of the verified-token cache; past either, arbitrary entries make room.
const (
	maxCached      = 10000    // entries
	maxCachedBytes = 16 << 20 // the cached Principals, as principalSize counts them
)

// tokenCache remembers tokens that passed verification, so that a client sending the same
// token again skips the signature check (most of a request's CPU). An entry is fresh — trusted
// without a check — until the earlier of the token's exp and the cache TTL, so a key withdrawn
// from the JWKS stops being honoured within the TTL. After that it is kept, until the token's
// exp, only as a token known to have passed once: AuthenticateCached checks such a token again
// (when the failed-authentication limit would refuse any other), and a fresh entry replaces it.
type tokenCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[[32]byte]cached // by SHA-256 of the token: no raw token is kept
	bytes   int                 // the sum of the entries' sizes
}

type cached struct {
	p       provisioning.Principal
	fresh   time.Time // trusted without a check until then
	expires time.Time // the token's exp: forgotten then
	size    int
}

// principalSize is roughly the memory an entry holds: its strings plus a fixed overhead for
// the key, the entry and each string header.
func principalSize(p provisioning.Principal) int {
	n := 128 + len(p.PartnerID) + len(p.Subject)
	for _, r := range p.Roles {
		n += 16 + len(r)
	}
	for _, x := range p.Permissions {
		n += 16 + len(x)
	}
	return n
}

// tokenKey is the SHA-256 of token, the key of its entry. It hashes the string's bytes in
// place: converting the token to a []byte would copy it to the heap on every request.
func tokenKey(token string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token))) // read, never written
}

// get returns the principal of a token whose entry is fresh at now.
func (c *tokenCache) get(token string, now time.Time) (provisioning.Principal, bool) {
	e, ok := c.entry(token, now)
	if !ok || !now.Before(e.fresh) {
		return provisioning.Principal{}, false
	}
	return clonePrincipal(e.p), true
}

// known reports whether the token passed verification before and has not expired at now,
// its entry fresh or not.
func (c *tokenCache) known(token string, now time.Time) bool {
	_, ok := c.entry(token, now)
	return ok
}

// entry returns the token's entry, dropping it if the token has expired.
func (c *tokenCache) entry(token string, now time.Time) (cached, bool) {
	if c.ttl <= 0 {
		return cached{}, false
	}
	key := tokenKey(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if ok && !now.Before(e.expires) {
		c.remove(key)
		ok = false
	}
	return e, ok
}

// forget drops the token's entry: it failed a check.
func (c *tokenCache) forget(token string) {
	key := tokenKey(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(key)
}

// clonePrincipal copies p's slices, so that no caller can change what the cache holds.
func clonePrincipal(p provisioning.Principal) provisioning.Principal {
	p.Roles, p.Permissions = slices.Clone(p.Roles), slices.Clone(p.Permissions)
	return p
}

func (c *tokenCache) put(token string, p provisioning.Principal, exp, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	fresh := now.Add(c.ttl)
	if exp.Before(fresh) {
		fresh = exp
	}
	key := tokenKey(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[[32]byte]cached{}
	}
	c.remove(key)
	size := principalSize(p)
	for k := range c.entries {
		if len(c.entries) < maxCached && c.bytes+size <= maxCachedBytes {
			break
		}
		c.remove(k) // map iteration order is random enough for eviction
	}
	c.entries[key] = cached{p: clonePrincipal(p), fresh: fresh, expires: exp, size: size}
	c.bytes += size
}

// remove drops the entry under key, if any; c.mu is held.
func (c *tokenCache) remove(key [32]byte) {
	if e, ok := c.entries[key]; ok {
		c.bytes -= e.size
		delete(c.entries, key)
	}
}
