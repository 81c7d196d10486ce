// Package httpapi is the optional net/http adapter of provisiond: it serves the REST API (its
// OpenAPI document is served at BasePath/openapi.json) over any provisioning.Provisioner,
// authenticating bearer tokens with an Authenticator. Mount the handler from New in any mux, or serve it as it is.
//
// The package also holds the Go client of the API (NewClient): a provisioning.Provisioner that
// calls a server over HTTP, with the same answers and error codes as the in-process Service.
// Both sides read and write the JSON of provisioning/wire.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/provisiond/provisiond/provisioning"
)

// BasePath is the prefix of every API route.
const BasePath = "/api/provisioning"

// DefaultMaxBodyBytes is the largest request body accepted unless WithMaxBodyBytes says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Authenticator turns a bearer token into a Principal. It returns an error with
// provisioning.CodeUnauthenticated when the token is not acceptable; provisioning/jwtauth
// implements it for JWTs, provisioning/apikey for partners' API keys, and Chain joins several.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (provisioning.Principal, error)
}

// CachedAuthenticator is an Authenticator that can also accept, cheaply — without a signature
// check or any I/O for a token it has not accepted before — a token it already knows to be
// good; provisioning/jwtauth implements it with its cache of verified tokens. The
// failed-authentication limit uses it, and only it: a client address over its budget is
// answered 429 before any token is checked, except a token that AuthenticateCached accepts.
// AuthenticateCached must accept only tokens that Authenticate would accept, with the same
// Principal.
//
// It is an optional interface, found by a type assertion on the Authenticator given to New,
// because it is only a matter of speed, never of correctness: without it (or behind a wrapper
// that hides it), every request from an address over its budget gets 429, valid or not, and
// Authenticate alone decides what is valid. A wrapper should forward it when it can.
type CachedAuthenticator interface {
	Authenticator
	AuthenticateCached(ctx context.Context, token string) (provisioning.Principal, bool)
}

// Option configures the handler built by New.
type Option func(*server)

// WithLogger sets where the one line per request and internal errors are logged.
func WithLogger(l *slog.Logger) Option { return func(s *server) { s.log = l } }

// WithMaxBodyBytes sets the largest request body accepted; larger ones get 413.
func WithMaxBodyBytes(n int64) Option { return func(s *server) { s.maxBody = n } }

// WithPlatform serves the partner registry and partners' API keys (/partners…) through
// platform — provisiond passes the same *provisioning.Service as the Provisioner. Without it
// those routes do not exist (404).
func WithPlatform(platform provisioning.Platform) Option {
	return func(s *server) { s.platform = platform }
}

// WithReadiness adds a check that /readyz runs; the handler is ready when every check returns nil.
func WithReadiness(check func(context.Context) error) Option {
	return func(s *server) { s.ready = append(s.ready, check) }
}

// server holds the dependencies the handlers share.
type server struct {
	prov     provisioning.Provisioner
	platform provisioning.Platform // nil without WithPlatform
	authn    Authenticator
	cached   CachedAuthenticator // authn, when it is one
	log      *slog.Logger
	maxBody  int64
	ready    []func(context.Context) error
	metrics  *metrics    // nil without WithMetrics
	idem     Idempotency // nil without WithIdempotency: keyed changes are refused
	limits   *buckets    // per partner; nil without WithRateLimit
	badAuth  *buckets    // failed authentications per client address; nil when turned off
}

// New returns the http.Handler serving the API under BasePath, plus /healthz and /readyz, over
// prov. Changes honour the Idempotency-Key header with WithIdempotency:
//
//	svc := provisioning.New(store, authz, provisioning.WithMiddleware(metrics))
//	h := httpapi.New(svc, authn, httpapi.WithIdempotency(svc))
//
// New panics when WithIdempotency names a Service and prov is not that Service (a wrapper of
// it, say): keyed changes would run through the Service without the wrapper. Decorate the
// Service with provisioning.WithMiddleware instead.
func New(prov provisioning.Provisioner, authn Authenticator, opts ...Option) http.Handler {
	s := &server{prov: prov, authn: authn, maxBody: DefaultMaxBodyBytes,
		log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	s.badAuth = newBuckets(DefaultFailedAuthRate, DefaultFailedAuthBurst, maxAddressBuckets)
	s.cached, _ = authn.(CachedAuthenticator)
	for _, o := range opts {
		o(s)
	}
	if svc, ok := s.idem.(*provisioning.Service); ok && provisioning.Provisioner(svc) != prov {
		// A keyed change runs through the Service WithIdempotency names, so a wrapper around it
		// served here would be bypassed exactly for keyed requests: refuse to be built so.
		panic("httpapi: New serves a Provisioner other than the Service given to WithIdempotency; " +
			"serve the Service itself and decorate it with provisioning.WithMiddleware")
	}
	return s.routes()
}
