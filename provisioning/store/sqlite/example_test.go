package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/sqlite"
)

var admin = provisioning.Principal{PartnerID: "acme-reseller", Roles: []string{"partner-admin"}}

// A SQLite file holds the tenants: Open creates it and applies the migrations.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "provisiond-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := sqlite.Open(ctx, filepath.Join(dir, "provisiond.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	t, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Example Corp", Email: "Admin@Example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.CompanyName, t.Email, t.Status, t.Version)
	// Output: Example Corp admin@example.com active 1
}

// A host that already has its SQLite database hands the store its *sql.DB. The store leaves the
// pool as it is, and its Close leaves the database open for the host.
func ExampleOpenDB() {
	dir, err := os.MkdirTemp("", "provisiond-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "host.db")+
		"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlite.OpenDB(ctx, db, sqlite.Options{Migrate: true})
	if err != nil {
		log.Fatal(err)
	}
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	if _, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Hosted Corp", Email: "ops@hosted.example"}); err != nil {
		log.Fatal(err)
	}
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}

	var name string
	if err := db.QueryRowContext(ctx, `SELECT company_name FROM tenants`).Scan(&name); err != nil {
		log.Fatal(err)
	}
	fmt.Println(name)
	// Output: Hosted Corp
}

// A host provisions inside its own transaction: its own row and the tenant commit together, or
// neither does.
func ExampleStore_WriteTx() {
	dir, err := os.MkdirTemp("", "provisiond-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "provisiond.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if _, err := store.DB().ExecContext(ctx, `CREATE TABLE accounts (tenant_id TEXT PRIMARY KEY)`); err != nil {
		log.Fatal(err)
	}

	tx, err := store.BeginTx(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	var t *provisioning.Tenant
	err = store.WriteTx(ctx, tx, func(ptx provisioning.Tx) (err error) {
		t, err = svc.WithTx(ptx).CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Joined Corp", Email: "ops@joined.example"})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (tenant_id) VALUES (?)`, t.ID); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	var n int
	if err := store.DB().GetContext(ctx, &n, `SELECT count(*) FROM accounts JOIN tenants ON tenants.id = accounts.tenant_id`); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "account with its tenant")
	// Output: 1 account with its tenant
}
