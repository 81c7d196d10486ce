package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/apikey"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/jwtauth"
)

// newAuthenticator checks JWTs against the configured key sources, and the dev key in dev
// mode; the role --operator-role makes an operator.
func newAuthenticator(ctx context.Context, c config, dev *devMode) (*jwtauth.Authenticator, error) {
	cfg := jwtauth.Config{JWKSURL: c.jwksURL, Issuer: c.issuer, Audience: c.audience,
		RolesClaim: c.rolesClaim, PartnerClaim: c.partnerClaim, OperatorRole: c.operatorRole}
	if c.jwksFile != "" {
		var err error
		if cfg.JWKS, err = os.ReadFile(c.jwksFile); err != nil {
			return nil, fmt.Errorf("reading --jwks-file: %w", err)
		}
	}
	if dev != nil {
		if cfg.JWKS == nil {
			cfg.JWKS = dev.jwks
		} else {
			var err error
			if cfg.JWKS, err = mergeJWKS(cfg.JWKS, dev.jwks); err != nil {
				return nil, err
			}
		}
	}
	return jwtauth.New(ctx, cfg)
}

// readPolicy reads an RBAC policy file.
func readPolicy(path string) (provisioning.Policy, error) {
	var p provisioning.Policy
	b, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("reading --policy-file: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Roles == nil {
		return p, fmt.Errorf(`--policy-file must be JSON of the form {"roles":{"ROLE":["PERMISSION",…]}}`)
	}
	return p, nil
}

// mergeJWKS joins two JWK Sets.
func mergeJWKS(a, b json.RawMessage) (json.RawMessage, error) {
	var sa, sb struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(a, &sa); err != nil {
		return nil, fmt.Errorf("reading the JWK Set: %w", err)
	}
	if err := json.Unmarshal(b, &sb); err != nil {
		return nil, fmt.Errorf("reading the JWK Set: %w", err)
	}
	sa.Keys = append(sa.Keys, sb.Keys...)
	return json.Marshal(sa)
}

// chain is the server's authenticator: partners' API keys (pk_…) looked up in the store, every
// other bearer token as a JWT.
func chain(store provisioning.Store, jwt *jwtauth.Authenticator) httpapi.Authenticator {
	return httpapi.Chain(
		httpapi.Route{Prefix: provisioning.APIKeyPrefix, Authenticator: apikey.New(store, apikey.Options{})},
		httpapi.Route{Authenticator: jwt},
	)
}
