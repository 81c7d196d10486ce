package httpapi

import (
	"context"
	"strings"

	"github.com/provisiond/provisiond/provisioning"
)

// Route sends the bearer tokens that begin with Prefix to Authenticator; an empty Prefix takes
// every token.
type Route struct {
	Prefix        string
	Authenticator Authenticator
}

// Chain returns an Authenticator that hands each bearer token to one authenticator: that of the
// first route whose prefix the token begins with. A token no route takes is refused
// (CodeUnauthenticated). The answer of the chosen authenticator is final: a token is never
// tried against a second one, so a refused API key cannot be retried as a JWT. provisiond chains
// its two, API keys first:
//
//	httpapi.New(svc, httpapi.Chain(
//		httpapi.Route{Prefix: provisioning.APIKeyPrefix, Authenticator: apikey.New(store, apikey.Options{})},
//		httpapi.Route{Authenticator: jwtAuthenticator},
//	))
//
// A host's own authenticator joins with a route of its own.
//
// The chain is a CachedAuthenticator: it forwards AuthenticateCached to the chosen route's
// authenticator when that is one (provisioning/jwtauth and provisioning/apikey are), and
// accepts nothing from one that is not.
func Chain(routes ...Route) Authenticator { return chain(routes) }

type chain []Route

var _ CachedAuthenticator = chain(nil)

// route returns the route that takes token, or false.
func (c chain) route(token string) (Route, bool) {
	for _, r := range c {
		if strings.HasPrefix(token, r.Prefix) {
			return r, true
		}
	}
	return Route{}, false
}

// AuthenticateCached implements CachedAuthenticator.
func (c chain) AuthenticateCached(ctx context.Context, token string) (provisioning.Principal, bool) {
	r, ok := c.route(token)
	if !ok {
		return provisioning.Principal{}, false
	}
	if cached, ok := r.Authenticator.(CachedAuthenticator); ok {
		return cached.AuthenticateCached(ctx, token)
	}
	return provisioning.Principal{}, false
}

// Authenticate implements Authenticator.
func (c chain) Authenticate(ctx context.Context, token string) (provisioning.Principal, error) {
	if r, ok := c.route(token); ok {
		return r.Authenticator.Authenticate(ctx, token)
	}
	return provisioning.Principal{}, provisioning.Errorf(provisioning.CodeUnauthenticated, "the bearer token is of no kind this server accepts")
}
