package wire

import (
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Event is a lifecycle event as the API shows it in the feed and webhooks send it as their body:
// who changed which tenant, when, and the tenant as it stood after the change.
type Event struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	TenantID  string  `json:"tenant"`
	PartnerID string  `json:"partner_id"`
	Actor     *string `json:"actor"`
	RequestID *string `json:"request_id"`
	CreatedAt Time    `json:"created_at"`
	Data      *Tenant `json:"data"`
}

// FromEvent returns the wire form of e. The store's sequence number (e.Seq) is not shown.
func FromEvent(e *provisioning.Event) Event {
	out := Event{ID: e.ID, Type: string(e.Type), TenantID: e.TenantID, PartnerID: e.PartnerID,
		Actor: nullable(e.Actor), RequestID: nullable(e.RequestID), CreatedAt: Time(e.CreatedAt)}
	if e.Data != nil {
		t := FromTenant(e.Data)
		out.Data = &t
	}
	return out
}

// Domain returns the event w describes, with Seq 0.
func (w *Event) Domain() *provisioning.Event {
	out := &provisioning.Event{ID: w.ID, Type: provisioning.EventType(w.Type), TenantID: w.TenantID,
		PartnerID: w.PartnerID, Actor: deref(w.Actor), RequestID: deref(w.RequestID), CreatedAt: time.Time(w.CreatedAt)}
	if w.Data != nil {
		out.Data = w.Data.Domain()
	}
	return out
}

// EventPage is the body of the event feed: one page, oldest first. NextCursor continues after
// the page (after the request's cursor when the page is empty), so a consumer polls with it.
type EventPage struct {
	Data       []Event `json:"data"` // never null
	HasMore    bool    `json:"has_more"`
	NextCursor *string `json:"next_cursor"`
}

// FromEventPage returns the wire form of p.
func FromEventPage(p *provisioning.EventPage) EventPage {
	out := EventPage{Data: make([]Event, len(p.Events)), HasMore: p.HasMore, NextCursor: nullable(p.NextCursor)}
	for i, e := range p.Events {
		out.Data[i] = FromEvent(e)
	}
	return out
}

// Domain returns the page w describes.
func (w *EventPage) Domain() *provisioning.EventPage {
	out := &provisioning.EventPage{HasMore: w.HasMore, NextCursor: deref(w.NextCursor)}
	for i := range w.Data {
		out.Events = append(out.Events, w.Data[i].Domain())
	}
	return out
}
