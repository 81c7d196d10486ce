// Package postgres is the PostgreSQL provisioning.Store (sqlx + lib/pq), for production: several
// provisiond replicas share one database, and its unique indexes keep the uniqueness rules
// under races between them.
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
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
	MaxOpenConns     int           // default 20
	StatementTimeout time.Duration // default 10s; sent as statement_timeout unless the URL sets it
	Migrate          bool          // apply migrations on Open
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
	s := &Store{sqlstore.New(db, db, dialect)}
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
	if err := s.Prepare(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("%w (has 'provisiond migrate' run?)", err)
	}
	return s, nil
}

// Migrate applies the migrations the database lacks. Replicas may call it at the same time: an
// advisory lock lets one apply them.
func (s *Store) Migrate(ctx context.Context) error {
	sub, _ := fs.Sub(migrations, "migrations")
	return s.Store.Migrate(ctx, sub)
}
