package wire

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Event is a lifecycle event as the API shows it in the feed and webhooks send it as their body:
// who changed what, when, and what changed as it stood after the change. Its "data" is the
// tenant of a tenant.* event, the partner of a partner.* event, or the key (never the key
// itself) of an api_key.* event: encoding writes whichever of Data, Partner and APIKey is set;
// decoding reads "data" by the event's type.
type Event struct {
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	TenantID  *string  `json:"tenant"` // null for the events of partners and API keys
	PartnerID string   `json:"partner_id"`
	Actor     *string  `json:"actor"`
	RequestID *string  `json:"request_id"`
	CreatedAt Time     `json:"created_at"`
	Data      *Tenant  `json:"-"`
	Partner   *Partner `json:"-"`
	APIKey    *APIKey  `json:"-"`
}

// eventJSON is Event with its "data" member as the JSON says it.
type eventJSON struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	TenantID  *string         `json:"tenant"`
	PartnerID string          `json:"partner_id"`
	Actor     *string         `json:"actor"`
	RequestID *string         `json:"request_id"`
	CreatedAt Time            `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// MarshalJSON implements json.Marshaler.
func (w Event) MarshalJSON() ([]byte, error) {
	var data any = w.Data
	switch {
	case w.Partner != nil:
		data = w.Partner
	case w.APIKey != nil:
		data = w.APIKey
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(eventJSON{ID: w.ID, Type: w.Type, TenantID: w.TenantID, PartnerID: w.PartnerID, Actor: w.Actor,
		RequestID: w.RequestID, CreatedAt: w.CreatedAt, Data: raw})
}

// UnmarshalJSON implements json.Unmarshaler.
func (w *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*w = Event{ID: j.ID, Type: j.Type, TenantID: j.TenantID, PartnerID: j.PartnerID, Actor: j.Actor,
		RequestID: j.RequestID, CreatedAt: j.CreatedAt}
	if len(j.Data) == 0 || string(j.Data) == "null" {
		return nil
	}
	switch kind, _, _ := strings.Cut(j.Type, "."); kind {
	case "partner":
		return json.Unmarshal(j.Data, &w.Partner)
	case "api_key":
		return json.Unmarshal(j.Data, &w.APIKey)
	}
	return json.Unmarshal(j.Data, &w.Data)
}

// FromEvent returns the wire form of e. The store's sequence number (e.Seq) is not shown.
func FromEvent(e *provisioning.Event) Event {
	out := Event{ID: e.ID, Type: string(e.Type), TenantID: nullable(e.TenantID), PartnerID: e.PartnerID,
		Actor: nullable(e.Actor), RequestID: nullable(e.RequestID), CreatedAt: Time(e.CreatedAt)}
	switch {
	case e.Data != nil:
		t := FromTenant(e.Data)
		out.Data = &t
	case e.Partner != nil:
		p := FromPartner(e.Partner)
		out.Partner = &p
	case e.APIKey != nil:
		k := FromAPIKey(e.APIKey)
		k.Key = "" // never in an event
		out.APIKey = &k
	}
	return out
}

// Domain returns the event w describes, with Seq 0.
func (w *Event) Domain() *provisioning.Event {
	out := &provisioning.Event{ID: w.ID, Type: provisioning.EventType(w.Type), TenantID: deref(w.TenantID),
		PartnerID: w.PartnerID, Actor: deref(w.Actor), RequestID: deref(w.RequestID), CreatedAt: time.Time(w.CreatedAt)}
	switch {
	case w.Data != nil:
		out.Data = w.Data.Domain()
	case w.Partner != nil:
		out.Partner = w.Partner.Domain()
	case w.APIKey != nil:
		out.APIKey = w.APIKey.Domain()
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
