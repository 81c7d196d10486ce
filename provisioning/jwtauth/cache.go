package jwtauth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Bounds of the verified-token cache; past either, arbitrary entries make room.
const (
	maxCached      = 10000    // entries
	maxCachedBytes = 16 << 20 // the cached Principals, as principalSize counts them
)

// tokenCache remembers tokens that passed verification, so that a client sending the same
// token again skips the signature check (most of a request's CPU). An entry lives until the
// earlier of the token's exp and the cache TTL, so a key withdrawn from the JWKS stops being
// honoured within the TTL.
type tokenCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[[32]byte]cached // by SHA-256 of the token: no raw token is kept
	bytes   int                 // the sum of the entries' sizes
}

type cached struct {
	p       provisioning.Principal
	expires time.Time
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

func (c *tokenCache) get(token string, now time.Time) (provisioning.Principal, bool) {
	if c.ttl <= 0 {
		return provisioning.Principal{}, false
	}
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return provisioning.Principal{}, false
	}
	if !now.Before(e.expires) {
		c.remove(key)
		return provisioning.Principal{}, false
	}
	return clonePrincipal(e.p), true
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
	expires := now.Add(c.ttl)
	if exp.Before(expires) {
		expires = exp
	}
	key := sha256.Sum256([]byte(token))
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
	c.entries[key] = cached{p: clonePrincipal(p), expires: expires, size: size}
	c.bytes += size
}

// remove drops the entry under key, if any; c.mu is held.
func (c *tokenCache) remove(key [32]byte) {
	if e, ok := c.entries[key]; ok {
		c.bytes -= e.size
		delete(c.entries, key)
	}
}
