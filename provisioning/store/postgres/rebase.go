package postgres

import (
	"context"
	"errors"
	"fmt"
)

// An event's position in the feeds (events.xact) is a transaction id of the cluster that wrote
// it. A database restored (pg_dump, pg_restore) or replicated (logical replication) into
// another cluster keeps the positions of the old one, which the new cluster's transaction ids
// have not reached: its feeds would hide those events until they do, then skip what was
// written meanwhile. A cluster's own positions never lie past its next transaction id, so
// such positions are recognised, and RebaseFeed gives them new ones.

// errForeignPositions is the error of a store opened without Migrate on a database that needs
// RebaseFeed.
var errForeignPositions = errors.New("postgres: the events were written by another PostgreSQL cluster " +
	"(the database was restored or replicated into this one): run 'provisiond migrate' (Migrate or " +
	"RebaseFeed in a program) once, before the database is written to, so that the event feeds go on")

const (
	// qForeignPositions reports whether an event lies past the next transaction id (the
	// index of the feed of every partner finds the last position at once).
	qForeignPositions = `SELECT COALESCE(max(xact) > pg_snapshot_xmax(pg_current_snapshot()), false)
		FROM events WHERE seq > 0`
	// Every event gets position 0 and a new seq in its order in the feeds, so that each keeps
	// its place, before anything written from now on. Two steps: seq stays unique throughout.
	qRebaseOrder = `UPDATE events SET seq = -r.n, xact = '0'
		FROM (SELECT id, row_number() OVER (ORDER BY xact, seq) AS n FROM events) AS r
		WHERE events.id = r.id`
	qRebaseSeq  = `UPDATE events SET seq = -seq`
	qRebaseNext = `SELECT setval(pg_get_serial_sequence('events', 'seq'), max(seq)) FROM events`
)

// RebaseFeed gives the events of a database moved from another cluster (restored or
// replicated) positions of this cluster, keeping their order, so that consumers go on from
// their cursors as if nothing had moved; it does nothing on a database that has not moved.
// Migrate calls it; a store opened without Migrate refuses a moved database until it has run.
// It locks the events against writes while it runs: run it before provisiond serves.
func (s *Store) RebaseFeed(ctx context.Context) error {
	if err := s.checkPositions(ctx); !errors.Is(err, errForeignPositions) {
		return err
	}
	t, err := s.DB().BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer func() { _ = t.Rollback() }()
	// One re-base at a time, with no event written meanwhile; then look again.
	var moved bool
	for _, q := range []string{dialect.MigrationLock, "LOCK TABLE events IN EXCLUSIVE MODE"} {
		if _, err := t.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("postgres: re-basing the event feeds: %w", err)
		}
	}
	if err := t.GetContext(ctx, &moved, qForeignPositions); err != nil {
		return fmt.Errorf("postgres: re-basing the event feeds: %w", err)
	}
	if !moved {
		return nil
	}
	for _, q := range []string{qRebaseOrder, qRebaseSeq, qRebaseNext} {
		if _, err := t.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("postgres: re-basing the event feeds: %w", err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("postgres: re-basing the event feeds: %w", err)
	}
	return nil
}

// checkPositions returns errForeignPositions if the database needs RebaseFeed.
func (s *Store) checkPositions(ctx context.Context) error {
	var moved bool
	if err := s.DB().GetContext(ctx, &moved, qForeignPositions); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if moved {
		return errForeignPositions
	}
	return nil
}
