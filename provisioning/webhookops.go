package provisioning

import "context"

// What a partner does with an endpoint once it is registered: change it (or disable it), send it
// a test event, and send one of its events again.

// The error codes of endpoint operations.
const (
	// CodeWebhookDisabled: the endpoint is disabled, so nothing is sent to it; enable it first.
	CodeWebhookDisabled Code = "webhook_disabled"
	// CodeDeliveryPending: the delivery is still pending (being attempted, or waiting for its
	// next attempt); only a delivery that succeeded or failed is sent again.
	CodeDeliveryPending Code = "delivery_pending"
)

// WebhookPatch is a JSON Merge Patch (RFC 7396) of an endpoint. URL and Disabled may not be
// null; null Events (or none) subscribes to every event; null Description clears it.
type WebhookPatch struct {
	URL         Field[string]
	Events      Field[[]EventType]
	Description Field[string]
	Disabled    Field[bool]
}

func webhookNotFound() error { return Errorf(CodeNotFound, "webhook not found") }

// validate checks the members of the patch on their own — a new URL against the address check
// too — and returns the update they make.
func (s *engine) validateWebhookPatch(ctx context.Context, patch WebhookPatch) (UpdateWebhookParams, error) {
	var up UpdateWebhookParams
	problems := map[string]string{}
	var problem string
	switch {
	case patch.URL.Null:
		problems["url"] = "cannot be null"
	case patch.URL.Set:
		var u string
		if u, problem = s.validateWebhookURL(ctx, patch.URL.Value); problem != "" {
			problems["url"] = problem
		}
		up.URL = &u
	}
	if patch.Events.Set {
		var events []EventType
		if events, problem = validateEvents(patch.Events.Value); problem != "" { // null: Value is nil, every event
			problems["events"] = problem
		}
		up.Events = &events
	}
	if patch.Description.Set {
		var d string
		if d, problem = validateDescription(patch.Description.Value); problem != "" {
			problems["description"] = problem
		}
		up.Description = &d
	}
	switch {
	case patch.Disabled.Null:
		problems["disabled"] = "cannot be null"
	case patch.Disabled.Set:
		up.Disabled = &patch.Disabled.Value
	}
	if len(problems) > 0 {
		return up, InvalidFields(problems)
	}
	return up, nil
}

// UpdateWebhook applies a merge patch to one of the partner's endpoints (webhook:manage): a new
// URL passes the same checks as at registration (the address check included); disabling it
// holds its deliveries, new and queued, until it is enabled again. Members the patch leaves out
// stay as they are, whatever a concurrent change does to them. Returns CodeNotFound and
// CodeInvalid.
func (s *engine) UpdateWebhook(ctx context.Context, p Principal, id string, patch WebhookPatch) (*Webhook, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, webhookNotFound()
	}
	up, err := s.validateWebhookPatch(ctx, patch) // outside the transaction: the address check may resolve a name
	if err != nil {
		return nil, err
	}
	up.PartnerID, up.ID, up.At = p.PartnerID, id, s.timestamp()
	var w *Webhook
	err = s.write(ctx, func(tx Tx) (err error) {
		if err = tx.UpdateWebhook(ctx, &up); err != nil {
			return err
		}
		w, err = tx.GetWebhook(ctx, &GetWebhookParams{PartnerID: p.PartnerID, ID: id})
		return err
	})
	if err != nil {
		return nil, err
	}
	w.Secret = "" // shown only when made
	return w, nil
}

// TestWebhook queues an EventWebhookTest for one of the partner's endpoints, and for it alone
// (webhook:manage). The event is delivered, signed, like any other, and its delivery is in the
// endpoint's log; it is not a lifecycle event, so it is neither in the feed nor sent to any
// other endpoint. Returns the delivery, pending; CodeNotFound, and CodeWebhookDisabled when the
// endpoint is disabled.
func (s *engine) TestWebhook(ctx context.Context, p Principal, id string) (*Delivery, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, webhookNotFound()
	}
	var d *Delivery
	err := s.write(ctx, func(tx Tx) error {
		w, err := enabledWebhook(ctx, tx, p.PartnerID, id)
		if err != nil {
			return err
		}
		d = s.newDelivery(w, s.newID(), EventWebhookTest)
		return tx.InsertDelivery(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Redeliver sends the event of one of an endpoint's deliveries again, as a new delivery with
// attempts of its own and a new retry window (webhook:manage); the old one stays in the log as
// it was. Only a delivery that succeeded or failed is sent again. A lifecycle event is sent as
// it is stored; a test event, which is not stored, again with its id and type, and the time of
// the new delivery. Returns the new delivery,
// pending; CodeNotFound (also for another partner's endpoint or delivery, and for a delivery to
// another endpoint), CodeDeliveryPending, and CodeWebhookDisabled.
func (s *engine) Redeliver(ctx context.Context, p Principal, webhookID, deliveryID string) (*Delivery, error) {
	if err := s.authorize(ctx, p, PermWebhookManage); err != nil {
		return nil, err
	}
	webhookID, ok := canonicalID(webhookID)
	deliveryID, ok2 := canonicalID(deliveryID)
	if !ok || !ok2 {
		return nil, Errorf(CodeNotFound, "delivery not found")
	}
	var d *Delivery
	err := s.write(ctx, func(tx Tx) error {
		w, err := enabledWebhook(ctx, tx, p.PartnerID, webhookID)
		if err != nil {
			return err
		}
		old, err := tx.GetDelivery(ctx, &GetDeliveryParams{PartnerID: p.PartnerID, WebhookID: webhookID, ID: deliveryID})
		if err != nil {
			return err
		}
		if old.State == DeliveryPending {
			return Errorf(CodeDeliveryPending, "the delivery is still pending; only one that succeeded or failed is sent again")
		}
		d = s.newDelivery(w, old.EventID, old.EventType)
		return tx.InsertDelivery(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// enabledWebhook returns one of the partner's endpoints if it is enabled. Returns CodeNotFound
// and CodeWebhookDisabled.
func enabledWebhook(ctx context.Context, tx Tx, partnerID, id string) (*Webhook, error) {
	w, err := tx.GetWebhook(ctx, &GetWebhookParams{PartnerID: partnerID, ID: id})
	if err != nil {
		return nil, err
	}
	if w.Disabled {
		return nil, Errorf(CodeWebhookDisabled, "the webhook is disabled; enable it to send it events")
	}
	return w, nil
}

// newDelivery is a delivery of an event to w, pending and due at once.
func (s *engine) newDelivery(w *Webhook, eventID string, typ EventType) *Delivery {
	now := s.timestamp()
	return &Delivery{ID: s.newID(), WebhookID: w.ID, PartnerID: w.PartnerID, EventID: eventID, EventType: typ,
		State: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
}
