package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// The API does not show whose a webhook or a delivery is (it is always the caller's), so the
// client leaves their PartnerID empty; nor does it show a secret except when one is made, so
// Secret is empty except in the answers of CreateWebhook and RotateWebhookSecret.

func webhookPath(id string) string { return "/webhooks/" + segment(id) }

// CreateWebhook implements provisioning.Provisioner (POST /webhooks). The principal is ignored.
func (c *Client) CreateWebhook(ctx context.Context, _ provisioning.Principal, in provisioning.WebhookInput) (*provisioning.Webhook, error) {
	body, err := json.Marshal(wire.FromWebhookInput(in))
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	return c.webhook(ctx, request{method: http.MethodPost, path: "/webhooks", body: body})
}

// ListWebhooks implements provisioning.Provisioner (GET /webhooks). The principal is ignored.
func (c *Client) ListWebhooks(ctx context.Context, _ provisioning.Principal) ([]*provisioning.Webhook, error) {
	var list wire.List[wire.Webhook]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/webhooks"}, &list); err != nil {
		return nil, err
	}
	out := make([]*provisioning.Webhook, len(list.Data))
	for i := range list.Data {
		out[i] = list.Data[i].Domain("")
	}
	return out, nil
}

// GetWebhook implements provisioning.Provisioner (GET /webhooks/{id}). The principal is ignored.
func (c *Client) GetWebhook(ctx context.Context, _ provisioning.Principal, id string) (*provisioning.Webhook, error) {
	return c.webhook(ctx, request{method: http.MethodGet, path: webhookPath(id)})
}

// RotateWebhookSecret implements provisioning.Provisioner (POST /webhooks/{id}/rotate-secret).
// The principal is ignored.
func (c *Client) RotateWebhookSecret(ctx context.Context, _ provisioning.Principal, id string) (*provisioning.Webhook, error) {
	return c.webhook(ctx, request{method: http.MethodPost, path: webhookPath(id) + "/rotate-secret"})
}

func (c *Client) webhook(ctx context.Context, req request) (*provisioning.Webhook, error) {
	var w wire.Webhook
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return w.Domain(""), nil
}

// DeleteWebhook implements provisioning.Provisioner (DELETE /webhooks/{id}). The principal is
// ignored.
func (c *Client) DeleteWebhook(ctx context.Context, _ provisioning.Principal, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: webhookPath(id)}, nil)
}

// ListDeliveries implements provisioning.Provisioner (GET /webhooks/{id}/deliveries). The
// principal is ignored.
func (c *Client) ListDeliveries(ctx context.Context, _ provisioning.Principal, webhookID string, limit int) ([]*provisioning.Delivery, error) {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var list wire.List[wire.Delivery]
	if err := c.do(ctx, request{method: http.MethodGet, path: webhookPath(webhookID) + "/deliveries", query: q}, &list); err != nil {
		return nil, err
	}
	out := make([]*provisioning.Delivery, len(list.Data))
	for i := range list.Data {
		out[i] = list.Data[i].Domain("")
	}
	return out, nil
}
