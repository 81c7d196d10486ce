// Package sqlstore is the provisioning.Store shared by the SQL stores: the queries, the
// transaction boundary and the migration runner. Each database's package (postgres, sqlite)
// supplies a Dialect, its migrations and its connection set-up; the differences between the
// databases live in the Dialect and nowhere else.
package sqlstore

import (
	"context"
	"database/sql"
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
	// IdempotencyLock tries to take a lock on the arguments (partner_id, key) until the
	// transaction ends and returns whether it got it, without waiting ("" where Write already
	// excludes other writers).
	IdempotencyLock string
	// LimitLock takes the lock of the partner named by its argument (partner_id) until the
	// transaction ends, waiting for it, so that counting the partner's rows against a limit and
	// the insert that depends on the count are one step ("" where Write already excludes other
	// writers). The count must run after it, in a statement of its own: in READ COMMITTED a
	// statement does not see what commits while it waits.
	LimitLock string
	// AppendEvent inserts an event from the arguments (id, partner_id, type, tenant_id, actor,
	// request_id, created_at, data) and returns its seq.
	AppendEvent string
	// AppendEventFansOut is set where AppendEvent also queues the event's deliveries (as
	// qDeliveryFanOut does).
	AppendEventFansOut bool
	// InsertTenant, where set, inserts a tenant (qInsert's arguments) and its configuration
	// (then config, version, updated_at) in one statement, or neither on a conflict, and
	// returns the number of tenants inserted. Where it is "", qInsert and qConfigInsert do.
	InsertTenant string
	// Array, where set, turns a column's values into one array argument: multi-row statements
	// then take one array a column, unnested, rather than a VALUES list (see rowsFrom).
	Array func(values []any) any
	// NewUUID is an SQL expression that makes a random UUID.
	NewUUID string
	// SkipLocked is appended to the subquery that picks deliveries to claim, so that concurrent
	// claimers skip each other's rows ("" where claims are serialized anyway).
	SkipLocked string
	// Time turns a time into the value stored in a timestamp column.
	Time func(time.Time) any
	// MetadataMatch returns a condition and its arguments requiring the metadata to hold
	// every pair of m.
	MetadataMatch func(m map[string]string) (string, []any, error)
	// RestartFresh is set where a savepoint costs round trips (a server's): a change that is
	// the first statement of a Write's own transaction then runs without one, and a failure
	// rolls the transaction back and begins it again instead.
	RestartFresh bool
	// Conflict reports whether err is a violation of one of the tenants' unique indexes on
	// company name or external id.
	Conflict func(err error) bool
	// EventTenant is the value stored as an event's tenant_id: NULL for the events without a
	// tenant where the column allows it.
	EventTenant func(tenantID string) any
	// FeedPosition selects the position (xact, seq) of the event whose id is its argument in
	// the feeds; xact is text. A condition may follow it.
	FeedPosition string
	// FeedOrder is the condition and the order of the feeds (a partner's and every partner's),
	// from the arguments (xact, seq) of the position it follows and (type, type) of the type
	// filter ('' for all), such that no event can later commit before a position a reader has
	// passed: where transactions commit one at a time, seq order; on PostgreSQL, the order of
	// the writing transactions, holding back the events of those still running (and so of any
	// that might yet precede them).
	FeedOrder string
	// AfterPurge, when not "", runs on the write database after a transaction that purged a
	// tenant has committed, to remove what the database still keeps of it outside its tables
	// (SQLite: the WAL file's frames). Its rows, if any, are read and ignored.
	AfterPurge string
}

func (d *Dialect) fanOutQuery() string { return fmt.Sprintf(qDeliveryFanOut, d.NewUUID) }

// FeedQuery selects a page of the feed of every partner's events, or of one partner's (its
// first argument) when partner is set.
func (d *Dialect) FeedQuery(partner bool) string {
	// seq > 0 always holds; PostgreSQL's index of the feed of every partner is partial on it,
	// so that a partner's feed, which does not state it, keeps to the partner's own index.
	where := "seq > 0 AND "
	if partner {
		where = "partner_id = ? AND "
	}
	return `SELECT ` + eventColumns + ` FROM events WHERE ` + where + d.FeedOrder + ` LIMIT ?`
}

// feedPosition selects the position of an event in the feeds of every partner, or of one
// partner (its second argument) when partner is set.
func (d *Dialect) feedPosition(partner bool) string {
	if partner {
		return d.FeedPosition + " AND partner_id = ?"
	}
	return d.FeedPosition
}

func (d *Dialect) claimQuery() string { return fmt.Sprintf(qDeliveryClaim, d.SkipLocked) }

// Store is a provisioning.Store over a SQL database.
type Store struct {
	db      *sqlx.DB // reads
	writeDB *sqlx.DB // transactions; the same as db unless the database wants one writer
	d       Dialect
	timeout time.Duration          // of one statement; 0 for none
	stmts   map[stmtKey]*sqlx.Stmt // filled by Prepare, read-only after; nil without
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
	return fn(&tx{s: s, db: s.db, q: s.db})
}

// Write implements provisioning.Store with one database transaction.
func (s *Store) Write(ctx context.Context, fn func(provisioning.Tx) error) error {
	t, err := s.writeDB.BeginTxx(ctx, nil)
	if err != nil {
		return s.internal(err)
	}
	x := &tx{s: s, db: s.writeDB, t: t, q: t, fresh: true}
	if err := x.run(ctx, fn); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return s.internal(err)
	}
	if x.purged {
		s.afterPurge(ctx)
	}
	return nil
}

// afterPurge runs the dialect's AfterPurge. It is best effort: what it could not remove now (a
// reader held the WAL, say) goes with the next purge's, or when the database closes.
func (s *Store) afterPurge(ctx context.Context) {
	if s.d.AfterPurge == "" {
		return
	}
	rows, err := s.writeDB.QueryContext(ctx, s.d.AfterPurge)
	if err != nil {
		return
	}
	for rows.Next() {
	}
	_ = rows.Close()
}

// Ping implements provisioning.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.internal(err)
	}
	return nil
}

// Close implements provisioning.Store: it closes the prepared statements and the databases.
func (s *Store) Close() error {
	s.CloseStatements()
	err := s.db.Close()
	if s.writeDB != s.db {
		err = errors.Join(err, s.writeDB.Close())
	}
	return err
}

// CloseStatements closes the statements Prepare prepared, leaving the databases open: the
// Close of a store opened on a database that is not its own.
func (s *Store) CloseStatements() {
	for _, st := range s.stmts {
		_ = st.Close()
	}
}

func (s *Store) internal(err error) error {
	return provisioning.Internal(fmt.Errorf("%s: %w", s.d.Name, err))
}

// querier runs statements: the database (Read) or the transaction (Write).
type querier interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// tx implements provisioning.Tx: on the database itself (Read) or in a transaction (Write).
type tx struct {
	s      *Store
	db     *sqlx.DB              // the database the statements run on
	t      *sqlx.Tx              // the transaction, in Write
	q      querier               // t, or db in Read
	events []*provisioning.Event // appended, written when the work ends (see run)
	depth  int                   // how many savepoints are open
	purged bool                  // PurgeTenant ran: AfterPurge is due after the commit
	fresh  bool                  // a Write's own transaction, in which no statement has run yet
}

func (x *tx) internal(err error) error { return x.s.internal(err) }

// lockLimit takes the partner's limit lock, where the database needs one.
func (x *tx) lockLimit(ctx context.Context, partnerID string) error {
	if x.s.d.LimitLock == "" {
		return nil
	}
	_, err := x.exec(ctx, x.s.d.LimitLock, partnerID)
	return err
}

// SetStatementTimeout bounds each statement of the store's Reads and Writes, savepoints
// included, to d, through the context the statement runs under: the driver cancels a statement
// that outlives it, and drops its connection, with the transaction on it. It is the client's
// side of PostgreSQL's statement_timeout, which needs no session state on the server. BEGIN,
// COMMIT and migrations are bounded by the caller's context only. Zero, the default, sets no
// bound. Call it before the store is used.
func (s *Store) SetStatementTimeout(d time.Duration) { s.timeout = d }

// bounded runs one statement under the statement timeout.
func (x *tx) bounded(ctx context.Context, run func(context.Context) error) error {
	x.fresh = false
	if x.s.timeout <= 0 {
		return run(ctx)
	}
	sctx, cancel := context.WithTimeout(ctx, x.s.timeout)
	defer cancel()
	err := run(sctx)
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("statement timeout (%s) reached: %w", x.s.timeout, err)
	}
	return err
}

// get runs a query expected to return one row into dest: the statement Prepare prepared for
// it, or else one that carries its arguments with it (an unnamed statement, which outlives
// neither its call nor, through a connection pooler, its server connection).
func (x *tx) get(ctx context.Context, dest any, query string, args ...any) error {
	return x.bounded(ctx, func(ctx context.Context) error {
		if st := x.prepared(ctx, query); st != nil {
			return st.GetContext(ctx, dest, args...)
		}
		return x.q.GetContext(ctx, dest, x.db.Rebind(query), args...)
	})
}

// sel runs a query into the slice dest, as get does.
func (x *tx) sel(ctx context.Context, dest any, query string, args ...any) error {
	return x.bounded(ctx, func(ctx context.Context) error {
		if st := x.prepared(ctx, query); st != nil {
			return st.SelectContext(ctx, dest, args...)
		}
		return x.q.SelectContext(ctx, dest, x.db.Rebind(query), args...)
	})
}

// exec runs a statement as get does, mapping a unique violation of the tenants' names to
// CodeTenantExists, and returns the number of rows it changed.
func (x *tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	var res sql.Result
	err := x.bounded(ctx, func(ctx context.Context) (err error) {
		if st := x.prepared(ctx, query); st != nil {
			res, err = st.ExecContext(ctx, args...)
		} else {
			res, err = x.q.ExecContext(ctx, x.db.Rebind(query), args...)
		}
		return err
	})
	if err != nil {
		if x.s.d.Conflict(err) {
			return 0, errTenantExists()
		}
		return 0, x.internal(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, x.internal(err)
	}
	return n, nil
}

// errTenantExists is the error of a write that would give two live tenants of a partner one
// name key or external id.
func errTenantExists() error {
	return &provisioning.Error{Code: provisioning.CodeTenantExists,
		Message: "a tenant with this company name or external id already exists"}
}
