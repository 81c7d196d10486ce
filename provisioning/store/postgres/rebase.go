package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// An event's position in the feeds (events.xact) is a transaction id of the cluster that wrote
// it. A database restored (pg_dump, pg_restore) or replicated (logical replication) into
// another cluster keeps the positions of the old one, which the new cluster's transaction ids
// may not have reached: its feeds would hide those events until they do. A cluster's own
// positions never lie past its next transaction id, so such positions are recognised, and
// RebaseFeed gives them new ones. Logical replication also leaves the sequence of events.seq
// where the new cluster's schema began it, behind the copied rows: RebaseFeed moves it on.

// errMoved is the error of a store opened without Migrate on a database that needs RebaseFeed.
var errMoved = errors.New("postgres: the events were written by another PostgreSQL cluster " +
	"(the database was restored or replicated into this one): stop every provisiond, then run " +
	"'provisiond migrate' once (in a program: Options.Migrate, or postgres.RebaseFeed), so that the event feeds go on")

const (
	// qMoved reports whether an event's position lies past the next transaction id (the
	// index of the feed of every partner finds the last position at once) and whether the
	// sequence of seq lags the events.
	qMoved = `SELECT
		COALESCE((SELECT max(xact) FROM events WHERE seq > 0) > pg_snapshot_xmax(pg_current_snapshot()), false) AS positions,
		COALESCE((SELECT max(seq) FROM events) >
			COALESCE(pg_sequence_last_value(CAST(pg_get_serial_sequence('events', 'seq') AS regclass)), 0), false) AS sequence`
	// Every event gets position 0 and a new seq in its order in the feeds, so that each keeps
	// its place, before anything written from now on. Two steps: seq stays unique throughout.
	qRebaseOrder = `UPDATE events SET seq = -r.n, xact = '0'
		FROM (SELECT id, row_number() OVER (ORDER BY xact, seq) AS n FROM events) AS r
		WHERE events.id = r.id`
	qRebaseSeq  = `UPDATE events SET seq = -seq`
	qRebaseNext = `SELECT setval(pg_get_serial_sequence('events', 'seq'), max(seq)) FROM events`
)

// moved is what qMoved reports.
type moved struct {
	Positions bool `db:"positions"`
	Sequence  bool `db:"sequence"`
}

// RebaseFeed gives the events of a database moved from another cluster (restored or
// replicated) positions of this cluster, keeping their order, so that consumers go on from
// their cursors as if nothing had moved, and moves the sequence of seq past the copied events;
// it does nothing on a database that has not moved. Migrate calls it; a store opened without
// Migrate refuses a moved database until it has run, so a host that applies Migrations with its
// own tool calls RebaseFeed on its database handle after them. It locks the events against
// writes while it runs, and on a moved database rewrites the table twice over (time, and disk
// until VACUUM): run it after the copy, before provisiond serves. db must use the lib/pq
// driver; RebaseFeed reports whether it changed anything.
func RebaseFeed(ctx context.Context, db *sql.DB) (bool, error) {
	x := sqlx.NewDb(db, "postgres")
	if err := checkMoved(ctx, x); !errors.Is(err, errMoved) {
		return false, err
	}
	t, err := x.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	defer func() { _ = t.Rollback() }()
	// One re-base at a time, with no event written meanwhile; then look again.
	for _, q := range []string{dialect.MigrationLock, "LOCK TABLE events IN EXCLUSIVE MODE"} {
		if _, err := t.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("postgres: re-basing the event feeds: %w", err)
		}
	}
	var m moved
	if err := t.GetContext(ctx, &m, qMoved); err != nil {
		return false, fmt.Errorf("postgres: re-basing the event feeds: %w", err)
	}
	var steps []string
	switch {
	case m.Positions:
		steps = []string{qRebaseOrder, qRebaseSeq, qRebaseNext}
	case m.Sequence:
		steps = []string{qRebaseNext}
	}
	for _, q := range steps {
		if _, err := t.ExecContext(ctx, q); err != nil {
			return false, fmt.Errorf("postgres: re-basing the event feeds: %w", err)
		}
	}
	if err := t.Commit(); err != nil {
		return false, fmt.Errorf("postgres: re-basing the event feeds: %w", err)
	}
	return len(steps) > 0, nil
}

// checkMoved returns errMoved if the database needs RebaseFeed.
func checkMoved(ctx context.Context, db *sqlx.DB) error {
	var m moved
	if err := db.GetContext(ctx, &m, qMoved); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if m.Positions || m.Sequence {
		return errMoved
	}
	return nil
}
