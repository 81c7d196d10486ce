package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

const (
	qConfigGet = `SELECT c.tenant_id, c.config, c.version, c.updated_at FROM tenant_configs c
		JOIN tenants t ON t.id = c.tenant_id
		WHERE c.partner_id = ? AND c.tenant_id = ? AND t.deleted_at IS NULL`
	qConfigInsert = `INSERT INTO tenant_configs (tenant_id, partner_id, config, version, updated_at)
		VALUES (?, ?, ?, ?, ?)`
	qConfigUpdate = `UPDATE tenant_configs SET config = ?, version = ?, updated_at = ?
		WHERE partner_id = ? AND tenant_id = ? AND version = ?`
)

type configRow struct {
	TenantID  string `db:"tenant_id"`
	Config    []byte `db:"config"`
	Version   int64  `db:"version"`
	UpdatedAt dbTime `db:"updated_at"`
}

// GetTenantConfig implements provisioning.Tx.
func (x *tx) GetTenantConfig(ctx context.Context, params *provisioning.GetTenantParams) (*provisioning.TenantConfig, error) {
	q := qConfigGet
	if params.ForUpdate {
		q += x.s.d.ForUpdate
	}
	var r configRow
	err := x.get(ctx, &r, q, params.PartnerID, params.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "tenant not found")
	}
	if err != nil {
		return nil, x.internal(err)
	}
	// jsonb comes back with spaces after separators: store canonical JSON again.
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Config))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, x.internal(err)
	}
	config, err := json.Marshal(v)
	if err != nil {
		return nil, x.internal(err)
	}
	return &provisioning.TenantConfig{TenantID: r.TenantID, Config: config, Version: r.Version,
		UpdatedAt: time.Time(r.UpdatedAt)}, nil
}

// UpdateTenantConfig implements provisioning.Tx.
func (x *tx) UpdateTenantConfig(ctx context.Context, params *provisioning.UpdateTenantConfigParams) error {
	c := params.Config
	n, err := x.exec(ctx, qConfigUpdate, string(c.Config), c.Version, x.s.d.Time(c.UpdatedAt), params.PartnerID, c.TenantID,
		params.PrevVersion)
	if err != nil || n == 1 {
		return err
	}
	if _, err := x.GetTenantConfig(ctx, &provisioning.GetTenantParams{PartnerID: params.PartnerID, ID: c.TenantID}); err != nil {
		return err
	}
	return provisioning.Errorf(provisioning.CodePrecondition, "the configuration changed meanwhile")
}
