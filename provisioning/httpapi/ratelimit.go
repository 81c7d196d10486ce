package httpapi

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Rate limits keep one partner, or one client sending bad tokens, from using up the server. Both
// are token buckets, one per key, kept in maps of bounded size:
//   - per partner (WithRateLimit), taken by every authenticated request, announced in the
//     RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers) of every
//     authenticated answer;
//   - per client address (WithFailedAuthLimit), taken by every token that fails
//     authentication; an address whose bucket is empty is answered 429 before its token is
//     checked, so a flood of bad tokens cannot spend the CPU on signature checks — except a
//     token the Authenticator knows to be good without a check (CachedAuthenticator). A
//     request without a token costs nothing to refuse and never meets this limit.

// codeRateLimited is the problem code of a request over a rate limit.
const codeRateLimited provisioning.Code = "rate_limited"

// The default limit of failed authentications per client address.
const (
	DefaultFailedAuthRate  = 10 // a second, on average
	DefaultFailedAuthBurst = 20
)

// How many buckets the maps hold at most: the partners, and the client addresses, that used
// their bucket within its refill time (two seconds at the defaults). Past that, new keys share
// one overflow bucket until full buckets can be swept away.
const (
	maxPartnerBuckets = 50_000
	maxAddressBuckets = 10_000
)

// ratePolicy names the per-partner limit in the RateLimit headers.
const ratePolicy = `"partner"`

// WithRateLimit limits each partner to perSecond requests a second on average, in bursts of up
// to burst; requests over it get 429 rate_limited with Retry-After. Every authenticated answer
// then carries the limit's RateLimit-Policy and RateLimit headers. Without this option, or with
// perSecond 0, partners are not limited.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(s *server) { s.limits = newBuckets(perSecond, burst, maxPartnerBuckets) }
}

// WithFailedAuthLimit limits the bearer tokens from each client address that fail
// authentication to perSecond a second on average, in bursts of up to burst. Once an address
// is over it, its requests get 429 rate_limited with Retry-After without their token being
// checked, until its budget refills — but for a token that the Authenticator, being a
// CachedAuthenticator, accepts without a check (one verified before), which is served. A
// request without a bearer token gets 401 and is neither counted nor refused. The address is
// the host of the connection's remote address (X-Forwarded-For is not trusted), an IPv6
// address counted by its /64. By default the limit is DefaultFailedAuthRate,
// DefaultFailedAuthBurst; perSecond 0 turns it off — do so behind a proxy that hides client
// addresses, which would all count as one.
func WithFailedAuthLimit(perSecond float64, burst int) Option {
	return func(s *server) { s.badAuth = newBuckets(perSecond, burst, maxAddressBuckets) }
}

// bucket is a token bucket: tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

// buckets is a token bucket per key: up to burst tokens each, refilled at rate a second. The
// map holds at most max buckets: a full bucket is the same as a new one, so when the map is at
// its bound the full ones are swept away (at most once per refill time, so that a map of busy
// buckets is not swept on every request); keys that still find no room share one overflow
// bucket.
type buckets struct {
	rate, burst float64
	max         int
	refill      time.Duration // how long an empty bucket takes to fill

	mu        sync.Mutex
	byKey     map[string]*bucket
	overflow  *bucket
	lastSweep time.Time
}

// newBuckets returns the buckets of a limit, or nil (no limit) when perSecond is not a
// positive number.
func newBuckets(perSecond float64, burst, bound int) *buckets {
	if !(perSecond > 0) || math.IsInf(perSecond, 1) {
		return nil
	}
	b := &buckets{rate: perSecond, burst: float64(burst), max: bound, byKey: map[string]*bucket{}}
	b.burst = math.Max(b.burst, 1)
	b.refill = time.Duration(b.burst / b.rate * float64(time.Second))
	b.overflow = &bucket{tokens: b.burst}
	return b
}

// taking is the outcome of taking a token from a bucket.
type taking struct {
	bucket *bucket
	ok     bool          // a token was taken
	left   float64       // the tokens left
	retry  time.Duration // when not ok, how long until a token is there
	full   time.Duration // how long until the bucket is full again
}

// take takes a token from key's bucket at now, if it holds one.
func (b *buckets) take(key string, now time.Time) taking {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.find(key, now)
	b.fill(bk, now)
	t := taking{bucket: bk, ok: bk.tokens >= 1}
	if t.ok {
		bk.tokens--
	} else {
		t.retry = b.until(1 - bk.tokens)
	}
	t.left, t.full = bk.tokens, b.until(b.burst-bk.tokens)
	return t
}

// peek reports whether key's bucket holds a token at now, without taking it, and if not how
// long until it does. A key without a bucket has a full one, and gets none from peeking —
// unless the keys are at their bound, when it would share the overflow bucket.
func (b *buckets) peek(key string, now time.Time) (ok bool, retry time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, found := b.byKey[key]
	switch {
	case !found && len(b.byKey) >= b.max: // as find would: the keys past the bound share one
		bk = b.overflow
	case !found:
		return true, 0
	}
	if b.fill(bk, now); bk.tokens >= 1 {
		return true, 0
	}
	return false, b.until(1 - bk.tokens)
}

// find returns key's bucket, making one when there is room. Call it with mu held.
func (b *buckets) find(key string, now time.Time) *bucket {
	if bk, ok := b.byKey[key]; ok {
		return bk
	}
	if len(b.byKey) >= b.max && now.Sub(b.lastSweep) >= b.refill {
		b.sweep(now)
	}
	if len(b.byKey) >= b.max {
		return b.overflow
	}
	bk := &bucket{tokens: b.burst, at: now}
	b.byKey[key] = bk
	return bk
}

// sweep forgets the buckets that are full again. Call it with mu held.
func (b *buckets) sweep(now time.Time) {
	b.lastSweep = now
	for key, bk := range b.byKey {
		if b.fill(bk, now); bk.tokens >= b.burst {
			delete(b.byKey, key)
		}
	}
}

// fill adds the tokens bk earned since it was last filled. Call it with mu held.
func (b *buckets) fill(bk *bucket, now time.Time) {
	if now.After(bk.at) {
		bk.tokens = math.Min(b.burst, bk.tokens+now.Sub(bk.at).Seconds()*b.rate)
		bk.at = now
	}
}

// until is how long the buckets take to earn n tokens.
func (b *buckets) until(n float64) time.Duration {
	return time.Duration(math.Max(n, 0) / b.rate * float64(time.Second))
}

// policy is the RateLimit-Policy header of the limit: q requests every w seconds, where w is the
// time an empty bucket takes to fill (in whole seconds, rounded up) and q what the rate earns
// in it — at the defaults the burst. The RateLimit header tells how much may be sent at once.
func (b *buckets) policy() string {
	w := max(seconds(b.refill), 1)
	return fmt.Sprintf("%s;q=%d;w=%d", ratePolicy, int64(math.Round(b.rate*float64(w))), w)
}

// state is the RateLimit header after t: r requests may be made at once, and in t seconds the
// bucket is full again.
func (t taking) state() string {
	return fmt.Sprintf("%s;r=%d;t=%d", ratePolicy, int64(t.left), seconds(t.full))
}

// seconds is d in whole seconds, rounded up.
func seconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }

// overPartnerLimit takes a token of the partner's bucket, sets the RateLimit headers, and
// answers 429 when the bucket was empty.
func (s *server) overPartnerLimit(w http.ResponseWriter, r *http.Request, partner string) bool {
	if s.limits == nil {
		return false
	}
	t := s.limits.take(partner, time.Now())
	w.Header().Set("RateLimit-Policy", s.limits.policy())
	w.Header().Set("RateLimit", t.state())
	if t.ok {
		return false
	}
	s.tooManyRequests(w, r, t.retry)
	return true
}

// tooManyRequests answers 429 with the seconds to wait in Retry-After (at least 1).
func (s *server) tooManyRequests(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(max(seconds(retry), 1), 10))
	s.writeError(w, r, httpError(codeRateLimited, "too many requests; retry after the time in Retry-After"))
}

// clientAddress is the key of the request's client for the failed-authentication limit: the
// host of the connection's remote address, an IPv6 address by its /64 (what one subscriber
// usually holds).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if addr = addr.Unmap(); addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
