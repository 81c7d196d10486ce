package sqlstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// stmtKey names a prepared statement: its query on one of the store's databases.
type stmtKey struct {
	db    *sqlx.DB
	query string
}

// Prepare prepares the queries of fixed text on the store's databases, so that each is
// planned once per connection rather than on every call. It suits a database whose
// connections are the store's own (SQLite, where a read by id takes some 40% less time); the
// PostgreSQL store does not call it, because a named statement lives in one server connection,
// which a pooler such as PgBouncer shares between clients. The stores call it once the schema
// exists; statements are prepared before any transaction holds a connection, which a
// one-writer pool could not otherwise spare. Without it, every statement is an unnamed one.
func (s *Store) Prepare(ctx context.Context) error {
	s.stmts = map[stmtKey]*sqlx.Stmt{}
	for _, db := range []*sqlx.DB{s.db, s.writeDB} {
		for _, q := range fixedQueries(&s.d) {
			if _, done := s.stmts[stmtKey{db, q}]; done {
				continue
			}
			st, err := db.PreparexContext(ctx, db.Rebind(q))
			if err != nil {
				return s.internal(fmt.Errorf("preparing statements: %w", err))
			}
			s.stmts[stmtKey{db, q}] = st
		}
	}
	return nil
}

// prepared returns the statement Prepare prepared for query, bound to the transaction if there
// is one, or nil.
func (x *tx) prepared(ctx context.Context, query string) *sqlx.Stmt {
	st, ok := x.s.stmts[stmtKey{x.db, query}]
	if !ok {
		return nil
	}
	if x.t != nil {
		return x.t.StmtxContext(ctx, st)
	}
	return st
}

// CheckSchema checks that the schema has every table and column the store's statements use,
// as Prepare does, but leaves no statement behind, even through a connection pooler: it
// prepares each statement of fixed text in one transaction and closes it before the
// transaction ends.
func (s *Store) CheckSchema(ctx context.Context) error {
	t, err := s.writeDB.BeginTxx(ctx, nil)
	if err != nil {
		return s.internal(err)
	}
	defer func() { _ = t.Rollback() }()
	for _, q := range fixedQueries(&s.d) {
		st, err := t.PrepareContext(ctx, t.Rebind(q))
		if err != nil {
			return s.internal(fmt.Errorf("checking the schema: %w", err))
		}
		if err := st.Close(); err != nil {
			return s.internal(err)
		}
	}
	return nil
}
