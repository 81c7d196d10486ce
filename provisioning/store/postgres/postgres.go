// Package postgres is the PostgreSQL provisioning.Store (sqlx + lib/pq), for production: several
// provisiond replicas share one database, and its unique indexes keep the uniqueness rules
// under races between them.
//
// It keeps no state in a database session, so that it works behind PgBouncer in transaction
// pooling mode, where consecutive transactions of one connection may run on different server
// connections: it sends no startup parameter beyond the driver's own, keeps no named prepared
// statement (each statement carries its arguments, unnamed), takes only transaction-scoped
// advisory locks, and sets nothing with SET, LISTEN or temporary tables. The statement timeout
// is the client's (Options.StatementTimeout).
//
// Writers take no lock to order events: the event feeds follow the transactions that wrote
// them and show an event once every transaction older than the reader's snapshot has ended, so
// a feed may trail the commits while any write transaction of the cluster runs. Keep
// transactions short.
package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/provisiond/provisiond/provisioning/store/internal/sqlstore"
)

// Options tune Open and OpenDB. Zero values take the defaults.
type Options struct {
	// MaxOpenConns is the most connections the store opens (Open only), default 20.
	MaxOpenConns int
	// StatementTimeout bounds each statement of the store's Reads and Writes: default 10s
	// after Open, none after OpenDB; negative for none. The store cancels a statement that
	// outlives it (the driver sends PostgreSQL a cancel request) rather than set
	// statement_timeout in the session, which PgBouncer's transaction pooling would not keep.
	// Migrations are not bounded by it.
	StatementTimeout time.Duration
	// Migrate applies the migrations the database lacks (see Migrate).
	Migrate bool
}

var dialect = sqlstore.Dialect{
	Name:          "postgres",
	ForUpdate:     " FOR UPDATE",
	MigrationLock: "SELECT pg_advisory_xact_lock(7353360542)",
	// A 64-bit hash of the length-prefixed pair, apart from the two-key LimitLock.
	IdempotencyLock: `SELECT pg_try_advisory_xact_lock(hashtextextended(length($1::text) || ':' || $1::text || $2::text, 0))`,
	// Transaction-scoped, so that it works behind PgBouncer's transaction pooling; the two-key
	// form with its own first key.
	LimitLock: "SELECT pg_advisory_xact_lock(43, hashtext($1))",
	// The create's two writes are functions (migration 0018), which keep their statements'
	// plans on the server connection: unnamed statements are planned on every call. No lock
	// orders the events: the feeds follow the writing transactions (FeedOrder).
	AppendEvent: `SELECT provisioning_append_event(CAST(? AS uuid), ?, ?, CAST(? AS uuid), ?, ?,
		CAST(? AS timestamptz), CAST(? AS jsonb))`,
	AppendEventFansOut: true,
	InsertTenant: `SELECT provisioning_insert_tenant(CAST(? AS uuid), ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), ?,
		CAST(? AS timestamptz), CAST(? AS timestamptz), CAST(? AS timestamptz), CAST(? AS jsonb), ?, CAST(? AS timestamptz))`,
	Array:      func(values []any) any { return pq.GenericArray{A: values} },
	NewUUID:    "gen_random_uuid()",
	SkipLocked: " FOR UPDATE SKIP LOCKED",
	// Each savepoint is a round trip; a create in its own transaction needs none.
	RestartFresh: true,
	Time:         func(t time.Time) any { return t.UTC() },
	MetadataMatch: func(m map[string]string) (string, []any, error) {
		b, err := json.Marshal(m)
		return "metadata @> ?::jsonb", []any{string(b)}, err
	},
	Conflict: func(err error) bool {
		var pe *pq.Error
		return errors.As(err, &pe) && pe.Code == "23505" &&
			(pe.Constraint == "tenants_name_key" || pe.Constraint == "tenants_external_id_key")
	},
	EventTenant: func(id string) any {
		if id == "" {
			return nil
		}
		return id
	},
	// The feeds go in the order of the events' positions (xact, set by
	// provisioning_feed_position(): the next transaction id when the event is written, past
	// its writer's own) and show only those not past the oldest transaction still running in
	// the statement's snapshot: their writers have ended, and every transaction still to commit
	// writes positions past that point, so no event can later appear before a position a reader
	// has passed. Writers take no lock for it.
	FeedPosition: `SELECT CAST(xact AS TEXT) AS xact, seq FROM events WHERE id = ?`,
	FeedOrder: `(xact, seq) > (CAST(? AS xid8), ?) AND xact <= pg_snapshot_xmin(pg_current_snapshot())
		AND (? = '' OR type = ?) ORDER BY xact, seq`,
}

// Open connects to the database at a postgres:// or postgresql:// URL and checks that it
// answers. To the URL it adds two settings of the driver's own, which are not sent to the
// server: connect_timeout=10 unless the URL sets it, and binary_parameters=yes.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("postgres: the database URL must start with postgres:// or postgresql://")
	}
	q := u.Query()
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = 10 * time.Second
	}
	if !q.Has("connect_timeout") { // the driver's own: not sent to the server
		q.Set("connect_timeout", "10")
	}
	// The driver's own too. With it, a statement with arguments is one round trip — parse, bind,
	// execute, sync — rather than two, each ended by a sync: between those, PgBouncer would hand
	// the server connection, and the unnamed statement parsed on it, to another client.
	// []byte arguments go in binary format, which is what a bytea column wants.
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // the URL may hold a password: never print it
	}
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 20
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{s: sqlstore.New(db, db, dialect), ownDB: true}
	if err := s.open(ctx, opts); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// OpenDB opens the store on a host's own database handle, which must use the lib/pq driver
// (sql.Open("postgres", …) or sql.OpenDB(pq.NewConnector(…))). The store leaves the pool as the
// host set it — size, lifetimes and session settings such as statement_timeout are the host's
// to choose, in its connection string — and keeps no prepared statement on it. Close leaves db
// open: it stays the host's to close. Of opts only Migrate and StatementTimeout apply. Behind
// PgBouncer in transaction pooling mode, the host's connection string needs the driver's
// binary_parameters=yes, which Open sets (see Open).
func OpenDB(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("postgres: OpenDB needs a database")
	}
	if _, ok := db.Driver().(*pq.Driver); !ok {
		return nil, fmt.Errorf("postgres: OpenDB needs a database opened with the lib/pq driver, not %T", db.Driver())
	}
	xdb := sqlx.NewDb(db, "postgres")
	s := &Store{s: sqlstore.New(xdb, xdb, dialect)}
	if err := s.open(ctx, opts); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// open checks that the database answers, migrates it if asked, and checks that the schema has
// what the statements need.
func (s *Store) open(ctx context.Context, opts Options) error {
	s.s.SetStatementTimeout(max(opts.StatementTimeout, 0))
	if err := s.Ping(ctx); err != nil {
		return err
	}
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			return err
		}
	}
	if err := s.s.CheckSchema(ctx); err != nil {
		return fmt.Errorf("%w (is the schema there? migrate the database first: Migrate, Options.Migrate, or Migrations)", err)
	}
	return checkMoved(ctx, s.DB())
}
