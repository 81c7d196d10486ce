// Package postgres is the PostgreSQL provisioning.Store (sqlx + lib/pq), for production: several
// provisiond replicas share one database, and its unique indexes keep the uniqueness rules
// under races between them.
//
// It keeps no state in a database session, so that it works behind PgBouncer in transaction
// pooling mode, where consecutive transactions of one connection may run on different server
// connections: it sends no startup parameter beyond the driver's own, prepares no named
// statement (each statement carries its arguments, unnamed), takes only transaction-scoped
// advisory locks, and sets nothing with SET, LISTEN or temporary tables. The statement timeout
// is the client's (Options.StatementTimeout).
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune the connection pool. Zero values take the defaults.
type Options struct {
	// MaxOpenConns is the most connections the store opens, default 20.
	MaxOpenConns int
	// StatementTimeout bounds each statement of the store's Reads and Writes, default 10s;
	// negative for none. The store cancels a statement that outlives it (the driver sends
	// PostgreSQL a cancel request) rather than set statement_timeout in the session, which
	// PgBouncer's transaction pooling would not keep. Migrations are not bounded by it.
	StatementTimeout time.Duration
	// Migrate applies the migrations the database lacks on Open. Without it, Open fails on a
	// database whose schema is older than the store's.
	Migrate bool
}

// Store is the PostgreSQL provisioning.Store.
type Store struct {
	*sqlstore.Store
}

var _ provisioning.Store = (*Store)(nil)

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
	s := &Store{sqlstore.New(db, db, dialect)}
	s.SetStatementTimeout(max(opts.StatementTimeout, 0))
	if err := s.Ping(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if opts.Migrate {
		if err := s.Migrate(ctx); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	if err := s.checkSchema(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// checkSchema fails unless the database holds the migrations of this store, the last included.
func (s *Store) checkSchema(ctx context.Context) error {
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	want := 0
	for _, f := range files {
		num, _, _ := strings.Cut(path.Base(f), "_")
		if v, err := strconv.Atoi(num); err == nil {
			want = max(want, v)
		}
	}
	var have int
	if err := s.DB().GetContext(ctx, &have, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"); err != nil {
		return fmt.Errorf("postgres: reading the schema version (has 'provisiond migrate' run?): %w", err)
	}
	if have < want {
		return fmt.Errorf("postgres: the database schema is at migration %d, this provisiond needs %d: run 'provisiond migrate'", have, want)
	}
	return nil
}

// Migrate applies the migrations the database lacks. Replicas may call it at the same time: an
// advisory lock lets one apply them.
func (s *Store) Migrate(ctx context.Context) error {
	sub, _ := fs.Sub(migrations, "migrations")
	return s.Store.Migrate(ctx, sub)
}
