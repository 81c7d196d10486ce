// Package apikey authenticates partners' API keys, the second authenticator beside
// provisioning/jwtauth: a bearer token "pk_…" issued by provisioning.Service.CreateAPIKey (or
// provisiond's api-keys command) becomes the Principal of its key — its partner, exactly its
// permissions, an operator if the key says so. It implements httpapi.Authenticator; in an
// httpapi.Chain it takes the tokens that begin with provisioning.APIKeyPrefix.
//
// Keys are looked up in the Store by their SHA-256 hash and trusted for a short while (CacheTTL,
// at most MaxCacheTTL), so a key revoked or deleted on any replica is refused by every replica
// within that time. An expired key is refused at once. A key's last use is written at most once
// per TouchInterval, not on every request.
package apikey

import (
	"context"
	"sync"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Defaults and bounds of Options.
const (
	DefaultCacheTTL      = 2 * time.Second
	MaxCacheTTL          = 5 * time.Second
	DefaultTouchInterval = time.Minute
	// maxCached bounds the keys the cache holds; past it, arbitrary entries make room.
	maxCached = 10_000
)

// Options configure an Authenticator. Zero values take the defaults.
type Options struct {
	// CacheTTL is how long a key read from the store is trusted: a revoked key is refused
	// within it. Default DefaultCacheTTL; longer than MaxCacheTTL is MaxCacheTTL; negative
	// turns the cache off.
	CacheTTL time.Duration
	// TouchInterval is how stale a key's LastUsedAt may grow before a request writes it again;
	// default DefaultTouchInterval.
	TouchInterval time.Duration
	// Clock is the time keys expire and are used by; default time.Now.
	Clock func() time.Time
}

// Authenticator turns API keys into Principals. It is safe for concurrent use.
type Authenticator struct {
	store provisioning.Store
	opts  Options

	mu      sync.Mutex
	entries map[string]*entry // by hash
}

// entry is a key as the store gave it, until expires.
type entry struct {
	key     *provisioning.APIKey
	expires time.Time
}

// New returns an Authenticator of the keys in store.
func New(store provisioning.Store, opts Options) *Authenticator {
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	opts.CacheTTL = min(opts.CacheTTL, MaxCacheTTL)
	if opts.TouchInterval <= 0 {
		opts.TouchInterval = DefaultTouchInterval
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Authenticator{store: store, opts: opts, entries: map[string]*entry{}}
}

func unauthenticated(msg string) error {
	return provisioning.Errorf(provisioning.CodeUnauthenticated, "%s", msg)
}

// Authenticate implements httpapi.Authenticator. It refuses (CodeUnauthenticated) anything
// that is not the form of a key without looking it up, an unknown or revoked key, and an
// expired one; a store that fails is CodeInternal.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (provisioning.Principal, error) {
	if !provisioning.WellFormedAPIKey(token) {
		return provisioning.Principal{}, unauthenticated("the API key is malformed")
	}
	now := a.opts.Clock()
	hash := provisioning.HashAPIKey(token)
	k, err := a.lookup(ctx, string(hash), now)
	if err != nil {
		return provisioning.Principal{}, err
	}
	if k.Expired(now) {
		return provisioning.Principal{}, unauthenticated("the API key has expired")
	}
	a.touch(ctx, string(hash), k, now)
	return k.Principal(), nil
}

// AuthenticateCached implements httpapi.CachedAuthenticator: it accepts only a key that its
// cache holds — one Authenticate looked up within CacheTTL — and that has not expired, and looks
// up no other: behind an address over its budget of failed authentications, a key in use keeps
// working, and a flood of made-up keys costs no lookup.
func (a *Authenticator) AuthenticateCached(ctx context.Context, token string) (provisioning.Principal, bool) {
	if !provisioning.WellFormedAPIKey(token) {
		return provisioning.Principal{}, false
	}
	now := a.opts.Clock()
	hash := string(provisioning.HashAPIKey(token))
	a.mu.Lock()
	e, ok := a.entries[hash]
	var k *provisioning.APIKey
	if ok && now.Before(e.expires) {
		k = e.key.Clone()
	}
	a.mu.Unlock()
	if k == nil || k.Expired(now) {
		return provisioning.Principal{}, false
	}
	a.touch(ctx, hash, k, now)
	return k.Principal(), true
}

// lookup returns the key stored under hash, from the cache while its entry lives.
func (a *Authenticator) lookup(ctx context.Context, hash string, now time.Time) (*provisioning.APIKey, error) {
	a.mu.Lock()
	e, ok := a.entries[hash]
	if ok && now.Before(e.expires) {
		k := e.key.Clone()
		a.mu.Unlock()
		return k, nil
	}
	delete(a.entries, hash)
	a.mu.Unlock()
	var k *provisioning.APIKey
	err := a.store.Read(ctx, func(tx provisioning.Tx) (err error) {
		k, err = tx.FindAPIKey(ctx, provisioning.FindAPIKeyParams{Hash: []byte(hash)})
		return err
	})
	switch code := provisioning.ErrorCode(err); {
	case code == provisioning.CodeNotFound:
		return nil, unauthenticated("the API key is unknown or revoked")
	case err != nil:
		return nil, provisioning.Internal(err)
	}
	if a.opts.CacheTTL > 0 {
		a.mu.Lock()
		defer a.mu.Unlock()
		if e, ok := a.entries[hash]; ok && now.Before(e.expires) {
			return e.key.Clone(), nil // a concurrent request of the key filled it: one entry, one touch
		}
		for h := range a.entries {
			if len(a.entries) < maxCached {
				break
			}
			delete(a.entries, h) // map iteration order is random enough for eviction
		}
		a.entries[hash] = &entry{key: k.Clone(), expires: now.Add(a.opts.CacheTTL)}
	}
	return k, nil
}

// touch records the key's use when its LastUsedAt is older than TouchInterval. The cached
// entry is marked first, so that concurrent requests of the key write once; a failed write is
// not the request's failure (the next use tries again once the entry is read anew).
func (a *Authenticator) touch(ctx context.Context, hash string, k *provisioning.APIKey, now time.Time) {
	notBefore := now.Add(-a.opts.TouchInterval)
	if !k.LastUsedAt.Before(notBefore) {
		return
	}
	a.mu.Lock()
	if e, ok := a.entries[hash]; ok {
		if !e.key.LastUsedAt.Before(notBefore) {
			a.mu.Unlock()
			return // another request of the key wrote it
		}
		e.key.LastUsedAt = now
	}
	a.mu.Unlock()
	_ = a.store.Write(ctx, func(tx provisioning.Tx) error {
		return tx.TouchAPIKey(ctx, provisioning.TouchAPIKeyParams{ID: k.ID, At: now.UTC().Truncate(time.Millisecond), NotBefore: notBefore})
	})
}
