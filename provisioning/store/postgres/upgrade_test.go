package postgres

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/internal/pgtest"
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
