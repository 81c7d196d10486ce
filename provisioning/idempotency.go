package provisioning

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
)

// Idempotency: a partner may send a change with a key; the first answer is kept for 24 hours
// and given again for every retry with that key, so a retried request never acts twice. The
// answer is opaque here — the adapter encodes it — so the domain stays free of HTTP.
//
// Keys are the partner's, shared by all its principals, and those may hold different
// permissions: a replay is authorized like a first request, so a principal without the
// permission of the request never receives another principal's kept answer.
//
// The change and its answer commit in one transaction: a crash leaves either both or neither,
// never a change without the answer that a retry must be given.

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
)

// IdempotencyRecord is what a Store keeps for a key: the answer of the first request made
// with it.
type IdempotencyRecord struct {
	PartnerID   string
	Key         string
	Fingerprint string    // identifies the request; a retry must match it
	Response    []byte    // the answer to replay
	CreatedAt   time.Time // when the first request was answered
	ExpiresAt   time.Time // when the record may be forgotten
	// TenantIDs are the tenants whose data the answer may hold: every tenant the request named
	// or created. Purging one of them deletes the record (Tx.PurgeTenant).
	TenantIDs []string
}

// errInUse is the error of a key whose first request is still being answered.
func errInUse() error {
	return Errorf(CodeIdempotencyKeyInUse, "a request with this idempotency key is still in progress; retry later")
}

// errDiscard rolls back the transaction of an answer that is not kept.
var errDiscard = errors.New("provisioning: answer not kept")

// Idempotently answers a request made with an idempotency key. perm is the permission the
// request needs: p must hold it before anything else happens, on a replay as on the first
// request, so a principal without it is refused (CodeForbidden) and never given the kept answer
// of another principal of its partner.
//
// The first time, it runs do in one transaction of the store, handing it prov, the Service
// bound to that transaction (as WithTx binds it, its middleware included; being a *Service, it
// is also the Platform bound to that transaction, which httpapi's partner routes use). An
// operator's answer is kept apart: a principal that is not an operator, sending the same
// request with the key, gets CodeIdempotencyKeyReused, never the answer. The transaction
// begins when do first reaches the store, so what do does before — decoding, validation,
// resolving a webhook's host — holds no lock and no connection of the store. do makes the
// request's changes through prov and returns the encoded answer and whether to keep it. A kept
// answer commits together with those changes; one not kept (an internal error, a refusal) rolls
// them back, so that a retry runs afresh. Later calls with the key get the kept answer back, with
// replayed set, and do is not run. The kept answer lists the tenants that prov's calls named or
// created (IdempotencyRecord.TenantIDs), so that purging one of them forgets it. do must reach
// the store only through prov: on stores that run one write at a time (memory, SQLite) a write
// begun otherwise would wait for this transaction, which waits for do.
//
// It fails with CodeUnauthenticated or CodeForbidden as every method does, then
// CodeIdempotencyKeyReused when the key was used for another request (another fingerprint),
// CodeIdempotencyKeyInUse while the first request is still running (here, or on another replica
// where the store can tell), CodeBadRequest for a malformed key, and CodeInternal on a Service
// from WithTx, whose transaction cannot keep an answer apart from its caller's work. A panic in
// do rolls back and is re-raised.
func (s *Service) Idempotently(ctx context.Context, p Principal, perm Permission, key, fingerprint string,
	do func(prov Provisioner) (answer []byte, keep bool)) (answer []byte, replayed bool, err error) {
	e := s.e
	if err := e.authorize(ctx, p, perm); err != nil {
		return nil, false, err
	}
	if key == "" || len(key) > MaxIdempotencyKey || strings.IndexFunc(key, func(r rune) bool { return !unicode.IsPrint(r) || r > unicode.MaxASCII }) >= 0 {
		return nil, false, Errorf(CodeBadRequest, "an idempotency key must be 1 to %d printable ASCII characters", MaxIdempotencyKey)
	}
	if e.tx != nil {
		return nil, false, Internal(errors.New("provisioning: Idempotently on a Service bound to a transaction"))
	}
	if p.Operator {
		// An operator's answer may be about another partner (an API key it issued one): a
		// principal of its partner that is not an operator never gets it back, only
		// CodeIdempotencyKeyReused.
		fingerprint += "\x00operator"
	}
	// In flight here: answered at once. In flight on another replica: LockIdempotencyKey tells.
	slot := [2]string{p.PartnerID, key}
	if _, busy := e.inFlight.LoadOrStore(slot, struct{}{}); busy {
		return nil, false, errInUse()
	}
	defer e.inFlight.Delete(slot)
	now := e.timestamp()
	// A retry of an answered request is answered from a read: do does not run again.
	var kept *IdempotencyRecord
	if err := e.store.Read(ctx, func(tx Tx) (err error) {
		kept, err = tx.GetIdempotencyRecord(ctx, &GetIdempotencyRecordParams{PartnerID: p.PartnerID, Key: key, Now: now})
		return err
	}); err != nil {
		return nil, false, err
	}
	if kept != nil {
		return replay(kept, fingerprint)
	}
	// The transaction begins when do first reaches the store (or after do, if it never does),
	// and takes the key first thing.
	l := &lazyTx{ctx: ctx, store: e.store, first: func(tx Tx) error {
		rec, locked, err := tx.LockIdempotencyKey(ctx, &LockIdempotencyKeyParams{PartnerID: p.PartnerID, Key: key, Now: now})
		switch {
		case err != nil:
			return err
		case !locked:
			return errInUse()
		case rec != nil:
			kept = rec
			return errAnsweredBefore
		}
		return nil
	}}
	var keep, panicked = false, any(nil)
	touched := &involvement{}
	func() {
		defer func() {
			if panicked = recover(); panicked != nil {
				_ = l.end(errDiscard)
			}
		}()
		answer, keep = do(e.recording(l.get, touched))
	}()
	if panicked != nil {
		panic(panicked)
	}
	if _, err := l.get(); err != nil { // do never reached the store, or the key was taken meanwhile
		if kept != nil {
			return replay(kept, fingerprint)
		}
		return nil, false, err
	}
	if !keep {
		if err := l.end(errDiscard); err != nil && !errors.Is(err, errDiscard) {
			return nil, false, err
		}
		return answer, false, nil
	}
	if answer == nil {
		answer = []byte{}
	}
	put := l.tx.PutIdempotencyRecord(ctx, &IdempotencyRecord{PartnerID: p.PartnerID, Key: key,
		Fingerprint: fingerprint, Response: answer, CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL),
		TenantIDs: touched.ids})
	if err := l.end(put); err != nil {
		return nil, false, err
	}
	return answer, false, nil
}

// replay gives the kept answer of a key to a request with the same fingerprint.
func replay(kept *IdempotencyRecord, fingerprint string) ([]byte, bool, error) {
	if kept.Fingerprint != fingerprint {
		return nil, false, Errorf(CodeIdempotencyKeyReused, "this idempotency key was used for a different request")
	}
	return kept.Response, true, nil
}

// errAnsweredBefore ends the transaction of a request whose key turned out to hold a kept
// answer: Idempotently gives that answer instead of the one do made.
var errAnsweredBefore = Errorf(CodeIdempotencyKeyInUse, "this idempotency key was answered meanwhile")
