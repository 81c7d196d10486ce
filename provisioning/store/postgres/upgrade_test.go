package postgres

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/internal/sqlstore"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

// migrationsBefore returns the migrations numbered below version.
func migrationsBefore(t *testing.T, version string) fs.FS {
	sub := Migrations
	files, _ := fs.Glob(sub, "*.sql")
	out := fstest.MapFS{}
	for _, f := range files {
		if f < version {
			b, err := fs.ReadFile(sub, f)
			if err != nil {
				t.Fatal(err)
			}
			out[f] = &fstest.MapFile{Data: b}
		}
	}
	return out
}

// A database written before migration 0008 — name keys trimmed and lower-cased, some tenants
// duplicates under the new key — upgrades without losing or refusing any tenant.
func TestNameKeyUpgrade(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.New(db, db, dialect).Migrate(ctx, migrationsBefore(t, "0008")); err != nil {
		t.Fatal(err)
	}
	legacy := storetest.LegacyTenants()
	for _, r := range legacy {
		var deleted any
		if r.Deleted {
			deleted = dialect.Time(r.CreatedAt)
		}
		if _, err := db.Exec(`INSERT INTO tenants (id, partner_id, company_name, name_key, email, status, version,
			created_at, updated_at, deleted_at) VALUES ($1, $2, $3, $4, 'a@example.com', 'active', 1, $5, $5, $6)`,
			r.ID, r.PartnerID, r.CompanyName, r.OldKey, dialect.Time(r.CreatedAt), deleted); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()
	s, err := Open(ctx, url, Options{Migrate: true})
	if err != nil {
		t.Fatalf("Open on the old database: %v", err)
	}
	defer s.Close()
	storetest.CheckNameKeyUpgrade(t, s, legacy)
}

// A database written before migration 0012, where DELETE soft-deleted, upgrades: the
// soft-deleted tenants are purged by the Worker, the live ones stay.
func TestSoftDeleteUpgrade(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.New(db, db, dialect).Migrate(ctx, migrationsBefore(t, "0012")); err != nil {
		t.Fatal(err)
	}
	r := storetest.LegacySoftDelete()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, row := range []struct {
		id, name, email string
		deleted         any
	}{{r.LiveID, "Legacy Live Corp", "live@example.com", nil}, {r.DeletedID, r.Name, r.Email, at}, {r.HeirID, r.Name, "heir@example.com", nil}} {
		db.MustExec(`INSERT INTO tenants (id, partner_id, company_name, name_key, key_version, email, status, version,
			created_at, updated_at, deleted_at) VALUES ($1, 'partner-a', $2, $3, 2, $4, 'active', 1, $5, $5, $6)`,
			row.id, row.name, provisioning.NameKey(row.name), row.email, at, row.deleted)
		config := "{}"
		if row.id == r.DeletedID {
			config = r.Config
		}
		db.MustExec(`INSERT INTO tenant_configs (tenant_id, partner_id, config, version, updated_at) VALUES ($1, 'partner-a', $2, 1, $3)`,
			row.id, config, at)
	}
	db.MustExec(`INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
		VALUES ($1, 'partner-a', 'tenant.created', $2, 'someone', NULL, $3, $4::jsonb)`, r.EventID, r.DeletedID, at, r.EventData)
	db.MustExec(`INSERT INTO idempotency_keys (partner_id, idem_key, fingerprint, response, created_at, expires_at)
		VALUES ('partner-a', $1, 'fp', $2, now(), now() + interval '1 hour')`, r.Key, r.Answer)
	_ = db.Close()
	s, err := Open(ctx, url, Options{Migrate: true})
	if err != nil {
		t.Fatalf("Open on the old database: %v", err)
	}
	defer s.Close()
	storetest.CheckSoftDeleteUpgrade(t, s, r)
	var n int
	if err := s.DB().Get(&n, `SELECT count(*) FROM tenant_configs WHERE tenant_id = $1`, r.DeletedID); err != nil || n != 0 {
		t.Fatalf("the purged tenant's configuration: %d rows, %v", n, err)
	}
}
