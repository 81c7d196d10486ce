package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/provisiond/provisiond/provisioning"
)

// codeRateLimited is the problem code of a partner over its request rate.
const codeRateLimited provisioning.Code = "rate_limited"

// limiter holds one token bucket per partner.
type limiter struct {
	every rate.Limit
	burst int
	mu    sync.Mutex
	byID  map[string]*rate.Limiter
}

// WithRateLimit limits each partner to perSecond requests a second on average, with bursts of
// up to burst; requests over it get 429 rate_limited with Retry-After. Without this option
// there is no limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(s *server) {
		s.limits = &limiter{every: rate.Limit(perSecond), burst: max(burst, 1), byID: map[string]*rate.Limiter{}}
	}
}

// wait returns 0 when the partner may proceed, else how long until it may.
func (l *limiter) wait(partner string) time.Duration {
	l.mu.Lock()
	b, ok := l.byID[partner]
	if !ok {
		b = rate.NewLimiter(l.every, l.burst)
		l.byID[partner] = b
	}
	l.mu.Unlock()
	r := b.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d
	}
	return 0
}

// rateLimited answers 429 when the request's partner is over its rate.
func (s *server) rateLimited(w http.ResponseWriter, r *http.Request, partner string) bool {
	if s.limits == nil {
		return false
	}
	d := s.limits.wait(partner)
	if d == 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	s.writeError(w, r, httpError(codeRateLimited, "too many requests; retry after the time in Retry-After"))
	return true
}
