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

// run does fn's work in x and, when it succeeds, writes the events it appended.
func (x *tx) run(ctx context.Context, fn func(provisioning.Tx) error) error {
	if err := fn(x); err != nil {
		return err
	}
	return x.writeEvents(ctx)
}

// writeEvents writes the appended events and queues their deliveries. Consecutive events of
// one partner are written by multi-row statements, a chunk at a time; a lone event by the
// statements of one (one statement where the database allows).
func (x *tx) writeEvents(ctx context.Context) error {
	events := x.events
	x.events = nil
	return eachRun(events, x.s.d.chunk(), func(run []*provisioning.Event) error {
		if len(run) == 1 {
			if !x.s.d.AppendEventFansOut {
				if err := x.fanOut(ctx, run[0]); err != nil {
					return err
				}
			}
			return x.insertEvent(ctx, run[0])
		}
		if err := x.fanOutAll(ctx, run); err != nil {
			return err
		}
		return x.insertEvents(ctx, run)
	})
}

// eachRun calls fn with each run of at most chunk consecutive events of one partner, in order.
func eachRun(events []*provisioning.Event, chunk int, fn func([]*provisioning.Event) error) error {
	for start := 0; start < len(events); {
		end := start + 1
		for end < len(events) && end-start < chunk && events[end].PartnerID == events[start].PartnerID {
			end++
		}
		if err := fn(events[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// fanOutAll queues the deliveries of a run of several of one partner's events.
func (x *tx) fanOutAll(ctx context.Context, run []*provisioning.Event) error {
	rows := make([]any, 0, 3*len(run))
	for _, e := range run {
		rows = append(rows, e.ID, string(e.Type), x.s.d.Time(e.CreatedAt))
	}
	from, args := x.s.d.rowsFrom(fanOutColumnTypes, rows)
	args = append(args, run[0].PartnerID)
	q := `INSERT INTO webhook_deliveries (id, webhook_id, partner_id, event_id, event_type,
		state, attempts, next_attempt_at, created_at, updated_at)
		SELECT ` + x.s.d.NewUUID + `, w.id, w.partner_id, v.column1, v.column2, 'pending', 0, v.column3, v.column3, v.column3
		FROM ` + from + `
		JOIN webhooks w ON w.events = '' OR (' ' || w.events || ' ') LIKE ('% ' || v.column2 || ' %')
		WHERE w.partner_id = ? AND NOT w.disabled`
	_, err := x.exec(ctx, q, args...)
	return err
}

// insertEvents writes a run of several of one partner's events and sets their Seq.
func (x *tx) insertEvents(ctx context.Context, run []*provisioning.Event) error {
	rows := make([]any, 0, 9*len(run))
	for i, e := range run {
		data, err := encodeEventPayload(e)
		if err != nil {
			return x.internal(err)
		}
		rows = append(rows, i, e.ID, e.PartnerID, string(e.Type), x.s.d.EventTenant(e.TenantID),
			null(e.Actor), null(e.RequestID), x.s.d.Time(e.CreatedAt), string(data))
	}
	from, args := x.s.d.rowsFrom(eventColumnTypes, rows)
	var written []struct {
		ID  string `db:"id"`
		Seq int64  `db:"seq"`
	}
	q := `INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
		SELECT v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9
		FROM ` + from + ` ORDER BY v.column1 RETURNING CAST(id AS TEXT) AS id, seq`
	if err := x.sel(ctx, &written, q, args...); err != nil {
		return x.internal(err)
	}
	seqs := make(map[string]int64, len(written))
	for _, r := range written {
		seqs[r.ID] = r.Seq
	}
	for _, e := range run {
		seq, ok := seqs[e.ID]
		if !ok {
			return x.internal(fmt.Errorf("event %s: no seq returned", e.ID))
		}
		e.Seq = seq
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
