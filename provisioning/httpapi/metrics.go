package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus series of the API. Every label value comes from a fixed set, so
// no request can add series: the method is a standard one or "other", the route a registered
// pattern or "unmatched" (never the raw path, which holds ids), the status a code net/http
// knows or its class.
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

// observe records one request, with the labels as methodLabel, routeLabel and statusLabel
// make them.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	method, route = methodLabel(method), routeLabel(route)
	m.requests.WithLabelValues(method, route, statusLabel(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// methodLabel is a request method as the metrics and the log show it: one of the methods of
// RFC 9110 and PATCH, else "other", whatever a client invents.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// routeLabel is the registered pattern that served a request, or "unmatched" when none did.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	return pattern
}

// statusLabel is a response status as the metrics show it: a code net/http knows, else its
// class ("4xx"), else "other". A handler that wrote nothing answered 200.
func statusLabel(status int) string {
	switch {
	case status == 0:
		return "200"
	case http.StatusText(status) != "":
		return strconv.Itoa(status)
	case status >= 100 && status <= 599:
		return strconv.Itoa(status/100) + "xx"
	}
	return "other"
}
