package wire

import (
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Webhook is an event endpoint as the API shows it. Secret is present only in the answers that
// create the endpoint or rotate its secret; everywhere else it is left out.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"` // never null; empty means every event
	Description *string  `json:"description"`
	CreatedAt   Time     `json:"created_at"`
	Secret      string   `json:"secret,omitempty"`
}

// FromWebhook returns the wire form of w without its secret. The partner and the previous
// secret of a rotation are never shown.
func FromWebhook(w *provisioning.Webhook) Webhook {
	events := make([]string, len(w.Events))
	for i, e := range w.Events {
		events[i] = string(e)
	}
	return Webhook{ID: w.ID, URL: w.URL, Events: events, Description: nullable(w.Description), CreatedAt: Time(w.CreatedAt)}
}

// FromWebhookWithSecret returns the wire form of w with its secret, for the answers that show it.
func FromWebhookWithSecret(w *provisioning.Webhook) Webhook {
	out := FromWebhook(w)
	out.Secret = w.Secret
	return out
}

// Domain returns the endpoint w describes, of the partner partnerID (which the API does not
// show: it is the caller's own).
func (w *Webhook) Domain(partnerID string) *provisioning.Webhook {
	out := &provisioning.Webhook{ID: w.ID, PartnerID: partnerID, URL: w.URL, Description: deref(w.Description),
		Secret: w.Secret, CreatedAt: time.Time(w.CreatedAt)}
	for _, e := range w.Events {
		out.Events = append(out.Events, provisioning.EventType(e))
	}
	return out
}

// WebhookInput is the body of POST /webhooks.
type WebhookInput struct {
	URL         string   `json:"url"`
	Events      []string `json:"events,omitempty"` // absent or empty: every event
	Description string   `json:"description,omitempty"`
}

// FromWebhookInput returns the wire form of in.
func FromWebhookInput(in provisioning.WebhookInput) WebhookInput {
	out := WebhookInput{URL: in.URL, Description: in.Description}
	for _, e := range in.Events {
		out.Events = append(out.Events, string(e))
	}
	return out
}

// Domain returns the input w describes.
func (w *WebhookInput) Domain() provisioning.WebhookInput {
	out := provisioning.WebhookInput{URL: w.URL, Description: w.Description}
	for _, e := range w.Events {
		out.Events = append(out.Events, provisioning.EventType(e))
	}
	return out
}

// Delivery is one event on its way to one endpoint, as the delivery log shows it.
type Delivery struct {
	ID            string  `json:"id"`
	WebhookID     string  `json:"webhook"`
	EventID       string  `json:"event"`
	EventType     string  `json:"event_type"`
	State         string  `json:"state"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt *Time   `json:"next_attempt_at"` // null unless pending
	LastStatus    *int    `json:"last_status"`     // null when the endpoint gave no status
	LastError     *string `json:"last_error"`
	CreatedAt     Time    `json:"created_at"`
	UpdatedAt     Time    `json:"updated_at"`
}

// FromDelivery returns the wire form of d. The next attempt is shown only while d is pending.
func FromDelivery(d *provisioning.Delivery) Delivery {
	out := Delivery{ID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, EventType: string(d.EventType),
		State: string(d.State), Attempts: d.Attempts, LastError: nullable(d.LastError),
		CreatedAt: Time(d.CreatedAt), UpdatedAt: Time(d.UpdatedAt)}
	if d.State == provisioning.DeliveryPending {
		out.NextAttemptAt = timePtr(d.NextAttemptAt)
	}
	if d.LastStatus != 0 {
		status := d.LastStatus
		out.LastStatus = &status
	}
	return out
}

// Domain returns the delivery w describes, of the partner partnerID.
func (w *Delivery) Domain(partnerID string) *provisioning.Delivery {
	out := &provisioning.Delivery{ID: w.ID, WebhookID: w.WebhookID, PartnerID: partnerID, EventID: w.EventID,
		EventType: provisioning.EventType(w.EventType), State: provisioning.DeliveryState(w.State),
		Attempts: w.Attempts, NextAttemptAt: fromTimePtr(w.NextAttemptAt), LastError: deref(w.LastError),
		CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt)}
	if w.LastStatus != nil {
		out.LastStatus = *w.LastStatus
	}
	return out
}

// List is the body of the plain listings (webhooks, deliveries): every item, no paging.
type List[T any] struct {
	Data []T `json:"data"` // never null
}

// ListOf converts each item with from into a List.
func ListOf[D, W any](items []D, from func(D) W) List[W] {
	out := List[W]{Data: make([]W, len(items))}
	for i, it := range items {
		out.Data[i] = from(it)
	}
	return out
}
