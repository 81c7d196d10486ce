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

// The client is a provisioning.Platform too: the partner registry and partners' API keys, as
// its token's principal may use them.

var _ provisioning.Platform = (*Client)(nil)

func partnerPath(id string) string { return "/partners/" + segment(id) }

// CreatePartner implements provisioning.Platform (POST /partners). The principal is ignored.
func (c *Client) CreatePartner(ctx context.Context, _ provisioning.Principal, in provisioning.PartnerInput) (*provisioning.Partner, error) {
	body, err := json.Marshal(wire.FromPartnerInput(in))
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	return c.partner(ctx, request{method: http.MethodPost, path: "/partners", body: body})
}

// ListPartners implements provisioning.Platform (GET /partners). The principal is ignored.
func (c *Client) ListPartners(ctx context.Context, _ provisioning.Principal, f provisioning.PartnerFilter) (*provisioning.PartnerPage, error) {
	q := url.Values{}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var page wire.PartnerPage
	if err := c.do(ctx, request{method: http.MethodGet, path: "/partners", query: q}, &page); err != nil {
		return nil, err
	}
	return page.Domain(), nil
}

// GetPartner implements provisioning.Platform (GET /partners/{id}). The principal is ignored.
func (c *Client) GetPartner(ctx context.Context, _ provisioning.Principal, id string) (*provisioning.Partner, error) {
	return c.partner(ctx, request{method: http.MethodGet, path: partnerPath(id)})
}

// UpdatePartner implements provisioning.Platform (PATCH /partners/{id}). The principal is
// ignored.
func (c *Client) UpdatePartner(ctx context.Context, _ provisioning.Principal, id string, patch provisioning.PartnerPatch) (*provisioning.Partner, error) {
	body, err := json.Marshal(wire.FromPartnerPatch(patch))
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	return c.partner(ctx, request{method: http.MethodPatch, path: partnerPath(id), body: body, contentType: "application/merge-patch+json"})
}

func (c *Client) partner(ctx context.Context, req request) (*provisioning.Partner, error) {
	var p wire.Partner
	if err := c.do(ctx, req, &p); err != nil {
		return nil, err
	}
	return p.Domain(), nil
}

// CreateAPIKey implements provisioning.Platform (POST /partners/{id}/api-keys); the result holds
// the key, which the server shows this once. The principal is ignored.
func (c *Client) CreateAPIKey(ctx context.Context, _ provisioning.Principal, partnerID string, in provisioning.APIKeyInput) (*provisioning.APIKey, error) {
	body, err := json.Marshal(wire.FromAPIKeyInput(in))
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	var k wire.APIKey
	if err := c.do(ctx, request{method: http.MethodPost, path: partnerPath(partnerID) + "/api-keys", body: body}, &k); err != nil {
		return nil, err
	}
	return k.Domain(), nil
}

// ListAPIKeys implements provisioning.Platform (GET /partners/{id}/api-keys). The principal is
// ignored.
func (c *Client) ListAPIKeys(ctx context.Context, _ provisioning.Principal, partnerID string) ([]*provisioning.APIKey, error) {
	var list wire.List[wire.APIKey]
	if err := c.do(ctx, request{method: http.MethodGet, path: partnerPath(partnerID) + "/api-keys"}, &list); err != nil {
		return nil, err
	}
	out := make([]*provisioning.APIKey, len(list.Data))
	for i := range list.Data {
		out[i] = list.Data[i].Domain()
	}
	return out, nil
}

// RevokeAPIKey implements provisioning.Platform (DELETE /partners/{id}/api-keys/{key}). The
// principal is ignored.
func (c *Client) RevokeAPIKey(ctx context.Context, _ provisioning.Principal, partnerID, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: partnerPath(partnerID) + "/api-keys/" + segment(id)}, nil)
}
