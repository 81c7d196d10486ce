package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

const (
	qIdemGet = `SELECT partner_id, idem_key, fingerprint, response, created_at, expires_at,
		COALESCE(tenant_ids, '') AS tenant_ids FROM idempotency_keys WHERE partner_id = ? AND idem_key = ? AND expires_at > ?`
	qIdemPut = `INSERT INTO idempotency_keys (partner_id, idem_key, fingerprint, response, created_at, expires_at, tenant_ids)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (partner_id, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint,
			response = excluded.response, created_at = excluded.created_at, expires_at = excluded.expires_at,
			tenant_ids = excluded.tenant_ids`
	qIdemPurge = `DELETE FROM idempotency_keys WHERE expires_at <= ?`
)

type idempotencyRow struct {
	PartnerID   string `db:"partner_id"`
	Key         string `db:"idem_key"`
	Fingerprint string `db:"fingerprint"`
	Response    []byte `db:"response"`
	CreatedAt   dbTime `db:"created_at"`
	ExpiresAt   dbTime `db:"expires_at"`
	TenantIDs   string `db:"tenant_ids"` // space-separated; '*' for "any of the partner's"
}

// LockIdempotencyKey implements provisioning.Tx.
func (x *tx) LockIdempotencyKey(ctx context.Context, params *provisioning.LockIdempotencyKeyParams) (*provisioning.IdempotencyRecord, bool, error) {
	partnerID, key := params.PartnerID, params.Key
	if x.s.d.IdempotencyLock != "" {
		var locked bool
		if err := x.get(ctx, &locked, x.s.d.IdempotencyLock, partnerID, key); err != nil {
			return nil, false, x.internal(err)
		}
		if !locked {
			return nil, false, nil
		}
	}
	rec, err := x.GetIdempotencyRecord(ctx, &provisioning.GetIdempotencyRecordParams{PartnerID: partnerID, Key: key, Now: params.Now})
	if err != nil {
		return nil, false, err
	}
	return rec, true, nil
}

// GetIdempotencyRecord implements provisioning.Tx.
func (x *tx) GetIdempotencyRecord(ctx context.Context, params *provisioning.GetIdempotencyRecordParams) (*provisioning.IdempotencyRecord, error) {
	var r idempotencyRow
	switch err := x.get(ctx, &r, qIdemGet, params.PartnerID, params.Key, x.s.d.Time(params.Now)); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, x.internal(err)
	}
	return &provisioning.IdempotencyRecord{PartnerID: r.PartnerID, Key: r.Key, Fingerprint: r.Fingerprint,
		Response: r.Response, CreatedAt: time.Time(r.CreatedAt), ExpiresAt: time.Time(r.ExpiresAt),
		TenantIDs: strings.Fields(r.TenantIDs)}, nil
}

// PutIdempotencyRecord implements provisioning.Tx.
func (x *tx) PutIdempotencyRecord(ctx context.Context, rec *provisioning.IdempotencyRecord) error {
	t := x.s.d.Time
	_, err := x.exec(ctx, qIdemPut, rec.PartnerID, rec.Key, rec.Fingerprint, rec.Response, t(rec.CreatedAt), t(rec.ExpiresAt),
		null(strings.Join(rec.TenantIDs, " ")))
	return err
}

// PurgeIdempotencyKeys implements provisioning.Tx.
func (x *tx) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	return x.exec(ctx, qIdemPurge, x.s.d.Time(now))
}
