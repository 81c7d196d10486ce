// Package sqlite is the embedded provisioning.Store: one SQLite file, pure Go
// (modernc.org/sqlite, no cgo), in WAL mode. It is provisiond's default.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/provisiond/provisiond/provisioning/store/internal/sqlstore"
)

func init() { sqlx.BindDriver("sqlite", sqlx.QUESTION) }

var dialect = sqlstore.Dialect{
	Name: "sqlite",
	// Writes go through one connection with BEGIN IMMEDIATE: a Write already excludes others.
	ForUpdate:     "",
	MigrationLock: "",
	AppendEvent: `INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING seq`,
	// A version 4 UUID from random bytes.
	NewUUID: `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
		substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`,
	SkipLocked: "",
	Time:       func(t time.Time) any { return t.UnixMilli() },
	MetadataMatch: func(m map[string]string) (string, []any, error) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var conds []string
		var args []any
		for _, k := range keys {
			conds = append(conds, "EXISTS (SELECT 1 FROM json_each(tenants.metadata) AS j WHERE j.key = ? AND j.value = ?)")
			args = append(args, k, m[k])
		}
		return strings.Join(conds, " AND "), args, nil
	},
	Conflict: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE &&
			strings.Contains(se.Error(), "tenants.") && !strings.Contains(se.Error(), "tenants.id")
	},
	// The column stays NOT NULL as it was made: an event without a tenant stores ''.
	EventTenant:  func(id string) any { return id },
	FeedPosition: `SELECT '0' AS xact, seq FROM events WHERE id = ?`,
	// One writer at a time: seq is the commit order. The position's xact is always '0'.
	FeedOrder: `? IS NOT NULL AND seq > ? AND (? = '' OR type = ?) ORDER BY seq`,
	// A purged tenant's old pages may still be frames of the WAL file: empty it. (The pages
	// themselves are zeroed as they are freed: secure_delete.)
	AfterPurge: "PRAGMA wal_checkpoint(TRUNCATE)",
}

// Open opens (creating if needed) the SQLite database file at path, applies the migrations it
// lacks, and returns the Store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	dsn := func(txlock string) string {
		q := url.Values{"_pragma": {"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(FULL)",
			"secure_delete(ON)"},
			"_txlock": {txlock}}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	db, err := sqlx.Open("sqlite", dsn("deferred"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	writeDB, err := sqlx.Open("sqlite", dsn("immediate"))
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	writeDB.SetMaxOpenConns(1) // one writer: writers queue in Go rather than spin on SQLITE_BUSY
	s := &Store{s: sqlstore.New(db, writeDB, dialect), ownDB: true}
	if err := s.open(ctx, Options{Migrate: true}); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Options tune OpenDB.
type Options struct {
	Migrate bool // apply the migrations the database lacks (see Migrate)
}

// OpenDB opens the store on a host's own database handle, which must use the
// modernc.org/sqlite driver (sql.Open("sqlite", …)). The store reads and writes through it as
// the host set it up; its connection string must turn foreign keys on (OpenDB checks), and
// should set a busy timeout and _txlock=immediate, without which concurrent writers fail with
// SQLITE_BUSY instead of waiting their turn:
//
//	file:host.db?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=secure_delete(ON)&_txlock=immediate
//
// Add _pragma=secure_delete(ON) too, as Open does: SQLite then overwrites deleted content with
// zeros, so that a purged tenant leaves no trace in the file's free space.
//
// The store changes nothing of the pool and only prepares its statements on it. Close releases
// those statements and leaves db open: it stays the host's to close, after the store's Close.
func OpenDB(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlite: OpenDB needs a database")
	}
	if _, ok := db.Driver().(*sqlite.Driver); !ok {
		return nil, fmt.Errorf("sqlite: OpenDB needs a database opened with the modernc.org/sqlite driver, not %T", db.Driver())
	}
	var fk int
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if fk != 1 {
		return nil, errors.New("sqlite: OpenDB needs foreign keys on: add _pragma=foreign_keys(1) to the connection string")
	}
	xdb := sqlx.NewDb(db, "sqlite")
	s := &Store{s: sqlstore.New(xdb, xdb, dialect)}
	if err := s.open(ctx, opts); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// open migrates the database if asked, and prepares the statements.
func (s *Store) open(ctx context.Context, opts Options) error {
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
