package postgres

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/internal/sqlstore"
)

// Store is the PostgreSQL provisioning.Store. Besides the Store methods it offers what a host
// application needs: its own transactions (BeginTx, Within), the database (DB) and the
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

// BeginTx starts a transaction on the store's database for a host application that wants to
// provision inside its own transaction: pass it to Within, do its own work on it, and commit or
// roll back.
func (s *Store) BeginTx(ctx context.Context) (*sql.Tx, error) { return s.s.BeginTx(ctx) }

// Within returns a Store whose Read and Write run on tx, a transaction from BeginTx, without
// committing: provisioning's changes — tenants, events, idempotency records — commit or roll
// back with the host's own. Each change runs in a savepoint: one that fails undoes itself alone
// and tx goes on. A change's event holds its partner's ordering lock until tx ends, and so does
// a webhook registration its partner's limit lock: commit soon after the provisioning calls.
// Close on the returned Store does nothing.
func (s *Store) Within(tx *sql.Tx) provisioning.Store { return s.s.Within(tx) }
