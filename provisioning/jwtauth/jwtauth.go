// Package jwtauth authenticates bearer JWTs: signatures are checked against a JWK Set (a URL
// refreshed in the background and on an unknown key id, or a static set), claims are checked
// (exp required, nbf/iat with leeway, iss and aud when configured, no crit header), and the
// claims become a provisioning.Principal whose every string is clean and bounded: a claim of
// the wrong type or holding control characters is refused, never skipped. It implements
// httpapi.Authenticator.
package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/provisiond/provisiond/provisioning"
)

// Algorithms are the asymmetric signing algorithms accepted. "none" and HMAC never are, unless
// Config.HMACSecret is set.
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

// Config says where keys come from and how claims are read. At least one of JWKSURL, JWKS and
// HMACSecret must be set.
type Config struct {
	JWKSURL    string          // a JWK Set served over HTTP, refreshed in the background
	JWKS       json.RawMessage // a static JWK Set (e.g. the contents of a file)
	HMACSecret []byte          // development only: also accept HS256/384/512 with this secret

	Issuer   string // required iss, when set
	Audience string // required aud, when set

	Leeway          time.Duration // clock skew allowed for exp, nbf, iat; default 10s
	CacheTTL        time.Duration // how long a verified token is trusted without a new check; default 1m, negative: never (see AuthenticateCached)
	RefreshInterval time.Duration // background refresh of JWKSURL; default 5m
	HTTPClient      *http.Client  // for JWKSURL; default: a client with a 10s timeout

	// The claims the Principal is read from. Each names a top-level claim, or when no claim has
	// exactly that name, a dot path into nested objects (e.g. "realm_access.roles").
	RolesClaim       string // an array of role names, or one role as a string; default "roles"
	PermissionsClaim string // an array of permissions; default "permissions"
	ScopeClaim       string // space-separated OAuth scopes, taken as permissions; default "scope"
	PartnerClaim     string // the partner id; default "partner_id", falling back to sub only when absent

	// OperatorRole, when set, makes a principal whose roles include it an operator
	// (provisioning.Principal.Operator): it acts across partners. provisiond sets it from
	// --operator-role ("operator" by default).
	OperatorRole string
}

// Authenticator checks tokens. Its background refresh stops when the context given to New ends.
type Authenticator struct {
	cfg    Config
	keys   keyfunc.Keyfunc
	parser *jwt.Parser
	cache  tokenCache
}

// New returns an Authenticator for cfg. A JWKS URL that cannot be reached at start is not an
// error: keys are fetched again in the background, and Ready reports whether any are loaded.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	if cfg.JWKSURL == "" && len(cfg.JWKS) == 0 && len(cfg.HMACSecret) == 0 {
		return nil, errors.New("jwtauth: no key source: set a JWKS URL, a JWKS or an HMAC secret")
	}
	defaults(&cfg)
	a := &Authenticator{cfg: cfg, cache: tokenCache{ttl: cfg.CacheTTL}}
	var static jwkset.Storage = jwkset.NewMemoryStorage()
	if len(cfg.JWKS) > 0 {
		var set jwkset.JWKSMarshal
		if err := json.Unmarshal(cfg.JWKS, &set); err != nil {
			return nil, fmt.Errorf("jwtauth: reading the JWK Set: %w", err)
		}
		var err error
		if static, err = set.ToStorage(); err != nil {
			return nil, fmt.Errorf("jwtauth: reading the JWK Set: %w", err)
		}
	}
	var err error
	if cfg.JWKSURL != "" {
		a.keys, err = keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
			Client:            cfg.HTTPClient,
			Given:             static,
			RefreshInterval:   cfg.RefreshInterval,
			RefreshUnknownKID: rate.NewLimiter(rate.Every(2*time.Second), 1),
			RateLimitWaitMax:  time.Second,
			RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
				return func(context.Context, error) {} // Ready reports a key set that never loaded
			},
		})
	} else {
		a.keys, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: static})
	}
	if err != nil {
		return nil, fmt.Errorf("jwtauth: %w", err)
	}
	methods := Algorithms
	if len(cfg.HMACSecret) > 0 {
		methods = append([]string{"HS256", "HS384", "HS512"}, methods...)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway), jwt.WithIssuedAt()}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

func defaults(cfg *Config) {
	if cfg.Leeway == 0 {
		cfg.Leeway = 10 * time.Second
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = time.Minute
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = 5 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	for p, def := range map[*string]string{&cfg.RolesClaim: "roles", &cfg.PermissionsClaim: "permissions",
		&cfg.ScopeClaim: "scope", &cfg.PartnerClaim: "partner_id"} {
		if *p == "" {
			*p = def
		}
	}
}

// Ready reports whether any verification key is loaded. While none is, it asks for the JWK Set
// again (at most one fetch per two seconds), so an identity provider that starts after
// provisiond is picked up at the next readiness probe rather than the next periodic refresh.
func (a *Authenticator) Ready(ctx context.Context) error {
	if len(a.cfg.HMACSecret) > 0 {
		return nil
	}
	keys, err := a.keys.Storage().KeyReadAll(ctx)
	if err == nil && len(keys) == 0 && a.cfg.JWKSURL != "" {
		// An unknown key id makes the storage refresh from the URL.
		_, _ = a.keys.Storage().KeyRead(ctx, "provisiond-readiness-probe")
		keys, err = a.keys.Storage().KeyReadAll(ctx)
	}
	if err != nil {
		return fmt.Errorf("jwtauth: reading keys: %w", err)
	}
	if len(keys) == 0 {
		return errors.New("jwtauth: no signing keys loaded yet")
	}
	return nil
}

// Authenticate implements httpapi.Authenticator. Every failure is a CodeUnauthenticated error
// whose message says what was wrong without echoing the token.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (provisioning.Principal, error) {
	now := time.Now()
	if p, ok := a.cache.get(token, now); ok {
		return p, nil
	}
	return a.verify(ctx, token, now)
}

// AuthenticateCached implements httpapi.CachedAuthenticator: it accepts only tokens that
// Authenticate accepted before and that have not expired, and checks no other — a token it has
// not seen, or one that failed, gets false at once, before any signature check or key fetch.
// A token verified within CacheTTL is answered from the cache; one verified longer ago is
// verified again (a key withdrawn from the JWKS is noticed then), at most once per CacheTTL
// while it keeps passing. So behind an address that is over its budget of failed
// authentications, a partner whose token was verified once keeps getting through for the
// token's lifetime, within the cache's bounds. With caching off (a negative CacheTTL) it
// accepts nothing.
func (a *Authenticator) AuthenticateCached(ctx context.Context, token string) (provisioning.Principal, bool) {
	now := time.Now()
	if p, ok := a.cache.get(token, now); ok {
		return p, true
	}
	if !a.cache.known(token, now) {
		return provisioning.Principal{}, false
	}
	p, err := a.verify(ctx, token, now)
	return p, err == nil
}

// verify checks the token's signature and claims, and caches the principal of one that passes;
// one that fails is forgotten, should it have been cached.
func (a *Authenticator) verify(ctx context.Context, token string, now time.Time) (provisioning.Principal, error) {
	p, exp, err := a.check(ctx, token)
	if err != nil {
		a.cache.forget(token)
		return provisioning.Principal{}, err
	}
	if !exp.IsZero() {
		a.cache.put(token, p, exp, now)
	}
	return p, nil
}

// check verifies the token and reads its principal and expiry.
func (a *Authenticator) check(ctx context.Context, token string) (provisioning.Principal, time.Time, error) {
	keyfn := a.keys.KeyfuncCtx(ctx)
	claims := jwt.MapClaims{}
	t, err := a.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if _, hmac := t.Method.(*jwt.SigningMethodHMAC); hmac {
			return a.cfg.HMACSecret, nil // reached only when HMAC is allowed
		}
		return keyfn(t)
	})
	if err != nil {
		return provisioning.Principal{}, time.Time{}, a.unauthenticated(err, claims)
	}
	if err := checkCrit(t.Header); err != nil {
		return provisioning.Principal{}, time.Time{}, err
	}
	p, err := a.principal(claims)
	if err != nil {
		return provisioning.Principal{}, time.Time{}, err
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil { // the parser requires it
		return p, exp.Time, nil
	}
	return p, time.Time{}, nil
}
