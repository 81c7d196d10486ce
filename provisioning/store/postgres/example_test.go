package postgres_test

import (
	"context"
	"database/sql"
	"log"
	"os"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/postgres"
)

// A service opens the store on a PostgreSQL URL, with its own pool. (This example needs a
// server, so it is compiled but not run.)
func ExampleOpen() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.Options{Migrate: true})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	_ = svc
}

// A host that already has its PostgreSQL pool hands the store its *sql.DB (lib/pq). The store
// changes nothing of the pool or its sessions; the host keeps its own settings, such as a
// statement_timeout in its URL, and closes the database after the store. (This example needs a
// server, so it is compiled but not run.)
func ExampleOpenDB() {
	ctx := context.Background()
	db, err := sql.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := postgres.OpenDB(ctx, db, postgres.Options{Migrate: true})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // leaves db open
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	_ = svc
}
