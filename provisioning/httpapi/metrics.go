package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus series of the API, labelled by route pattern (never by raw path,
// so ids cannot blow up the cardinality).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// WithMetrics registers the API's request metrics with reg: provisiond_http_requests_total,
// provisiond_http_request_duration_seconds and provisiond_http_requests_in_flight.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(s *server) {
		m := &metrics{
			requests: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "provisiond_http_requests_total", Help: "HTTP requests by method, route and status.",
			}, []string{"method", "route", "status"}),
			duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Name: "provisiond_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
				Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
			}, []string{"method", "route"}),
			inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
				Name: "provisiond_http_requests_in_flight", Help: "HTTP requests being served.",
			}),
		}
		reg.MustRegister(m.requests, m.duration, m.inFlight)
		s.metrics = m
	}
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}
