package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

// hostDB opens a host's own database handle, closed when the test ends (after the store,
// whose Close the suite registers later).
func hostDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func openDB(t *testing.T, url string, migrate bool) *postgres.Store {
	t.Helper()
	s, err := postgres.OpenDB(context.Background(), hostDB(t, url), postgres.Options{Migrate: migrate})
	if err != nil {
		t.Fatalf("postgres.OpenDB: %v", err)
	}
	return s
}

// A store on the host's own database handle passes the whole suite.
func TestConformanceOnHostDB(t *testing.T) {
	urls := map[provisioning.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) provisioning.Store {
			url := pgtest.URL(t)
			s := openDB(t, url, true)
			urls[s] = url
			return s
		},
		HostTransactions: true,
		Reopen: func(t *testing.T, s provisioning.Store) provisioning.Store {
			return openDB(t, urls[s], false)
		},
	})
}

// The store sets nothing on the host's pool or sessions, and leaves the database open after
// its Close.
func TestOpenDBLeavesTheHostsDatabase(t *testing.T) {
	db := hostDB(t, pgtest.URL(t))
	db.SetMaxOpenConns(3)
	s, err := postgres.OpenDB(context.Background(), db, postgres.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	var timeout string
	if err := s.DB().Get(&timeout, "SHOW statement_timeout"); err != nil || timeout != "0" {
		t.Fatalf("statement_timeout = %q (%v); the host set none", timeout, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM tenants`).Scan(&n); err != nil {
		t.Fatalf("the host's database after the store's Close: %v", err)
	}
	if got := db.Stats().MaxOpenConnections; got != 3 {
		t.Fatalf("the pool's size is %d; the host set 3", got)
	}
}

// otherDriver stands for a PostgreSQL driver other than lib/pq, whose errors the store could
// not read.
type otherDriver struct{}

func (otherDriver) Open(string) (driver.Conn, error) { return nil, errors.New("not a database") }

func init() { sql.Register("other-postgres", otherDriver{}) }

func TestOpenDBRefuses(t *testing.T) {
	url := pgtest.URL(t)
	for name, c := range map[string]struct {
		driver, dsn, want string
	}{
		"another driver": {"other-postgres", "x", "lib/pq"},
		"no schema":      {"postgres", url, "migrate the database"},
	} {
		t.Run(name, func(t *testing.T) {
			db, err := sql.Open(c.driver, c.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			s, err := postgres.OpenDB(context.Background(), db, postgres.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("OpenDB: %v, %v; want an error saying %s", s, err, c.want)
			}
		})
	}
}

// A host may apply Migrations with its own tool — here a loop doing what such a tool does, a
// transaction per file — and open the store without letting it migrate.
func TestMigrationsForTheHostsOwnTool(t *testing.T) {
	ctx := context.Background()
	db := hostDB(t, pgtest.URL(t))
	files, err := fs.Glob(postgres.Migrations, "*.sql")
	if err != nil || len(files) == 0 || !slices.IsSorted(files) || files[0] != "0001_tenants.sql" {
		t.Fatalf("Migrations holds %v (%v)", files, err)
	}
	for _, f := range files {
		body, err := fs.ReadFile(postgres.Migrations, f)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := postgres.OpenDB(ctx, db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := provisioning.New(s, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	if _, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Own Tool", Email: "o@example.com"}); err != nil {
		t.Fatalf("a tenant on the host-migrated schema: %v", err)
	}
}
