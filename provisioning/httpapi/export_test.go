package httpapi

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
