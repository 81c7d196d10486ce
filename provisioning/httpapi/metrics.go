package httpapi

import (
	"net/http"
	"strconv"
	"sync"
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

	// series caches each label set's counter and histogram (seriesKey → *series), so that a
	// request looks them up in one map read instead of hashing its labels in the vectors. Its
	// keys come from the same fixed sets as the labels.
	series sync.Map
}

type seriesKey struct {
	method, route string
	status        int // 100-599, or -1 for any other
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
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
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 599 {
		status = -1 // "other", whatever it was
	}
	k := seriesKey{methodLabel(method), routeLabel(route), status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &series{
			requests: m.requests.WithLabelValues(k.method, k.route, statusLabel(status)),
			duration: m.duration.WithLabelValues(k.method, k.route),
		})
	}
	sr := v.(*series)
	sr.requests.Inc()
	sr.duration.Observe(d.Seconds())
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
