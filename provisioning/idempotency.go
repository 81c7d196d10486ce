package provisioning

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// Idempotency: a partner may send a change with a key; the first answer is kept for 24 hours
// and given again for every retry with that key, so a retried request never acts twice. The
// answer is opaque here — the adapter encodes it — so the domain stays free of HTTP.

// The error codes of idempotency keys.
const (
	// CodeIdempotencyKeyReused: the key was used before for a different request.
	CodeIdempotencyKeyReused Code = "idempotency_key_reused"
	// CodeIdempotencyKeyInUse: the first request with the key is still being processed.
	CodeIdempotencyKeyInUse Code = "idempotency_key_in_use"
)

// Limits of idempotency keys.
const (
	MaxIdempotencyKey = 255
	// IdempotencyTTL is how long an answer is kept and replayed.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLockTimeout is how long a claimed key whose request never finished (its
	// server crashed) blocks retries before a retry may claim it again.
	IdempotencyLockTimeout = time.Minute
)

// IdempotencyRecord is what a Store keeps for a key.
type IdempotencyRecord struct {
	PartnerID   string
	Key         string
	Fingerprint string    // identifies the request; a retry must match it
	Response    []byte    // the answer to replay; nil while the first request is in flight
	LockedAt    time.Time // when the key was claimed
	ExpiresAt   time.Time // when the record may be forgotten
}

// ClaimIdempotencyKey starts a request made with an idempotency key. It returns (nil, nil)
// when the caller now holds the key and must end with CompleteIdempotencyKey or
// ReleaseIdempotencyKey; the stored answer when the request was answered before; an error with
// CodeIdempotencyKeyReused when the key was used for a different request (another
// fingerprint), CodeIdempotencyKeyInUse while the first request is in flight, or CodeBadRequest
// for a malformed key.
func (s *Service) ClaimIdempotencyKey(ctx context.Context, p Principal, key, fingerprint string) ([]byte, error) {
	if p.PartnerID == "" {
		return nil, Errorf(CodeUnauthenticated, "no partner identified")
	}
	if key == "" || len(key) > MaxIdempotencyKey || strings.IndexFunc(key, func(r rune) bool { return !unicode.IsPrint(r) || r > unicode.MaxASCII }) >= 0 {
		return nil, Errorf(CodeBadRequest, "Idempotency-Key must be 1 to %d printable ASCII characters", MaxIdempotencyKey)
	}
	now := s.timestamp()
	rec := &IdempotencyRecord{PartnerID: p.PartnerID, Key: key, Fingerprint: fingerprint,
		LockedAt: now, ExpiresAt: now.Add(IdempotencyTTL)}
	var held *IdempotencyRecord
	err := s.store.Write(ctx, func(tx Tx) (err error) {
		held, err = tx.ClaimIdempotencyKey(ctx, rec, now, now.Add(-IdempotencyLockTimeout))
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case held == nil:
		return nil, nil
	case held.Fingerprint != fingerprint:
		return nil, Errorf(CodeIdempotencyKeyReused, "this Idempotency-Key was used for a different request")
	case held.Response == nil:
		return nil, Errorf(CodeIdempotencyKeyInUse, "a request with this Idempotency-Key is still in progress; retry later")
	}
	return held.Response, nil
}

// CompleteIdempotencyKey stores the answer to replay for a key the caller claimed.
func (s *Service) CompleteIdempotencyKey(ctx context.Context, p Principal, key string, response []byte) error {
	return s.store.Write(ctx, func(tx Tx) error { return tx.CompleteIdempotencyKey(ctx, p.PartnerID, key, response) })
}

// ReleaseIdempotencyKey forgets a key the caller claimed, so that a retry runs afresh: for
// answers that must not be replayed, such as internal errors.
func (s *Service) ReleaseIdempotencyKey(ctx context.Context, p Principal, key string) error {
	return s.store.Write(ctx, func(tx Tx) error { return tx.ReleaseIdempotencyKey(ctx, p.PartnerID, key) })
}

// PurgeIdempotencyKeys forgets the records that expired; provisiond runs it periodically.
func (s *Service) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.Write(ctx, func(tx Tx) (err error) { n, err = tx.PurgeIdempotencyKeys(ctx, s.timestamp()); return err })
	return n, err
}
