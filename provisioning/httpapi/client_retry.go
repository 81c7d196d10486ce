package httpapi

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// RetryPolicy bounds how the Client retries a call. Zero fields take their defaults.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included; 1 turns retrying off. Default 4.
	MaxAttempts int
	// MaxElapsed is the longest a call goes on retrying: no wait is begun that would end later
	// than this after the call began. Default 30 s.
	MaxElapsed time.Duration
	// BaseDelay is the wait before the second attempt; it doubles for every further one, with
	// jitter (a wait falls between half and all of its value). Default 200 ms.
	BaseDelay time.Duration
	// MaxDelay caps the doubling. A server's Retry-After is honoured as it is, within
	// MaxElapsed. Default 5 s.
	MaxDelay time.Duration
}

// DefaultRetryPolicy returns the policy a Client uses unless WithRetry says otherwise.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MaxElapsed: 30 * time.Second, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts < 1 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = d.MaxElapsed
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	return p
}

// backoff is the wait after the nth failed attempt.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := min(p.BaseDelay<<min(attempt-1, 20), p.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

// retryable reports whether an answer is worth another attempt, and how long the server asked
// to wait first (0: it did not say). Every attempt of a change carries the same
// Idempotency-Key, so another attempt never acts twice.
func retryable(a *answer) (bool, time.Duration) {
	switch a.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true, retryAfter(a.header.Get("Retry-After"), time.Now())
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true, 0
	case http.StatusConflict: // the first attempt is still being answered
		return a.problem() != nil && a.problem().Code == string(provisioning.CodeIdempotencyKeyInUse), 0
	}
	return false, 0
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date. 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
