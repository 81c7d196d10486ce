package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/provisiond/provisiond/provisioning"
)

const (
	webhookColumns = `id, partner_id, url, events, COALESCE(description, '') AS description, secret, created_at,
		COALESCE(previous_secret, '') AS previous_secret, COALESCE(previous_until, created_at) AS previous_until, disabled`
	qWebhookInsert = `INSERT INTO webhooks (id, partner_id, url, events, description, secret, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	qWebhookCount   = `SELECT count(*) FROM webhooks WHERE partner_id = ?`
	qWebhookGet     = `SELECT ` + webhookColumns + ` FROM webhooks WHERE partner_id = ? AND id = ?`
	qWebhookList    = `SELECT ` + webhookColumns + ` FROM webhooks WHERE partner_id = ? ORDER BY created_at, id`
	qWebhookDelete  = `DELETE FROM webhooks WHERE partner_id = ? AND id = ?`
	qWebhookSecrets = `UPDATE webhooks SET secret = ?, previous_secret = ?, previous_until = ? WHERE partner_id = ? AND id = ?`
	// NULL leaves a member as it is; an empty description is stored as '' (read as none).
	qWebhookUpdate = `UPDATE webhooks SET url = COALESCE(?, url), events = COALESCE(?, events),
		description = COALESCE(?, description), disabled = COALESCE(?, disabled) WHERE partner_id = ? AND id = ?`

	deliveryColumns = `id, webhook_id, partner_id, event_id, event_type, state, attempts, next_attempt_at,
		COALESCE(last_status, 0) AS last_status, COALESCE(last_error, '') AS last_error, created_at, updated_at`
	qDeliveryList = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries
		WHERE partner_id = ? AND webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`
	qDeliveryFinish = `UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?, last_status = ?,
		last_error = ?, updated_at = ?, leased_until = NULL WHERE id = ?`
	qDeliveryGet = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries
		WHERE partner_id = ? AND webhook_id = ? AND id = ?`
	qDeliveryInsert = `INSERT INTO webhook_deliveries (id, webhook_id, partner_id, event_id, event_type,
		state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`
	// A disabled endpoint's pending deliveries are held (due at notYet), and released when it
	// is enabled again; the claim skips a disabled endpoint's deliveries all the same (one in
	// flight when it was disabled may come back due).
	qDeliveriesHold    = `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE webhook_id = ? AND state = 'pending'`
	qDeliveriesRelease = `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE webhook_id = ? AND state = 'pending' AND next_attempt_at = ?`
	// Pending deliveries to enabled endpoints, and when the oldest was queued.
	qDeliveriesPending = `SELECT count(*) AS n, MIN(d.created_at) AS oldest FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id WHERE d.state = 'pending' AND NOT w.disabled`
	// The event's deliveries, one per endpoint of its partner that wants its type.
	qDeliveryFanOut = `INSERT INTO webhook_deliveries (id, webhook_id, partner_id, event_id, event_type,
		state, attempts, next_attempt_at, created_at, updated_at)
		SELECT %s, id, partner_id, ?, ?, 'pending', 0, ?, ?, ? FROM webhooks
		WHERE partner_id = ? AND NOT disabled AND (events = '' OR (' ' || events || ' ') LIKE ('%% ' || ? || ' %%'))`
	// Claiming leases due deliveries (not those of a disabled endpoint, which wait): their due
	// time becomes the end of the lease, and so does leased_until, which marks them in flight
	// until their outcome is recorded (or the lease ends). Inside out: c ranks each endpoint's due deliveries after those it has in
	// flight (nth); r keeps those within the endpoint's bound and ranks them per partner after
	// the partner's in flight (turn); the claim takes the lowest turns within the partner's
	// bound. Window functions may not sit beside FOR UPDATE, so the chosen ids are locked by a
	// query of their own, which checks again that each is still due: a row that a concurrent
	// claimer took meanwhile is skipped, not replaced by the endpoint's next one.
	qDeliveryClaim = `UPDATE webhook_deliveries SET next_attempt_at = ?, leased_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE id IN (
			SELECT id FROM (
				SELECT c.id, c.next_attempt_at,
					COALESCE(p.n, 0) + ROW_NUMBER() OVER (PARTITION BY c.partner_id ORDER BY c.next_attempt_at, c.id) AS turn
				FROM (
					SELECT d.id, d.partner_id, d.next_attempt_at,
						COALESCE(e.n, 0) + ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.id) AS nth
					FROM webhook_deliveries d
					LEFT JOIN (SELECT webhook_id, count(*) AS n FROM webhook_deliveries
						WHERE leased_until > ? GROUP BY webhook_id) e ON e.webhook_id = d.webhook_id
					WHERE d.state = 'pending' AND d.next_attempt_at <= ?
						AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id AND w.disabled)
				) c
				LEFT JOIN (SELECT partner_id, count(*) AS n FROM webhook_deliveries
					WHERE leased_until > ? GROUP BY partner_id) p ON p.partner_id = c.partner_id
				WHERE c.nth <= ?
			) r WHERE r.turn <= ? ORDER BY r.turn, r.next_attempt_at, r.id LIMIT ?
		) AND state = 'pending' AND next_attempt_at <= ?%s)
		RETURNING ` + deliveryColumns
)

type webhookRow struct {
	ID          string `db:"id"`
	PartnerID   string `db:"partner_id"`
	URL         string `db:"url"`
	Events      string `db:"events"`
	Description string `db:"description"`
	Secret      string `db:"secret"`
	CreatedAt   dbTime `db:"created_at"`
	Previous    string `db:"previous_secret"`
	PrevUntil   dbTime `db:"previous_until"`
	Disabled    bool   `db:"disabled"`
}

func (r *webhookRow) webhook() *provisioning.Webhook {
	w := &provisioning.Webhook{ID: r.ID, PartnerID: r.PartnerID, URL: r.URL, Description: r.Description,
		Secret: r.Secret, CreatedAt: time.Time(r.CreatedAt), PreviousSecret: r.Previous, PreviousUntil: time.Time(r.PrevUntil),
		Disabled: r.Disabled}
	for _, t := range strings.Fields(r.Events) {
		w.Events = append(w.Events, provisioning.EventType(t))
	}
	return w
}

type deliveryRow struct {
	ID            string `db:"id"`
	WebhookID     string `db:"webhook_id"`
	PartnerID     string `db:"partner_id"`
	EventID       string `db:"event_id"`
	EventType     string `db:"event_type"`
	State         string `db:"state"`
	Attempts      int    `db:"attempts"`
	NextAttemptAt dbTime `db:"next_attempt_at"`
	LastStatus    int    `db:"last_status"`
	LastError     string `db:"last_error"`
	CreatedAt     dbTime `db:"created_at"`
	UpdatedAt     dbTime `db:"updated_at"`
}

func (r *deliveryRow) delivery() *provisioning.Delivery {
	return &provisioning.Delivery{ID: r.ID, WebhookID: r.WebhookID, PartnerID: r.PartnerID, EventID: r.EventID,
		EventType: provisioning.EventType(r.EventType), State: provisioning.DeliveryState(r.State), Attempts: r.Attempts,
		NextAttemptAt: time.Time(r.NextAttemptAt), LastStatus: r.LastStatus, LastError: r.LastError,
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt)}
}

func eventTypes(ts []provisioning.EventType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, " ")
}

// InsertWebhook implements provisioning.Tx: it counts the partner's endpoints under the
// partner's limit lock, so that a concurrent registration counts after this one commits.
func (x *tx) InsertWebhook(ctx context.Context, params *provisioning.InsertWebhookParams) (bool, error) {
	w := params.Webhook
	if err := x.lockLimit(ctx, w.PartnerID); err != nil {
		return false, err
	}
	var n int
	if err := x.get(ctx, &n, qWebhookCount, w.PartnerID); err != nil {
		return false, x.internal(err)
	}
	if n >= params.Limit {
		return false, nil
	}
	_, err := x.exec(ctx, qWebhookInsert, w.ID, w.PartnerID, w.URL, eventTypes(w.Events), null(w.Description),
		w.Secret, x.s.d.Time(w.CreatedAt))
	return err == nil, err
}

// GetWebhook implements provisioning.Tx.
func (x *tx) GetWebhook(ctx context.Context, params *provisioning.GetWebhookParams) (*provisioning.Webhook, error) {
	var r webhookRow
	err := x.get(ctx, &r, qWebhookGet, params.PartnerID, params.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "webhook not found")
	}
	if err != nil {
		return nil, x.internal(err)
	}
	return r.webhook(), nil
}

// ListWebhooks implements provisioning.Tx.
func (x *tx) ListWebhooks(ctx context.Context, partnerID string) ([]*provisioning.Webhook, error) {
	var rows []webhookRow
	if err := x.sel(ctx, &rows, qWebhookList, partnerID); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.Webhook, len(rows))
	for i := range rows {
		out[i] = rows[i].webhook()
	}
	return out, nil
}

// UpdateWebhookSecrets implements provisioning.Tx.
func (x *tx) UpdateWebhookSecrets(ctx context.Context, w *provisioning.Webhook) error {
	n, err := x.exec(ctx, qWebhookSecrets, w.Secret, null(w.PreviousSecret), x.s.d.Time(w.PreviousUntil), w.PartnerID, w.ID)
	if err == nil && n == 0 {
		return provisioning.Errorf(provisioning.CodeNotFound, "webhook not found")
	}
	return err
}

// DeleteWebhook implements provisioning.Tx; its deliveries go with it (ON DELETE CASCADE).
func (x *tx) DeleteWebhook(ctx context.Context, params *provisioning.DeleteWebhookParams) error {
	n, err := x.exec(ctx, qWebhookDelete, params.PartnerID, params.ID)
	if err == nil && n == 0 {
		return provisioning.Errorf(provisioning.CodeNotFound, "webhook not found")
	}
	return err
}

// ListDeliveries implements provisioning.Tx.
func (x *tx) ListDeliveries(ctx context.Context, params *provisioning.ListDeliveriesParams) ([]*provisioning.Delivery, error) {
	var rows []deliveryRow
	if err := x.sel(ctx, &rows, qDeliveryList, params.PartnerID, params.WebhookID, params.Limit); err != nil {
		return nil, x.internal(err)
	}
	out := make([]*provisioning.Delivery, len(rows))
	for i := range rows {
		out[i] = rows[i].delivery()
	}
	return out, nil
}

// fanOut queues the deliveries of an event.
func (x *tx) fanOut(ctx context.Context, e *provisioning.Event) error {
	t := x.s.d.Time(e.CreatedAt)
	_, err := x.exec(ctx, x.s.d.fanOutQuery(), e.ID, string(e.Type), t, t, t, e.PartnerID, string(e.Type))
	return err
}

// ClaimDeliveries implements provisioning.Tx. On PostgreSQL, claimers that run at once each
// lock what they take and skip what another took; an endpoint's bound holds between them as
// long as its oldest due delivery is the same for both, which a delivery committed meanwhile
// with an older due time could change — at worst one attempt more to that endpoint at once.
func (x *tx) ClaimDeliveries(ctx context.Context, p *provisioning.ClaimDeliveriesParams) ([]*provisioning.DeliveryJob, error) {
	now, lease := x.s.d.Time(p.Now), x.s.d.Time(p.LeaseUntil)
	var rows []deliveryRow
	if err := x.sel(ctx, &rows, x.s.d.claimQuery(), lease, lease, now, now, now, bound(p.PerEndpoint), bound(p.PerPartner),
		p.Limit, now); err != nil {
		return nil, x.internal(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	jobs := make([]*provisioning.DeliveryJob, len(rows))
	webhookIDs, eventIDs := make([]string, len(rows)), make([]string, len(rows))
	for i := range rows {
		jobs[i] = &provisioning.DeliveryJob{Delivery: rows[i].delivery()}
		webhookIDs[i], eventIDs[i] = rows[i].WebhookID, rows[i].EventID
	}
	// The ids come from the database, not from a user; the IN lists are expanded by sqlx.
	q, args, err := sqlx.In(`SELECT `+webhookColumns+` FROM webhooks WHERE id IN (?)`, webhookIDs)
	if err != nil {
		return nil, x.internal(err)
	}
	var ws []webhookRow
	if err := x.sel(ctx, &ws, q, args...); err != nil {
		return nil, x.internal(err)
	}
	q, args, err = sqlx.In(`SELECT `+eventColumns+` FROM events WHERE id IN (?)`, eventIDs)
	if err != nil {
		return nil, x.internal(err)
	}
	var es []eventRow
	if err := x.sel(ctx, &es, q, args...); err != nil {
		return nil, x.internal(err)
	}
	webhooks, events := map[string]*provisioning.Webhook{}, map[string]*provisioning.Event{}
	for i := range ws {
		webhooks[ws[i].ID] = ws[i].webhook()
	}
	for i := range es {
		e, err := es[i].event()
		if err != nil {
			return nil, x.internal(err)
		}
		events[e.ID] = e
	}
	for _, j := range jobs {
		j.Webhook, j.Event = webhooks[j.Delivery.WebhookID], events[j.Delivery.EventID]
		if d := j.Delivery; d.EventType == provisioning.EventWebhookTest { // not stored: made from the delivery
			j.Event = &provisioning.Event{ID: d.EventID, Type: d.EventType, PartnerID: d.PartnerID, CreatedAt: d.CreatedAt}
		}
	}
	return jobs, nil
}

// UpdateWebhook implements provisioning.Tx: one statement, so that the members p leaves out
// keep what a concurrent update gives them.
func (x *tx) UpdateWebhook(ctx context.Context, p *provisioning.UpdateWebhookParams) error {
	var url, events, description, disabled any
	if p.URL != nil {
		url = *p.URL
	}
	if p.Events != nil {
		events = eventTypes(*p.Events)
	}
	if p.Description != nil {
		description = *p.Description
	}
	if p.Disabled != nil {
		disabled = *p.Disabled
	}
	n, err := x.exec(ctx, qWebhookUpdate, url, events, description, disabled, p.PartnerID, p.ID)
	switch {
	case err != nil:
		return err
	case n == 0:
		return provisioning.Errorf(provisioning.CodeNotFound, "webhook not found")
	case p.Disabled == nil:
		return nil
	case *p.Disabled:
		_, err = x.exec(ctx, qDeliveriesHold, x.s.d.Time(notYet), p.ID)
	default:
		_, err = x.exec(ctx, qDeliveriesRelease, x.s.d.Time(p.At), p.ID, x.s.d.Time(notYet))
	}
	return err
}

// GetDelivery implements provisioning.Tx.
func (x *tx) GetDelivery(ctx context.Context, p *provisioning.GetDeliveryParams) (*provisioning.Delivery, error) {
	var r deliveryRow
	err := x.get(ctx, &r, qDeliveryGet, p.PartnerID, p.WebhookID, p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, provisioning.Errorf(provisioning.CodeNotFound, "delivery not found")
	}
	if err != nil {
		return nil, x.internal(err)
	}
	return r.delivery(), nil
}

// InsertDelivery implements provisioning.Tx.
func (x *tx) InsertDelivery(ctx context.Context, d *provisioning.Delivery) error {
	_, err := x.exec(ctx, qDeliveryInsert, d.ID, d.WebhookID, d.PartnerID, d.EventID, string(d.EventType),
		x.s.d.Time(d.NextAttemptAt), x.s.d.Time(d.CreatedAt), x.s.d.Time(d.UpdatedAt))
	return err
}

// FinishDelivery implements provisioning.Tx.
func (x *tx) FinishDelivery(ctx context.Context, d *provisioning.Delivery) error {
	var status any
	if d.LastStatus != 0 {
		status = d.LastStatus
	}
	_, err := x.exec(ctx, qDeliveryFinish, string(d.State), x.s.d.Time(d.NextAttemptAt), status, null(d.LastError),
		x.s.d.Time(d.UpdatedAt), d.ID)
	return err
}

// bound is a limit of the claim, where 0 means none.
func bound(n int) int {
	if n <= 0 {
		return math.MaxInt32
	}
	return n
}
