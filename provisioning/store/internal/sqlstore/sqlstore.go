// Package sqlstore is the provisioning.Store shared by the SQL stores: the queries, the
// transaction boundary and the migration runner. Each database's package (postgres, sqlite)
// supplies a Dialect, its migrations and its connection set-up; the differences between the
// databases live in the Dialect and nowhere else.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/provisioning"
)

// Dialect holds what differs between the SQL databases.
type Dialect struct {
	// Name is the database's name in errors.
	Name string
	// ForUpdate is appended to a SELECT that locks its row ("" where Write already excludes
	// other writers).
	ForUpdate string
	// MigrationLock is run first in the migration transaction so that replicas starting
	// together apply migrations once ("" where the transaction itself is exclusive).
	MigrationLock string
	// Time turns a time into the value stored in a timestamp column.
	Time func(time.Time) any
	// MetadataMatch returns a condition and its arguments requiring the metadata to hold
	// every pair of m.
	MetadataMatch func(m map[string]string) (string, []any, error)
	// Conflict reports whether err is a violation of one of the tenants' unique indexes on
	// company name or external id.
	Conflict func(err error) bool
}

// Store is a provisioning.Store over a SQL database.
type Store struct {
	db      *sqlx.DB // reads
	writeDB *sqlx.DB // transactions; the same as db unless the database wants one writer
	d       Dialect
}

var _ provisioning.Store = (*Store)(nil)

// New returns a Store over db, writing through writeDB (which may be db).
func New(db, writeDB *sqlx.DB, d Dialect) *Store {
	return &Store{db: db, writeDB: writeDB, d: d}
}

// DB returns the database the store reads from, for set-up and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// Read implements provisioning.Store without a transaction: each query sees committed data.
func (s *Store) Read(ctx context.Context, fn func(provisioning.Tx) error) error {
	return fn(&tx{q: s.db, d: &s.d})
}

// Write implements provisioning.Store with one database transaction.
func (s *Store) Write(ctx context.Context, fn func(provisioning.Tx) error) error {
	t, err := s.writeDB.BeginTxx(ctx, nil)
	if err != nil {
		return s.internal(err)
	}
	if err := fn(&tx{q: t, d: &s.d}); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return s.internal(err)
	}
	return nil
}

// Ping implements provisioning.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.internal(err)
	}
	return nil
}

// Close implements provisioning.Store.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.writeDB != s.db {
		err = errors.Join(err, s.writeDB.Close())
	}
	return err
}

func (s *Store) internal(err error) error {
	return provisioning.Internal(fmt.Errorf("%s: %w", s.d.Name, err))
}

// querier is what a tx runs queries on: the database itself or a transaction.
type querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// tx implements provisioning.Tx.
type tx struct {
	q querier
	d *Dialect
}

func (x *tx) internal(err error) error {
	return provisioning.Internal(fmt.Errorf("%s: %w", x.d.Name, err))
}

func (x *tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := x.q.ExecContext(ctx, x.q.Rebind(query), args...)
	if err != nil {
		if x.d.Conflict(err) {
			return 0, &provisioning.Error{Code: provisioning.CodeTenantExists,
				Message: "a tenant with this company name or external id already exists"}
		}
		return 0, x.internal(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, x.internal(err)
	}
	return n, nil
}
