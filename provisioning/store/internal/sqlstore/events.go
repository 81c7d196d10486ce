package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// eventColumns are the columns every SELECT of events reads, in eventRow's order.
const eventColumns = `seq, id, partner_id, type, COALESCE(CAST(tenant_id AS TEXT), '') AS tenant_id,
	COALESCE(actor, '') AS actor, COALESCE(request_id, '') AS request_id, created_at, data`

const (
	// One tenant's events, for its export.
	qTenantEvents = `SELECT seq, id, partner_id, type, tenant_id, COALESCE(actor, '') AS actor,
		COALESCE(request_id, '') AS request_id, created_at, data
		FROM events WHERE partner_id = ? AND tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`
	qTenantEventSeq = `SELECT seq FROM events WHERE partner_id = ? AND tenant_id = ? AND id = ?`
)

type eventRow struct {
	Seq       int64  `db:"seq"`
	ID        string `db:"id"`
	PartnerID string `db:"partner_id"`
	Type      string `db:"type"`
	TenantID  string `db:"tenant_id"`
	Actor     string `db:"actor"`
	RequestID string `db:"request_id"`
	CreatedAt dbTime `db:"created_at"`
	Data      []byte `db:"data"`
}

// AppendEvent implements provisioning.Tx: the event waits for the end of the work (see run).
func (x *tx) AppendEvent(_ context.Context, e *provisioning.Event) error {
	if x.t == nil {
		return x.internal(errors.New("an event outside a Write"))
	}
	x.events = append(x.events, e)
	return nil
}

// insertEvent writes an appended event and sets its Seq (and, where AppendEventFansOut,
// queues its deliveries).
func (x *tx) insertEvent(ctx context.Context, e *provisioning.Event) error {
	data, err := encodeEventPayload(e)
	if err != nil {
		return x.internal(err)
	}
	args := []any{e.ID, e.PartnerID, string(e.Type), x.s.d.EventTenant(e.TenantID),
		null(e.Actor), null(e.RequestID), x.s.d.Time(e.CreatedAt), string(data)}
	if err := x.get(ctx, &e.Seq, x.s.d.AppendEvent, args...); err != nil {
		return x.internal(err)
	}
	return nil
}

// ListEvents implements provisioning.Tx: a page of the feed, in the dialect's order, after the
// position of the event q.AfterID.
func (x *tx) ListEvents(ctx context.Context, q provisioning.EventQuery) ([]*provisioning.Event, error) {
	partner := !q.AllPartners
	pos := struct {
		Xact string `db:"xact"`
		Seq  int64  `db:"seq"`
	}{Xact: "0"}
	if q.AfterID != "" {
		args := []any{q.AfterID}
		if partner {
			args = append(args, q.PartnerID)
		}
		err := x.get(ctx, &pos, x.s.d.feedPosition(partner), args...)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, provisioning.Errorf(provisioning.CodeNotFound, "event not found")
		}
		if err != nil {
			return nil, x.internal(err)
		}
	}
	args := make([]any, 0, 6)
	if partner {
		args = append(args, q.PartnerID)
	}
	args = append(args, pos.Xact, pos.Seq, string(q.Type), string(q.Type), q.Limit)
	var rows []eventRow
	if err := x.sel(ctx, &rows, x.s.d.FeedQuery(partner), args...); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.Event, len(rows))
	for i := range rows {
		var err error
		if out[i], err = rows[i].event(); err != nil {
			return nil, x.internal(err)
		}
	}
	return out, nil
}

// ListTenantEvents implements provisioning.Tx.
func (x *tx) ListTenantEvents(ctx context.Context, params *provisioning.ListTenantEventsParams) ([]*provisioning.Event, error) {
	var after int64
	if params.AfterID != "" {
		err := x.get(ctx, &after, qTenantEventSeq, params.PartnerID, params.TenantID, params.AfterID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, provisioning.Errorf(provisioning.CodeNotFound, "event not found")
		}
		if err != nil {
			return nil, x.internal(err)
		}
	}
	var rows []eventRow
	if err := x.sel(ctx, &rows, qTenantEvents, params.PartnerID, params.TenantID, after, params.Limit); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.Event, len(rows))
	for i := range rows {
		var err error
		if out[i], err = rows[i].event(); err != nil {
			return nil, x.internal(err)
		}
	}
	return out, nil
}

func (r *eventRow) event() (*provisioning.Event, error) {
	e := &provisioning.Event{Seq: r.Seq, ID: r.ID, PartnerID: r.PartnerID, Type: provisioning.EventType(r.Type),
		TenantID: r.TenantID, Actor: r.Actor, RequestID: r.RequestID, CreatedAt: time.Time(r.CreatedAt)}
	if err := decodeEventPayload(r.Data, e); err != nil {
		return nil, fmt.Errorf("event %s: %w", r.ID, err)
	}
	return e, nil
}
