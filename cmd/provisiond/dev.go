package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning/jwtauth"
)

// devKeyPath is where --dev keeps its signing key: beside the SQLite database, or in the
// working directory for other stores.
func devKeyPath(databaseURL string) string {
	if path, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok && path != "" {
		return path + ".devkey"
	}
	return "provisiond.devkey"
}

// loadDevSigner reads the development key; when there is none yet, create makes it, else it
// fails saying how to make one.
func loadDevSigner(path string, create bool) (*jwtauth.Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !create {
		return nil, fmt.Errorf("no development key at %s: run 'provisiond --dev' with the same --database-url first, which makes it", path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		_, key, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		der, merr := x509.MarshalPKCS8PrivateKey(key)
		if merr != nil {
			return nil, merr
		}
		b = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err = os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("writing the dev key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("reading the dev key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("the dev key %s is not PEM", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the dev key %s: %w", path, err)
	}
	signer, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the dev key %s is not an Ed25519 key", path)
	}
	return jwtauth.NewSigner(signer)
}

// devMode is what --dev adds: the local signing key and its public JWK Set.
type devMode struct {
	signer *jwtauth.Signer
	jwks   json.RawMessage
}

// loadDev loads (or makes) the dev key; nil outside --dev.
func loadDev(c config) (*devMode, error) {
	if !c.dev {
		return nil, nil
	}
	signer, err := loadDevSigner(devKeyPath(c.databaseURL), true)
	if err != nil {
		return nil, err
	}
	jwks, err := signer.JWKS()
	if err != nil {
		return nil, err
	}
	return &devMode{signer: signer, jwks: jwks}, nil
}

const devPartner = "dev-partner"

// printDevBanner shows a newcomer a ready token and how to use it.
func printDevBanner(w io.Writer, s *jwtauth.Signer, base string, c config) error {
	token, err := s.Mint(jwtauth.Claims{Issuer: c.issuer, Audience: c.audience, Subject: "dev-user",
		PartnerID: devPartner, Roles: []string{"partner-admin"}, TTL: 24 * time.Hour})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, `
DEVELOPMENT MODE: tokens are signed by a local key; never expose this server.
A partner-admin token for partner %q, valid 24h (mint more: provisiond token --partner ID):

  export TOKEN=%s

Create a tenant:

  curl -s -X POST %s/api/provisioning/tenants \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"company_name":"Example Corp","email":"admin@example.com"}'

List them:

  curl -s -H "Authorization: Bearer $TOKEN" %s/api/provisioning/tenants

`, devPartner, token, base, base)
	return err
}

// runToken mints a development token with the dev key.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	var partner, subject, roles, perms string
	var ttl time.Duration
	fs := newFlagSet("provisiond token", tokenUsage, stderr)
	storeFlags(fs, &c)
	fs.StringVar(&partner, "partner", "", "partner id (required)")
	fs.StringVar(&subject, "subject", "", "sub claim (default: the partner id)")
	fs.StringVar(&roles, "roles", "", "comma-separated roles (default partner-admin when no permissions are given)")
	fs.StringVar(&perms, "permissions", "", "comma-separated permissions, e.g. tenant:read,tenant:create")
	fs.StringVar(&c.issuer, "issuer", "", "iss claim")
	fs.StringVar(&c.audience, "audience", "", "aud claim")
	fs.DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if partner == "" {
		return errors.New("token: --partner is required")
	}
	if ttl <= 0 {
		return errors.New("token: --ttl must be positive")
	}
	if subject == "" {
		subject = partner
	}
	if roles == "" && perms == "" {
		roles = "partner-admin"
	}
	// The server's default --database-url, and so its dev key, unless told otherwise.
	s, err := loadDevSigner(devKeyPath(c.databaseURL), false)
	if err != nil {
		return err
	}
	token, err := s.Mint(jwtauth.Claims{Issuer: c.issuer, Audience: c.audience, Subject: subject,
		PartnerID: partner, Roles: split(roles), Permissions: split(perms), TTL: ttl})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

// split turns a comma-separated list into its non-empty, trimmed items.
func split(s string) []string {
	items := []string{}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
