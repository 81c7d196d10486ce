package sqlite

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

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
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sqlx.Open("sqlite", "file:"+path)
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
			created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, 'a@example.com', 'active', 1, ?, ?, ?)`,
			r.ID, r.PartnerID, r.CompanyName, r.OldKey, dialect.Time(r.CreatedAt), dialect.Time(r.CreatedAt), deleted); err != nil {
			t.Fatal(err)
		}
	}
	// More rows than one batch of the recomputation, for another partner.
	tx := db.MustBegin()
	for i := range 1234 {
		at := dialect.Time(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond))
		name := fmt.Sprintf("Bulk\u200B %d", i)
		tx.MustExec(`INSERT INTO tenants (id, partner_id, company_name, name_key, email, status, version,
			created_at, updated_at) VALUES (?, 'partner-c', ?, ?, 'a@example.com', 'active', 1, ?, ?)`,
			uuid.NewString(), name, strings.ToLower(name), at, at)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open on the old database: %v", err)
	}
	defer s.Close()
	storetest.CheckNameKeyUpgrade(t, s, legacy)
	svc := provisioning.New(s, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	c := provisioning.Principal{PartnerID: "partner-c", Roles: []string{"partner-admin"}}
	for _, i := range []int{0, 499, 500, 1233} {
		_, err := svc.CreateTenant(ctx, c, provisioning.TenantInput{CompanyName: fmt.Sprintf("BULK %d", i), Email: "b@example.com"})
		if provisioning.ErrorCode(err) != provisioning.CodeTenantExists {
			t.Errorf("creating BULK %d: %v, want tenant_exists", i, err)
		}
	}
}

// A database written before migration 0012, where DELETE soft-deleted, upgrades: the
// soft-deleted tenants are purged by the Worker, the live ones stay.
func TestSoftDeleteUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sqlx.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.New(db, db, dialect).Migrate(ctx, migrationsBefore(t, "0012")); err != nil {
		t.Fatal(err)
	}
	r := storetest.LegacySoftDelete()
	at := dialect.Time(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, row := range []struct {
		id, name, email string
		deleted         any
	}{{r.LiveID, "Legacy Live Corp", "live@example.com", nil}, {r.DeletedID, r.Name, r.Email, at}, {r.HeirID, r.Name, "heir@example.com", nil}} {
		db.MustExec(`INSERT INTO tenants (id, partner_id, company_name, name_key, key_version, email, status, version,
			created_at, updated_at, deleted_at) VALUES (?, 'partner-a', ?, ?, 2, ?, 'active', 1, ?, ?, ?)`,
			row.id, row.name, provisioning.NameKey(row.name), row.email, at, at, row.deleted)
		config := "{}"
		if row.id == r.DeletedID {
			config = r.Config
		}
		db.MustExec(`INSERT INTO tenant_configs (tenant_id, partner_id, config, version, updated_at) VALUES (?, 'partner-a', ?, 1, ?)`,
			row.id, config, at)
	}
	db.MustExec(`INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
		VALUES (?, 'partner-a', 'tenant.created', ?, 'someone', NULL, ?, ?)`, r.EventID, r.DeletedID, at, r.EventData)
	db.MustExec(`INSERT INTO idempotency_keys (partner_id, idem_key, fingerprint, response, created_at, expires_at)
		VALUES ('partner-a', ?, 'fp', ?, ?, ?)`, r.Key, r.Answer, time.Now().UnixMilli(), time.Now().Add(time.Hour).UnixMilli())
	_ = db.Close()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open on the old database: %v", err)
	}
	defer s.Close()
	storetest.CheckSoftDeleteUpgrade(t, s, r)
	var n int
	if err := s.DB().Get(&n, `SELECT count(*) FROM tenant_configs WHERE tenant_id = ?`, r.DeletedID); err != nil || n != 0 {
		t.Fatalf("the purged tenant's configuration: %d rows, %v", n, err)
	}
}
