package sqlite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

// hostDSN is the connection string a host uses for the store, as OpenDB's doc asks.
func hostDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// hostDB opens a host's own database handle, closed when the test ends (after the store,
// whose Close the suite registers later).
func hostDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func openDB(t *testing.T, path string, migrate bool) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenDB(context.Background(), hostDB(t, hostDSN(path)), sqlite.Options{Migrate: migrate})
	if err != nil {
		t.Fatalf("sqlite.OpenDB: %v", err)
	}
	return s
}

// A store on the host's own database handle passes the whole suite.
func TestConformanceOnHostDB(t *testing.T) {
	paths := map[provisioning.Store]string{}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) provisioning.Store {
			path := filepath.Join(t.TempDir(), "host.db")
			s := openDB(t, path, true)
			paths[s] = path
			return s
		},
		HostTransactions: true,
		Reopen: func(t *testing.T, s provisioning.Store) provisioning.Store {
			return openDB(t, paths[s], false)
		},
	})
}

// The store leaves the host's pool as it was, and open after its Close.
func TestOpenDBLeavesTheHostsDatabase(t *testing.T) {
	db := hostDB(t, hostDSN(filepath.Join(t.TempDir(), "host.db")))
	db.SetMaxOpenConns(3)
	s, err := sqlite.OpenDB(context.Background(), db, sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("the host's database after the store's Close: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM tenants`).Scan(&n); err != nil {
		t.Fatalf("the host's database after the store's Close: %v", err)
	}
	if got := db.Stats().MaxOpenConnections; got != 3 {
		t.Fatalf("the pool's size is %d; the host set 3", got)
	}
}

// otherDriver stands for a SQLite driver other than the one the store knows.
type otherDriver struct{}

func (otherDriver) Open(string) (driver.Conn, error) { return nil, errors.New("not a database") }

func init() { sql.Register("other-sqlite", otherDriver{}) }

func TestOpenDBRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.db")
	for name, c := range map[string]struct {
		driver, dsn string
		want        string
	}{
		"another driver":  {"other-sqlite", "x", "modernc.org/sqlite"},
		"no foreign keys": {"sqlite", "file:" + path + "?_txlock=immediate", "foreign_keys(1)"},
		"no schema":       {"sqlite", hostDSN(path), "migrate the database"},
	} {
		t.Run(name, func(t *testing.T) {
			db, err := sql.Open(c.driver, c.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			s, err := sqlite.OpenDB(context.Background(), db, sqlite.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("OpenDB: %v, %v; want an error saying %s", s, err, c.want)
			}
		})
	}
}

// A host may apply Migrations with its own tool — here a loop doing what such a tool does —
// and open the store without letting it migrate.
func TestMigrationsForTheHostsOwnTool(t *testing.T) {
	ctx := context.Background()
	db := hostDB(t, hostDSN(filepath.Join(t.TempDir(), "host.db")))
	files, err := fs.Glob(sqlite.Migrations, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("Migrations holds %v (%v)", files, err)
	}
	if !slices.IsSorted(files) || files[0] != "0001_tenants.sql" {
		t.Fatalf("Migrations: %v", files)
	}
	for _, f := range files {
		body, err := fs.ReadFile(sqlite.Migrations, f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	s, err := sqlite.OpenDB(ctx, db, sqlite.Options{})
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
