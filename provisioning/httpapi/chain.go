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
func Chain(routes ...Route) Authenticator { return chain(routes) }

type chain []Route

// Authenticate implements Authenticator.
func (c chain) Authenticate(ctx context.Context, token string) (provisioning.Principal, error) {
	for _, r := range c {
		if strings.HasPrefix(token, r.Prefix) {
			return r.Authenticator.Authenticate(ctx, token)
		}
	}
	return provisioning.Principal{}, provisioning.Errorf(provisioning.CodeUnauthenticated, "the bearer token is of no kind this server accepts")
}
