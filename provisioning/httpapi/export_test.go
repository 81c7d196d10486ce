package httpapi

import (
	"context"
	"time"
)

// WithLimiterBound sets how many buckets each rate limit keeps, so that tests can reach the
// bound. Give it after WithRateLimit and WithFailedAuthLimit.
func WithLimiterBound(n int) Option {
	return func(s *server) {
		for _, b := range []*buckets{s.limits, s.badAuth} {
			if b != nil {
				b.max = n
			}
		}
	}
}

// WithSleep replaces how the client waits between attempts, so that a test sees the waits
// without spending them.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) ClientOption {
	return func(c *Client) { c.sleep = sleep }
}
