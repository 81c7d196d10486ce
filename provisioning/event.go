package provisioning

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/google/uuid"
)

// EventType names a lifecycle event.
type EventType string

// The lifecycle events.
const (
	EventTenantCreated   EventType = "tenant.created"
	EventTenantUpdated   EventType = "tenant.updated"
	EventTenantSuspended EventType = "tenant.suspended"
	EventTenantResumed   EventType = "tenant.resumed"
	// EventTenantDeleted is the purge of a tenant (see DeleteTenant): it carries no tenant data.
	EventTenantDeleted EventType = "tenant.deleted"
	// EventTenantProvisioned: every provisioning step of the tenant has succeeded.
	EventTenantProvisioned EventType = "tenant.provisioned"
	// EventTenantProvisioningFailed: a provisioning step of the tenant has failed for good.
	EventTenantProvisioningFailed EventType = "tenant.provisioning_failed"

	// The events of the partner registry and of API keys: they belong to the partner concerned,
	// have no tenant, and carry the partner (Event.Partner) or the key (Event.APIKey, never the
	// key itself) as it stood after the change.
	EventPartnerCreated  EventType = "partner.created"
	EventPartnerUpdated  EventType = "partner.updated"
	EventPartnerDisabled EventType = "partner.disabled"
	EventPartnerEnabled  EventType = "partner.enabled"
	EventAPIKeyCreated   EventType = "api_key.created"
	EventAPIKeyRevoked   EventType = "api_key.revoked"
)

// EventWebhookTest is the type of the event that Service.TestWebhook sends to one endpoint. It
// is no lifecycle event: it is not stored, not in the feed, and not among EventTypes, so no
// endpoint subscribes to it.
const EventWebhookTest EventType = "webhook.test"

// EventTypes lists every lifecycle event type: those of the feed, to which endpoints subscribe.
var EventTypes = []EventType{EventTenantCreated, EventTenantUpdated, EventTenantSuspended, EventTenantResumed,
	EventTenantDeleted, EventTenantConfigUpdated, EventTenantDeletionScheduled, EventTenantRestored, EventTenantProvisioned,
	EventTenantProvisioningFailed, EventPartnerCreated, EventPartnerUpdated, EventPartnerDisabled, EventPartnerEnabled, EventAPIKeyCreated, EventAPIKeyRevoked}

// Event records one change, written in the same transaction as the change (a transactional
// outbox), so the event log is also the audit trail: who changed what, when, and the tenant (or
// partner, or API key) as it stood after the change. At most one of Data, Partner and APIKey is
// set, as the type says.
type Event struct {
	ID        string
	Seq       int64 // the store's order, set by AppendEvent; it may count every partner's events, so it is never shown
	Type      EventType
	TenantID  string // "" for the events of partners and API keys
	PartnerID string
	Actor     string // the subject of the principal that made the change
	RequestID string // the request that made it, when known
	CreatedAt time.Time
	// Data is the tenant as it stood after the change, for tenant.* events; nil for a purge
	// (EventTenantDeleted), and for every event of a tenant once it is purged.
	Data    *Tenant
	Partner *Partner // partner.* events
	APIKey  *APIKey  // api_key.* events; its Key is always empty
}

// Clone returns a deep copy of e.
func (e *Event) Clone() *Event {
	c := *e
	if e.Data != nil {
		c.Data = e.Data.Clone()
	}
	if e.Partner != nil {
		c.Partner = e.Partner.Clone()
	}
	if e.APIKey != nil {
		c.APIKey = e.APIKey.Clone()
	}
	return &c
}

// EventFilter selects a page of a partner's events, oldest first.
type EventFilter struct {
	// PartnerID, for operators only, selects one partner's events; an operator's feed without
	// it holds every partner's.
	PartnerID string
	Type      EventType // only events of this type
	After     string    // a cursor from a previous EventPage; "" for the oldest
	Limit     int       // 1–200; 0 means 50
}

// EventPage is one page of the event feed. NextCursor continues after the last event of the
// page, or after the filter's cursor when the page is empty, so a consumer can poll with it.
type EventPage struct {
	Events     []*Event
	HasMore    bool
	NextCursor string
}

// DeliveryJob is a claimed delivery with what sending it needs.
type DeliveryJob struct {
	Delivery *Delivery
	Webhook  *Webhook
	Event    *Event
}

// EventQuery is an EventFilter as a Store receives it, the cursor decoded.
type EventQuery struct {
	PartnerID string // "" with AllPartners
	// AllPartners asks for every partner's events (an operator's feed); AfterID may then name
	// any partner's event. Such a feed, too, never skips an event that commits later: a store
	// whose transactions commit concurrently orders it so (PostgreSQL by transaction, holding
	// back what a transaction still running might precede).
	AllPartners bool
	Type        EventType
	AfterID     string // the id of the partner's event the page follows; "" for the oldest
	Limit       int
}

// requestIDKey carries the id of the request that a change belongs to.
type requestIDKey struct{}

// WithRequestID returns a context that attributes changes made with it to the request id;
// their events record it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// event builds the event of a change to t.
func (s *engine) event(ctx context.Context, p Principal, typ EventType, t *Tenant) *Event {
	return &Event{ID: s.newID(), Type: typ, TenantID: t.ID, PartnerID: t.PartnerID, Actor: p.Subject,
		RequestID: requestID(ctx), CreatedAt: t.UpdatedAt, Data: t.Clone()}
}

// changeEvent names the event of an update from before to after.
func changeEvent(before, after *Tenant) EventType {
	switch {
	case before.Status == StatusActive && after.Status == StatusSuspended:
		return EventTenantSuspended
	case before.Status == StatusSuspended && after.Status == StatusActive:
		return EventTenantResumed
	}
	return EventTenantUpdated
}

// Feed cursors name the last event a consumer saw by its id, which is the partner's own and
// tells nothing of other partners' activity (ids are random, or time-ordered UUIDs); the
// store finds the position after it. A cursor names one partner's event: another partner
// cannot use it, and the store answers CodeNotFound for it.

var errEventCursor = errors.New("is not a cursor returned by this API")

// encodeEventCursor returns the cursor that continues after the event with the id.
func encodeEventCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// decodeEventCursor returns the event id of a cursor from encodeEventCursor; "" means the
// oldest event.
func decodeEventCursor(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) != 36 || uuid.Validate(string(raw)) != nil {
		return "", errEventCursor
	}
	return string(raw), nil
}

// ListEvents returns a page of the partner's events, oldest first. It needs tenant:read.
// Returns CodeInvalid for a bad filter.
func (s *engine) ListEvents(ctx context.Context, p Principal, f EventFilter) (*EventPage, error) {
	if err := s.authorize(ctx, p, PermTenantRead); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	problems := map[string]string{}
	if f.Limit < 1 || f.Limit > 200 {
		problems["limit"] = "must be from 1 to 200"
	}
	after, err := decodeEventCursor(f.After)
	if err != nil {
		problems["after"] = err.Error()
	}
	if f.Type != "" && !validEventType(f.Type) {
		problems["type"] = "is not an event type"
	}
	if len(problems) > 0 {
		return nil, InvalidFields(problems)
	}
	partner, err := listScope(p, f.PartnerID)
	if err != nil {
		return nil, err
	}
	var evs []*Event
	q := EventQuery{PartnerID: partner, AllPartners: partner == "", Type: f.Type, AfterID: after, Limit: f.Limit + 1}
	err = s.read(ctx, func(tx Tx) (err error) { evs, err = tx.ListEvents(ctx, q); return err })
	if ErrorCode(err) == CodeNotFound { // the cursor names no event of the feed
		return nil, InvalidFields(map[string]string{"after": errEventCursor.Error()})
	}
	if err != nil {
		return nil, err
	}
	page := &EventPage{Events: evs, NextCursor: f.After}
	if len(evs) > f.Limit {
		page.Events, page.HasMore = evs[:f.Limit], true
	}
	if n := len(page.Events); n > 0 {
		page.NextCursor = encodeEventCursor(page.Events[n-1].ID)
	}
	return page, nil
}

func validEventType(t EventType) bool {
	for _, v := range EventTypes {
		if v == t {
			return true
		}
	}
	return false
}
