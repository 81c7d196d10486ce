package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

const (
	// qClaim inserts the record, or takes over one that expired or whose request never
	// finished; it returns a row only when the caller got the key. The unique key makes one of
	// concurrent claims win.
	qClaim = `INSERT INTO idempotency_keys (partner_id, idem_key, fingerprint, response, locked_at, expires_at)
		VALUES (?, ?, ?, NULL, ?, ?)
		ON CONFLICT (partner_id, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, response = NULL,
			locked_at = excluded.locked_at, expires_at = excluded.expires_at
		WHERE idempotency_keys.expires_at <= ?
			OR (idempotency_keys.response IS NULL AND idempotency_keys.locked_at <= ?)
		RETURNING partner_id`
	qIdemGet = `SELECT partner_id, idem_key, fingerprint, response, locked_at, expires_at
		FROM idempotency_keys WHERE partner_id = ? AND idem_key = ?`
	qIdemComplete = `UPDATE idempotency_keys SET response = ? WHERE partner_id = ? AND idem_key = ?`
	qIdemRelease  = `DELETE FROM idempotency_keys WHERE partner_id = ? AND idem_key = ?`
	qIdemPurge    = `DELETE FROM idempotency_keys WHERE expires_at <= ?`
)

type idempotencyRow struct {
	PartnerID   string `db:"partner_id"`
	Key         string `db:"idem_key"`
	Fingerprint string `db:"fingerprint"`
	Response    []byte `db:"response"`
	LockedAt    dbTime `db:"locked_at"`
	ExpiresAt   dbTime `db:"expires_at"`
}

// ClaimIdempotencyKey implements provisioning.Tx.
func (x *tx) ClaimIdempotencyKey(ctx context.Context, rec *provisioning.IdempotencyRecord, now, staleBefore time.Time) (*provisioning.IdempotencyRecord, error) {
	t := x.s.d.Time
	var partner string
	err := x.get(ctx, &partner, qClaim, rec.PartnerID, rec.Key, rec.Fingerprint,
		t(rec.LockedAt), t(rec.ExpiresAt), t(now), t(staleBefore))
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, x.internal(err)
	}
	var r idempotencyRow
	if err := x.get(ctx, &r, qIdemGet, rec.PartnerID, rec.Key); err != nil {
		return nil, x.internal(err)
	}
	return &provisioning.IdempotencyRecord{PartnerID: r.PartnerID, Key: r.Key, Fingerprint: r.Fingerprint,
		Response: r.Response, LockedAt: time.Time(r.LockedAt), ExpiresAt: time.Time(r.ExpiresAt)}, nil
}

// CompleteIdempotencyKey implements provisioning.Tx.
func (x *tx) CompleteIdempotencyKey(ctx context.Context, partnerID, key string, response []byte) error {
	if response == nil {
		response = []byte{}
	}
	n, err := x.exec(ctx, qIdemComplete, response, partnerID, key)
	if err == nil && n == 0 {
		return provisioning.Errorf(provisioning.CodeNotFound, "idempotency key not claimed")
	}
	return err
}

// ReleaseIdempotencyKey implements provisioning.Tx.
func (x *tx) ReleaseIdempotencyKey(ctx context.Context, partnerID, key string) error {
	_, err := x.exec(ctx, qIdemRelease, partnerID, key)
	return err
}

// PurgeIdempotencyKeys implements provisioning.Tx.
func (x *tx) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	return x.exec(ctx, qIdemPurge, x.s.d.Time(now))
}
