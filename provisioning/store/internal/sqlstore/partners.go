package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// The partner registry and API keys.

const (
	qTenantPartner = `SELECT partner_id FROM tenants WHERE id = ? AND deleted_at IS NULL`
	// The quota: the row of a partner with a limit, locked (where writers run concurrently)
	// until the transaction ends, then the count in a statement of its own, so that it sees
	// what the transactions that held the lock before committed. A partner without a limit
	// (or not registered) locks nothing: its creates do not wait for each other.
	qPartnerQuota = `SELECT max_tenants FROM partners WHERE id = ? AND max_tenants IS NOT NULL`
	qTenantCount  = `SELECT count(*) FROM tenants WHERE partner_id = ? AND deleted_at IS NULL`

	partnerColumns = `id, name, max_tenants, status, created_at, updated_at`
	// A concurrent registration of the id waits for the other to end, then inserts nothing.
	qPartnerInsert = `INSERT INTO partners (` + partnerColumns + `) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
	qPartnerGet    = `SELECT ` + partnerColumns + ` FROM partners WHERE id = ?`
	qPartnerList   = `SELECT ` + partnerColumns + ` FROM partners WHERE id > ? ORDER BY id LIMIT ?`
	qPartnerUpdate = `UPDATE partners SET name = ?, max_tenants = ?, status = ?, updated_at = ? WHERE id = ?`

	keyColumns = `id, partner_id, name, prefix, permissions, operator, expires_at, last_used_at, created_at`
	qKeyInsert = `INSERT INTO api_keys (` + keyColumns + `, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qKeyCount  = `SELECT count(*) FROM api_keys WHERE partner_id = ?`
	qKeyGet    = `SELECT ` + keyColumns + ` FROM api_keys WHERE partner_id = ? AND id = ?`
	qKeyList   = `SELECT ` + keyColumns + ` FROM api_keys WHERE partner_id = ? ORDER BY created_at, id`
	qKeyDelete = `DELETE FROM api_keys WHERE partner_id = ? AND id = ?`
	qKeyFind   = `SELECT ` + keyColumns + ` FROM api_keys WHERE hash = ?`
	qKeyTouch  = `UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`
)

type partnerRow struct {
	ID         string        `db:"id"`
	Name       string        `db:"name"`
	MaxTenants sql.NullInt64 `db:"max_tenants"`
	Status     string        `db:"status"`
	CreatedAt  dbTime        `db:"created_at"`
	UpdatedAt  dbTime        `db:"updated_at"`
}

func (r *partnerRow) partner() *provisioning.Partner {
	p := &provisioning.Partner{ID: r.ID, Name: r.Name, Status: provisioning.PartnerStatus(r.Status),
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt)}
	if r.MaxTenants.Valid {
		n := int(r.MaxTenants.Int64)
		p.MaxTenants = &n
	}
	return p
}

func maxTenantsArg(n *int) any {
	if n == nil {
		return nil
	}
	return int64(*n)
}

type keyRow struct {
	ID          string     `db:"id"`
	PartnerID   string     `db:"partner_id"`
	Name        string     `db:"name"`
	Prefix      string     `db:"prefix"`
	Permissions string     `db:"permissions"`
	Operator    bool       `db:"operator"`
	ExpiresAt   nullDBTime `db:"expires_at"`
	LastUsedAt  nullDBTime `db:"last_used_at"`
	CreatedAt   dbTime     `db:"created_at"`
}

func (r *keyRow) key() *provisioning.APIKey {
	k := &provisioning.APIKey{ID: r.ID, PartnerID: r.PartnerID, Name: r.Name, Prefix: r.Prefix, Operator: r.Operator,
		ExpiresAt: time.Time(r.ExpiresAt), LastUsedAt: time.Time(r.LastUsedAt), CreatedAt: time.Time(r.CreatedAt)}
	for _, p := range strings.Fields(r.Permissions) {
		k.Permissions = append(k.Permissions, provisioning.Permission(p))
	}
	return k
}

// nullDBTime scans a timestamp that may be NULL, as the zero time.
type nullDBTime time.Time

// Scan implements sql.Scanner.
func (t *nullDBTime) Scan(v any) error {
	if v == nil {
		*t = nullDBTime{}
		return nil
	}
	var d dbTime
	if err := d.Scan(v); err != nil {
		return err
	}
	*t = nullDBTime(d)
	return nil
}

// timeArg stores the zero time as NULL.
func (x *tx) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return x.s.d.Time(t)
}

// TenantPartner implements provisioning.Tx.
func (x *tx) TenantPartner(ctx context.Context, params provisioning.TenantPartnerParams) (string, error) {
	var partner string
	err := x.get(ctx, &partner, qTenantPartner, params.TenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")
	}
	if err != nil {
		return "", x.internal(err)
	}
	return partner, nil
}

// ReserveTenants implements provisioning.Tx: the partner's row stays locked until the
// transaction ends, so a concurrent create of the partner counts after this one commits.
func (x *tx) ReserveTenants(ctx context.Context, params provisioning.ReserveTenantsParams) error {
	var limit int64
	fresh := x.fresh
	err := x.get(ctx, &limit, qPartnerQuota+x.s.d.ForUpdate, params.PartnerID)
	if errors.Is(err, sql.ErrNoRows) {
		// No limit: the statement changed and locked nothing, so the transaction may still be
		// begun again as if it had not run (see InsertTenant).
		x.fresh = fresh
		return nil
	}
	if err != nil {
		return x.internal(err)
	}
	var n int64
	if err := x.get(ctx, &n, qTenantCount, params.PartnerID); err != nil {
		return x.internal(err)
	}
	if n+int64(params.Count) > limit {
		return provisioning.Errorf(provisioning.CodeQuotaExceeded, "the partner may have at most %d live tenants", limit)
	}
	return nil
}

// InsertPartner implements provisioning.Tx.
func (x *tx) InsertPartner(ctx context.Context, params provisioning.InsertPartnerParams) error {
	p := params.Partner
	n, err := x.exec(ctx, qPartnerInsert, p.ID, p.Name, maxTenantsArg(p.MaxTenants), string(p.Status),
		x.s.d.Time(p.CreatedAt), x.s.d.Time(p.UpdatedAt))
	if err == nil && n == 0 {
		return provisioning.Errorf(provisioning.CodePartnerExists, "the partner %s is registered already", p.ID)
	}
	return err
}

// GetPartner implements provisioning.Tx.
func (x *tx) GetPartner(ctx context.Context, params provisioning.GetPartnerParams) (*provisioning.Partner, error) {
	q := qPartnerGet
	if params.ForUpdate {
		q += x.s.d.ForUpdate
	}
	var r partnerRow
	err := x.get(ctx, &r, q, params.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "partner not registered")
	}
	if err != nil {
		return nil, x.internal(err)
	}
	return r.partner(), nil
}

// ListPartners implements provisioning.Tx.
func (x *tx) ListPartners(ctx context.Context, params provisioning.ListPartnersParams) ([]*provisioning.Partner, error) {
	var rows []partnerRow
	if err := x.sel(ctx, &rows, qPartnerList, params.AfterID, params.Limit); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.Partner, len(rows))
	for i := range rows {
		out[i] = rows[i].partner()
	}
	return out, nil
}

// UpdatePartner implements provisioning.Tx.
func (x *tx) UpdatePartner(ctx context.Context, params provisioning.UpdatePartnerParams) error {
	p := params.Partner
	n, err := x.exec(ctx, qPartnerUpdate, p.Name, maxTenantsArg(p.MaxTenants), string(p.Status), x.s.d.Time(p.UpdatedAt), p.ID)
	if err == nil && n == 0 {
		return provisioning.Errorf(provisioning.CodeNotFound, "partner not registered")
	}
	return err
}

func permissionsArg(ps []provisioning.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, " ")
}

// InsertAPIKey implements provisioning.Tx: it counts the partner's keys under the partner's
// limit lock, as InsertWebhook does.
func (x *tx) InsertAPIKey(ctx context.Context, params provisioning.InsertAPIKeyParams) (bool, error) {
	k := params.Key
	if err := x.lockLimit(ctx, k.PartnerID); err != nil {
		return false, err
	}
	var n int
	if err := x.get(ctx, &n, qKeyCount, k.PartnerID); err != nil {
		return false, x.internal(err)
	}
	if n >= params.Limit {
		return false, nil
	}
	_, err := x.exec(ctx, qKeyInsert, k.ID, k.PartnerID, k.Name, k.Prefix, permissionsArg(k.Permissions), k.Operator,
		x.timeArg(k.ExpiresAt), x.timeArg(k.LastUsedAt), x.s.d.Time(k.CreatedAt), params.Hash)
	return err == nil, err
}

// getKey runs a query returning one key.
func (x *tx) getKey(ctx context.Context, query string, args ...any) (*provisioning.APIKey, error) {
	var r keyRow
	err := x.get(ctx, &r, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "API key not found")
	}
	if err != nil {
		return nil, x.internal(err)
	}
	return r.key(), nil
}

// GetAPIKey implements provisioning.Tx.
func (x *tx) GetAPIKey(ctx context.Context, params provisioning.GetAPIKeyParams) (*provisioning.APIKey, error) {
	return x.getKey(ctx, qKeyGet, params.PartnerID, params.ID)
}

// FindAPIKey implements provisioning.Tx.
func (x *tx) FindAPIKey(ctx context.Context, params provisioning.FindAPIKeyParams) (*provisioning.APIKey, error) {
	return x.getKey(ctx, qKeyFind, params.Hash)
}

// ListAPIKeys implements provisioning.Tx.
func (x *tx) ListAPIKeys(ctx context.Context, params provisioning.ListAPIKeysParams) ([]*provisioning.APIKey, error) {
	var rows []keyRow
	if err := x.sel(ctx, &rows, qKeyList, params.PartnerID); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.APIKey, len(rows))
	for i := range rows {
		out[i] = rows[i].key()
	}
	return out, nil
}

// DeleteAPIKey implements provisioning.Tx.
func (x *tx) DeleteAPIKey(ctx context.Context, params provisioning.DeleteAPIKeyParams) error {
	n, err := x.exec(ctx, qKeyDelete, params.PartnerID, params.ID)
	if err == nil && n == 0 {
		return provisioning.Errorf(provisioning.CodeNotFound, "API key not found")
	}
	return err
}

// TouchAPIKey implements provisioning.Tx.
func (x *tx) TouchAPIKey(ctx context.Context, params provisioning.TouchAPIKeyParams) error {
	_, err := x.exec(ctx, qKeyTouch, x.s.d.Time(params.At), params.ID, x.s.d.Time(params.NotBefore))
	return err
}
