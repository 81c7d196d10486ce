package jwtauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Signer mints tokens with one private key and publishes the public half as a JWK Set. It
// serves provisiond's development mode and tests; production tokens come from an identity
// provider.
type Signer struct {
	key    crypto.Signer
	kid    string
	method jwt.SigningMethod
}

// NewSigner returns a Signer for an RSA (RS256), ECDSA P-256/P-384 (ES256/ES384) or Ed25519
// (EdDSA) private key. Its key id is derived from the public key.
func NewSigner(key crypto.Signer) (*Signer, error) {
	var method jwt.SigningMethod
	switch k := key.(type) {
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS256
	case *ecdsa.PrivateKey:
		switch k.Curve.Params().BitSize {
		case 256:
			method = jwt.SigningMethodES256
		case 384:
			method = jwt.SigningMethodES384
		default:
			return nil, errors.New("jwtauth: only P-256 and P-384 ECDSA keys are supported")
		}
	case ed25519.PrivateKey:
		method = jwt.SigningMethodEdDSA
	default:
		return nil, fmt.Errorf("jwtauth: unsupported key type %T", key)
	}
	return NewSignerWithMethod(key, method)
}

// NewSignerWithMethod is NewSigner with an explicit algorithm, e.g. PS256 for an RSA key.
func NewSignerWithMethod(key crypto.Signer, method jwt.SigningMethod) (*Signer, error) {
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("jwtauth: %w", err)
	}
	sum := sha256.Sum256(append([]byte(method.Alg()), pub...))
	return &Signer{key: key, method: method, kid: base64.RawURLEncoding.EncodeToString(sum[:12])}, nil
}

// KeyID returns the kid that tokens carry and the JWK Set names.
func (s *Signer) KeyID() string { return s.kid }

// JWKS returns the public JWK Set with the signer's key.
func (s *Signer) JWKS() (json.RawMessage, error) {
	jwk, err := jwkset.NewJWKFromKey(s.key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		KID: s.kid, ALG: jwkset.ALG(s.method.Alg()), USE: jwkset.UseSig}})
	if err != nil {
		return nil, fmt.Errorf("jwtauth: %w", err)
	}
	store := jwkset.NewMemoryStorage()
	if err := store.KeyWrite(context.Background(), jwk); err != nil {
		return nil, fmt.Errorf("jwtauth: %w", err)
	}
	return store.JSONPublic(context.Background())
}

// Claims describes a token to mint.
type Claims struct {
	Issuer, Audience, Subject string
	PartnerID                 string
	Roles, Permissions        []string
	TTL                       time.Duration  // default one hour
	Extra                     map[string]any // further claims, overriding the ones above
}

// Mint returns a signed token for the claims, valid from now for c.TTL.
func (s *Signer) Mint(c Claims) (string, error) {
	if c.TTL == 0 {
		c.TTL = time.Hour
	}
	now := time.Now()
	mc := jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(c.TTL).Unix()}
	for k, v := range map[string]string{"iss": c.Issuer, "aud": c.Audience, "sub": c.Subject, "partner_id": c.PartnerID} {
		if v != "" {
			mc[k] = v
		}
	}
	if c.Roles != nil {
		mc["roles"] = c.Roles
	}
	if c.Permissions != nil {
		mc["permissions"] = c.Permissions
	}
	for k, v := range c.Extra {
		mc[k] = v
	}
	return s.Sign(mc, nil)
}

// Sign signs exactly the claims given, with alg, typ and kid in the header plus the extra
// header fields (which override them). It makes the tokens Mint would not, e.g. without exp
// or with a crit header.
func (s *Signer) Sign(claims map[string]any, header map[string]any) (string, error) {
	t := jwt.NewWithClaims(s.method, jwt.MapClaims(claims))
	t.Header["kid"] = s.kid
	for k, v := range header {
		t.Header[k] = v
	}
	return t.SignedString(s.key)
}
