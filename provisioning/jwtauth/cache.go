package jwtauth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// maxCached bounds the verified-token cache; past it, arbitrary entries make room.
const maxCached = 10000

// tokenCache remembers tokens that passed verification, so that a client sending the same
// token again skips the signature check (most of a request's CPU). An entry lives until the
// earlier of the token's exp and the cache TTL, so a key withdrawn from the JWKS stops being
// honoured within the TTL.
type tokenCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[[32]byte]cached // by SHA-256 of the token: no raw token is kept
}

type cached struct {
	p       provisioning.Principal
	expires time.Time
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
		delete(c.entries, key)
		return provisioning.Principal{}, false
	}
	return e.p, true
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
	for k := range c.entries {
		if len(c.entries) < maxCached {
			break
		}
		delete(c.entries, k) // map iteration order is random enough for eviction
	}
	c.entries[key] = cached{p: p, expires: expires}
}
