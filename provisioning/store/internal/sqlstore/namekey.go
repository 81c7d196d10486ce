package sqlstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/provisioning"
)

// Stored name keys: each tenant row keeps provisioning.NameKey(company_name) in name_key, under
// a unique index among the partner's live tenants, and the NameKeyVersion it was computed with
// in key_version. SQL cannot compute the key, so when the rules change the store recomputes the
// keys of older versions itself, in the migration's transaction.

const (
	// nameKeyMigration is the migration that adds key_version; rekey needs it.
	nameKeyMigration = 8
	// rekeyBatch is how many rows rekey reads at a time.
	rekeyBatch = 500
)

var (
	// qStaleKeys reads the next rows whose key is older than NameKeyVersion, oldest first; the
	// partial index tenants_stale_name_key holds exactly them.
	qStaleKeys = fmt.Sprintf(`SELECT id, partner_id, company_name, deleted_at IS NULL AS live FROM tenants
		WHERE key_version < %d ORDER BY created_at, id LIMIT %d`, provisioning.NameKeyVersion, rekeyBatch)
	// qUnindexStale takes the stale live rows out of the unique index, so that their old keys
	// cannot clash with the new keys of others while they are recomputed.
	qUnindexStale = fmt.Sprintf(`UPDATE tenants SET name_key_grandfathered = TRUE
		WHERE key_version < %d AND deleted_at IS NULL`, provisioning.NameKeyVersion)
	qKeyTaken = `SELECT COUNT(*) FROM tenants WHERE partner_id = ? AND name_key = ?
		AND deleted_at IS NULL AND NOT name_key_grandfathered`
	qSetKey = `UPDATE tenants SET name_key = ?, key_version = ?, name_key_grandfathered = (? = 1) WHERE id = ?`
)

// staleRow is a tenant whose stored key is out of date.
type staleRow struct {
	ID          string `db:"id"`
	PartnerID   string `db:"partner_id"`
	CompanyName string `db:"company_name"`
	Live        bool   `db:"live"`
}

// rekey recomputes, in the migration's transaction t, every stored name key older than
// NameKeyVersion, oldest tenant first. A live tenant whose new key an older live tenant already
// holds is kept, grandfathered: outside the unique index until it is renamed. Existing
// duplicates therefore never fail the migration, and the oldest tenant keeps the name.
func (s *Store) rekey(ctx context.Context, t *sqlx.Tx) error {
	if _, err := t.ExecContext(ctx, qUnindexStale); err != nil {
		return s.internal(fmt.Errorf("name keys: %w", err))
	}
	for {
		var rows []staleRow
		if err := t.SelectContext(ctx, &rows, qStaleKeys); err != nil {
			return s.internal(fmt.Errorf("name keys: %w", err))
		}
		for _, r := range rows {
			if err := s.rekeyRow(ctx, t, r); err != nil {
				return s.internal(fmt.Errorf("name key of tenant %s: %w", r.ID, err))
			}
		}
		if len(rows) < rekeyBatch {
			return nil
		}
	}
}

// rekeyRow stores the current key of one stale row.
func (s *Store) rekeyRow(ctx context.Context, t *sqlx.Tx, r staleRow) error {
	key := provisioning.NameKey(r.CompanyName)
	grandfathered := 0
	if r.Live {
		var taken int
		if err := t.GetContext(ctx, &taken, t.Rebind(qKeyTaken), r.PartnerID, key); err != nil {
			return err
		}
		if taken > 0 {
			grandfathered = 1
		}
	}
	_, err := t.ExecContext(ctx, t.Rebind(qSetKey), key, provisioning.NameKeyVersion, grandfathered, r.ID)
	return err
}
