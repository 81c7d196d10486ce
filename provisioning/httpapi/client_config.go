package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// GetTenantConfig implements provisioning.Provisioner (GET /tenants/{id}/config). The principal
// is ignored.
func (c *Client) GetTenantConfig(ctx context.Context, _ provisioning.Principal, id string) (*provisioning.TenantConfig, error) {
	return c.config(ctx, request{method: http.MethodGet, path: tenantPath(id) + "/config"}, id)
}

// ReplaceTenantConfig implements provisioning.Provisioner (PUT /tenants/{id}/config; pre
// becomes If-Match). The principal is ignored.
func (c *Client) ReplaceTenantConfig(ctx context.Context, _ provisioning.Principal, id string, config json.RawMessage, pre provisioning.Precondition) (*provisioning.TenantConfig, error) {
	if err := checkConfigObject(config); err != nil {
		return nil, err
	}
	return c.config(ctx, request{method: http.MethodPut, path: tenantPath(id) + "/config", body: config, pre: pre}, id)
}

// UpdateTenantConfig implements provisioning.Provisioner (PATCH /tenants/{id}/config, a JSON
// Merge Patch; pre becomes If-Match). The principal is ignored.
func (c *Client) UpdateTenantConfig(ctx context.Context, _ provisioning.Principal, id string, patch json.RawMessage, pre provisioning.Precondition) (*provisioning.TenantConfig, error) {
	if err := checkConfigObject(patch); err != nil {
		return nil, err
	}
	return c.config(ctx, request{method: http.MethodPatch, path: tenantPath(id) + "/config", body: patch,
		contentType: "application/merge-patch+json", pre: pre}, id)
}

func (c *Client) config(ctx context.Context, req request, id string) (*provisioning.TenantConfig, error) {
	var w wire.Config
	if err := c.do(ctx, req, &w); err != nil {
		return nil, err
	}
	return w.Domain(id), nil
}

// checkConfigObject refuses, as the Service does, a document that is not one JSON object,
// before anything is sent.
func checkConfigObject(raw json.RawMessage) error {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return provisioning.InvalidFields(map[string]string{"config": "must be a JSON object"})
	}
	return nil
}
