// Package postgres is the PostgreSQL provisioning.Store (sqlx + lib/pq), for production: several
// provisiond replicas share one database, and its unique indexes keep the uniqueness rules
// under races between them.
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
	MaxOpenConns     int           // Open only; default 20
	StatementTimeout time.Duration // Open only; default 10s, sent as statement_timeout unless the URL sets it
	Migrate          bool          // apply the migrations the database lacks (see Migrate)
}

var dialect = sqlstore.Dialect{
	Name:          "postgres",
	ForUpdate:     " FOR UPDATE",
	MigrationLock: "SELECT pg_advisory_xact_lock(7353360542)",
	// A 64-bit hash of the length-prefixed pair; the two-key locks of AppendEvent live apart.
	IdempotencyLock: `SELECT pg_try_advisory_xact_lock(hashtextextended(length($1::text) || ':' || $1::text || $2::text, 0))`,
	// Transaction-scoped, so that it works behind PgBouncer's transaction pooling; the two-key
	// form with its own first key, apart from the ordering locks of AppendEvent.
	LimitLock: "SELECT pg_advisory_xact_lock(43, hashtext($1))",
	// The lock is taken in the same round trip, before seq is drawn.
	AppendEvent: `INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
		SELECT $1::uuid, $2, $3, $4::uuid, $5, $6, $7::timestamptz, $8::jsonb
		FROM (SELECT pg_advisory_xact_lock(42, hashtext($2))) AS serialize RETURNING seq`,
	NewUUID:    "gen_random_uuid()",
	SkipLocked: " FOR UPDATE SKIP LOCKED",
	Time:       func(t time.Time) any { return t.UTC() },
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
	// Every partner's feed goes in the order of the transactions that wrote the events (xact,
	// pg_current_xact_id() by default) and shows only those of transactions older than the
	// oldest one still running in the statement's snapshot: every one of them has ended, so
	// none can add an event before a position a reader has passed.
	FeedPosition: `SELECT CAST(xact AS TEXT) AS xact, seq FROM events WHERE id = ?`,
	FeedOrder: `(xact, seq) > (CAST(? AS xid8), ?) AND xact < pg_snapshot_xmin(pg_current_snapshot())
		AND (? = '' OR type = ?) ORDER BY xact, seq`,
}

// Open connects to the database at a postgres:// or postgresql:// URL and checks that it answers.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("postgres: the database URL must start with postgres:// or postgresql://")
	}
	q := u.Query()
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = 10 * time.Second
	}
	if !q.Has("statement_timeout") {
		q.Set("statement_timeout", fmt.Sprint(opts.StatementTimeout.Milliseconds()))
	}
	if !q.Has("connect_timeout") {
		q.Set("connect_timeout", "10")
	}
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
// to choose, in its connection string — and only prepares its statements on it. Close releases
// those statements and leaves db open: it stays the host's to close, after the store's Close.
// Of opts only Migrate applies.
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

// open checks that the database answers, migrates it if asked, and prepares the statements.
func (s *Store) open(ctx context.Context, opts Options) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			return err
		}
	}
	if err := s.s.Prepare(ctx); err != nil {
		return fmt.Errorf("%w (is the schema there? migrate the database first: Migrate, Options.Migrate, or Migrations)", err)
	}
	return nil
}
