package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/provisioning"
)

// The mechanics of a transaction's work, which the provisioning.Tx contract keeps from its
// callers: events written when the work ends, methods that undo their own failures, and the
// work done in a host application's own transaction.

// run does fn's work in x and, when it succeeds, writes the events it appended. Writing them
// last keeps PostgreSQL's per-partner ordering lock (taken by the event insert, held until the
// commit) from being held while the work may still wait for another transaction's rows, which
// could wait for that lock.
func (x *tx) run(ctx context.Context, fn func(provisioning.Tx) error) error {
	if err := fn(x); err != nil {
		return err
	}
	return x.writeEvents(ctx)
}

// writeEvents writes the appended events: every event's deliveries, then the events, which take
// the ordering lock.
func (x *tx) writeEvents(ctx context.Context) error {
	events := x.events
	x.events = nil
	for _, e := range events {
		if err := x.fanOut(ctx, e); err != nil {
			return err
		}
	}
	for _, e := range events {
		if err := x.insertEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// atomically runs fn so that, when it fails, its statements alone are undone and the
// transaction can go on: in a savepoint (PostgreSQL refuses every statement after a failed
// one until the savepoint is rolled back to). Changes are for transactions only.
func (x *tx) atomically(ctx context.Context, fn func() error) error {
	if x.t == nil {
		return x.internal(errors.New("a change outside a Write"))
	}
	x.depth++
	defer func() { x.depth-- }()
	name := fmt.Sprintf("provisioning_%d", x.depth)
	if _, err := x.exec(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(); err != nil {
		// The undo must succeed for the transaction to go on; if it does not, the
		// transaction is lost and the caller gives it up.
		if _, uerr := x.exec(ctx, "ROLLBACK TO SAVEPOINT "+name); uerr != nil {
			return uerr
		}
		_, _ = x.exec(ctx, "RELEASE SAVEPOINT "+name)
		return err
	}
	if _, err := x.exec(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return err
	}
	return nil
}

// restart rolls the transaction back and begins it anew on the same connection: the undo of a
// failed first statement, where a savepoint before it would have cost a round trip.
func (x *tx) restart(ctx context.Context) error {
	if _, err := x.t.ExecContext(ctx, "ROLLBACK"); err != nil {
		return err
	}
	_, err := x.t.ExecContext(ctx, "BEGIN")
	return err
}

// BeginTx starts a transaction on the database the store writes to, for a host application
// that provisions inside its own transaction: do the provisioning in WriteTx, the host's own
// work beside it, and commit or roll back.
func (s *Store) BeginTx(ctx context.Context) (*sql.Tx, error) {
	return s.writeDB.BeginTx(ctx, nil)
}

// WriteTx runs fn in host, a transaction of the store's database that the caller began and will
// end, as Write runs it in a transaction of its own: when fn returns nil its work stays in host,
// the events it appended written; when fn fails its work is undone (to a savepoint) and host
// goes on. Host is never committed or rolled back here.
func (s *Store) WriteTx(ctx context.Context, host *sql.Tx, fn func(provisioning.Tx) error) error {
	if host == nil {
		return s.internal(errors.New("WriteTx needs the host's transaction"))
	}
	t := &sqlx.Tx{Tx: host, Mapper: s.writeDB.Mapper}
	x := &tx{s: s, db: s.writeDB, t: t, q: t}
	return x.atomically(ctx, func() error { return x.run(ctx, fn) })
}
