package postgres

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/internal/sqlstore"
)

// Store is the PostgreSQL provisioning.Store. Besides the Store methods it offers what a host
// application needs: its own transactions (BeginTx, WriteTx), the database (DB) and the
// migrations (Migrate, Migrations).
type Store struct {
	s     *sqlstore.Store
	ownDB bool // Open made the database, so Close closes it
}

var _ provisioning.Store = (*Store)(nil)

// Read implements provisioning.Store. It runs fn without a transaction: each query sees the
// data committed when it runs.
func (s *Store) Read(ctx context.Context, fn func(provisioning.Tx) error) error {
	return s.s.Read(ctx, fn)
}

// Write implements provisioning.Store: fn runs in one transaction, committed if and only if fn
// returns nil.
func (s *Store) Write(ctx context.Context, fn func(provisioning.Tx) error) error {
	return s.s.Write(ctx, fn)
}

// Ping implements provisioning.Store: it reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.s.Ping(ctx) }

// Close implements provisioning.Store. For a store from Open it closes the database; a store
// from OpenDB leaves the host's database open.
func (s *Store) Close() error {
	if !s.ownDB {
		return nil
	}
	return s.s.Close()
}

// DB returns the database the store uses, for a host's own queries and for tests. Closing it
// is the store's Close's business (or, after OpenDB, the host's).
func (s *Store) DB() *sqlx.DB { return s.s.DB() }

// BeginTx starts a transaction on the store's database for a host application that provisions
// inside its own transaction: pass it to WriteTx, do the host's own work on it, and commit or
// roll back.
func (s *Store) BeginTx(ctx context.Context) (*sql.Tx, error) { return s.s.BeginTx(ctx) }

// WriteTx runs fn in tx, the host's own transaction on the store's database (from BeginTx, or,
// on a store from OpenDB, from the host's database), as Write runs it in a transaction of its
// own, and leaves tx open: when fn returns nil its work — tenants, events, idempotency records —
// stays in tx, to commit or roll back with the host's own; when fn fails its work is undone (to a
// savepoint) and tx goes on. Provision through a Service bound to the Tx fn is given:
//
//	err := store.WriteTx(ctx, tx, func(ptx provisioning.Tx) error {
//		t, err := svc.WithTx(ptx).CreateTenant(ctx, principal, in)
//		…
//	})
//
// The events fn appended are written as it returns. Until tx ends they are held back from the
// event feeds, and so are the events every later transaction writes (see the package
// documentation); a webhook registration holds its partner's limit lock as long. Commit soon
// after.
func (s *Store) WriteTx(ctx context.Context, tx *sql.Tx, fn func(provisioning.Tx) error) error {
	return s.s.WriteTx(ctx, tx, fn)
}
