package provisioning

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// API keys let a partner integrate without an identity provider: a key acts as its partner with
// exactly the permissions it was given (no roles). A key is "pk_" and the unpadded base64url of
// 32 random bytes; it is shown once, when it is issued, and stored only as its SHA-256 hash, by
// which authenticators (provisioning/apikey) look it up. A hash reveals nothing of the key, so
// looking one up leaks nothing by its timing.
//
// A key with Operator set makes its holder an operator (see Principal). Only an operator may
// issue one — through the API, or with provisiond's api-keys command on the database, which is
// how the first operator gets in without an identity provider.

// APIKeyPrefix begins every API key, so that an authenticator chain can tell them from JWTs.
const APIKeyPrefix = "pk_"

// Limits of API keys.
const (
	// MaxAPIKeys is the most keys a partner may have; the store holds it under races.
	MaxAPIKeys    = 100
	MaxAPIKeyName = 255
	// APIKeyShownPrefix is how many of a key's first characters listings show, to tell keys
	// apart: "pk_" and 8 characters, 48 of its 256 random bits.
	APIKeyShownPrefix = 11
	apiKeyRandomBytes = 32
)

// APIKey is a partner's API key as it is stored and listed: everything but the key itself.
type APIKey struct {
	ID          string
	PartnerID   string
	Name        string
	Prefix      string // the key's first APIKeyShownPrefix characters
	Permissions []Permission
	Operator    bool
	ExpiresAt   time.Time // zero: never
	LastUsedAt  time.Time // zero: never used; updated at most about once a minute
	CreatedAt   time.Time
	// Key is the key itself, set only in the result of CreateAPIKey: it is stored nowhere.
	Key string
}

// Clone returns a deep copy of k.
func (k *APIKey) Clone() *APIKey {
	c := *k
	c.Permissions = slices.Clone(k.Permissions)
	return &c
}

// Principal is the principal a request made with the key acts as: its partner, exactly its
// permissions, an operator if the key says so. The subject, which events record as the actor,
// names the key.
func (k *APIKey) Principal() Principal {
	return Principal{PartnerID: k.PartnerID, Subject: "api_key:" + k.ID, Permissions: slices.Clone(k.Permissions),
		Operator: k.Operator, ExpiresAt: k.ExpiresAt}
}

// Expired reports whether the key has expired at now.
func (k *APIKey) Expired(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// APIKeyInput is the body that issues a key.
type APIKeyInput struct {
	Name        string
	Permissions []Permission // at least one; each one the issuer holds itself (unless it is an operator)
	ExpiresAt   time.Time    // zero: never
	Operator    bool         // operators only
}

// HashAPIKey returns the hash under which a key is stored and looked up.
func HashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// WellFormedAPIKey reports whether key has the form of a key CreateAPIKey issues, so that an
// authenticator can refuse anything else without looking it up.
func WellFormedAPIKey(key string) bool {
	rest, ok := strings.CutPrefix(key, APIKeyPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(apiKeyRandomBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

func newAPIKey() (string, error) {
	b := make([]byte, apiKeyRandomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func apiKeyNotFound() error { return Errorf(CodeNotFound, "API key not found") }

// validateAPIKey checks an input and returns it normalized: name trimmed, permissions
// deduplicated in the order of Permissions.
func (s *engine) validateAPIKey(in APIKeyInput) (APIKeyInput, error) {
	fields := map[string]string{}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		fields["name"] = "cannot be blank"
	case utf8.RuneCountInString(in.Name) > MaxAPIKeyName:
		fields["name"] = fmt.Sprintf("must be at most %d characters", MaxAPIKeyName)
	default:
		fields["name"] = textProblem(in.Name)
	}
	var perms []Permission
	for _, want := range in.Permissions {
		switch {
		case want == PermPartnerManage:
			fields["permissions"] = fmt.Sprintf("%s is held by operators only: issue an operator key instead", want)
		case !slices.Contains(Permissions, want):
			fields["permissions"] = fmt.Sprintf("%q is not a permission", truncate(string(want)))
		}
	}
	for _, p := range Permissions {
		if slices.Contains(in.Permissions, p) {
			perms = append(perms, p)
		}
	}
	if len(in.Permissions) == 0 && !in.Operator {
		fields["permissions"] = "must name at least one permission"
	}
	in.Permissions = perms
	in.ExpiresAt = in.ExpiresAt.UTC().Truncate(time.Millisecond)
	if !in.ExpiresAt.IsZero() && (!in.ExpiresAt.After(s.now()) || in.ExpiresAt.After(MaxFilterTime)) {
		fields["expires_at"] = "must be a time in the future, before year 10000"
	}
	return in, problems(fields)
}

// mayGrant refuses a key that would give more than p holds: a permission p lacks, operator
// rights p does not have, or a life beyond the end of p's own credential (so an expiring key
// cannot keep itself alive through a key it issues).
func (s *engine) mayGrant(ctx context.Context, p Principal, in APIKeyInput) error {
	if !p.ExpiresAt.IsZero() && (in.ExpiresAt.IsZero() || in.ExpiresAt.After(p.ExpiresAt)) {
		return Errorf(CodeForbidden, "a key cannot outlive the credential that issues it: give it an expires_at no later than %s",
			p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if p.Operator {
		return nil
	}
	if in.Operator {
		return Errorf(CodeForbidden, "only operators may issue operator keys")
	}
	for _, perm := range in.Permissions {
		if err := s.authz.Authorize(ctx, p, perm); err != nil {
			return Errorf(CodeForbidden, "a key cannot be given %s, which the principal does not hold", perm)
		}
	}
	return nil
}

// CreateAPIKey implements Platform. Returns CodeInvalid also when the partner has MaxAPIKeys
// keys already.
func (s *engine) CreateAPIKey(ctx context.Context, p Principal, partnerID string, in APIKeyInput) (*APIKey, error) {
	if err := s.authorize(ctx, p, PermAPIKeyManage); err != nil {
		return nil, err
	}
	if err := partnerScope(p, partnerID); err != nil {
		return nil, err
	}
	in, err := s.validateAPIKey(in)
	if err != nil {
		return nil, err
	}
	if err := s.mayGrant(ctx, p, in); err != nil {
		return nil, err
	}
	key, err := newAPIKey()
	if err != nil {
		return nil, Internal(err)
	}
	k := &APIKey{ID: s.newID(), PartnerID: partnerID, Name: in.Name, Prefix: key[:APIKeyShownPrefix],
		Permissions: in.Permissions, Operator: in.Operator, ExpiresAt: in.ExpiresAt, CreatedAt: s.timestamp()}
	var inserted bool
	err = s.write(ctx, func(tx Tx) (err error) {
		inserted, err = tx.InsertAPIKey(ctx, InsertAPIKeyParams{Key: k, Hash: HashAPIKey(key), Limit: MaxAPIKeys})
		if err != nil || !inserted {
			return err
		}
		return tx.AppendEvent(ctx, s.apiKeyEvent(ctx, p, EventAPIKeyCreated, k, k.CreatedAt))
	})
	switch {
	case err != nil:
		return nil, err
	case !inserted:
		return nil, InvalidFields(map[string]string{"name": fmt.Sprintf("a partner may have at most %d API keys", MaxAPIKeys)})
	}
	out := k.Clone()
	out.Key = key
	return out, nil
}

// ListAPIKeys implements Platform.
func (s *engine) ListAPIKeys(ctx context.Context, p Principal, partnerID string) ([]*APIKey, error) {
	if err := s.authorize(ctx, p, PermAPIKeyManage); err != nil {
		return nil, err
	}
	if err := partnerScope(p, partnerID); err != nil {
		return nil, err
	}
	var ks []*APIKey
	err := s.read(ctx, func(tx Tx) (err error) {
		ks, err = tx.ListAPIKeys(ctx, ListAPIKeysParams{PartnerID: partnerID})
		return err
	})
	return ks, err
}

// RevokeAPIKey implements Platform.
func (s *engine) RevokeAPIKey(ctx context.Context, p Principal, partnerID, id string) error {
	if err := s.authorize(ctx, p, PermAPIKeyManage); err != nil {
		return err
	}
	if err := partnerScope(p, partnerID); err != nil {
		return err
	}
	id, ok := canonicalID(id)
	if !ok {
		return apiKeyNotFound()
	}
	return s.write(ctx, func(tx Tx) error {
		k, err := tx.GetAPIKey(ctx, GetAPIKeyParams{PartnerID: partnerID, ID: id})
		if err != nil {
			return err
		}
		if err := tx.DeleteAPIKey(ctx, DeleteAPIKeyParams{PartnerID: partnerID, ID: id}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.apiKeyEvent(ctx, p, EventAPIKeyRevoked, k, s.timestamp()))
	})
}

// apiKeyEvent builds the event of a change to a key; it belongs to the key's partner and
// carries the key as listings show it, never the key itself.
func (s *engine) apiKeyEvent(ctx context.Context, p Principal, typ EventType, k *APIKey, at time.Time) *Event {
	c := k.Clone()
	c.Key = ""
	return &Event{ID: s.newID(), Type: typ, PartnerID: k.PartnerID, Actor: p.Subject, RequestID: requestID(ctx),
		CreatedAt: at, APIKey: c}
}
