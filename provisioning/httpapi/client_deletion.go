package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// DeleteTenant implements provisioning.Provisioner (DELETE /tenants/{id}, with ?grace= when
// opts.Grace is set; pre becomes If-Match). The principal is ignored.
func (c *Client) DeleteTenant(ctx context.Context, _ provisioning.Principal, id string, opts provisioning.DeleteOptions, pre provisioning.Precondition) (*provisioning.Tenant, error) {
	r := request{method: http.MethodDelete, path: tenantPath(id), pre: pre}
	if opts.Grace != 0 {
		r.query = url.Values{"grace": {opts.Grace.String()}}
	}
	var t wire.Tenant
	if err := c.do(ctx, r, &t); err != nil {
		return nil, err
	}
	return t.Domain(), nil
}

// RestoreTenant implements provisioning.Provisioner (POST /tenants/{id}/restore; pre becomes
// If-Match). The principal is ignored.
func (c *Client) RestoreTenant(ctx context.Context, _ provisioning.Principal, id string, pre provisioning.Precondition) (*provisioning.Tenant, error) {
	var t wire.Tenant
	if err := c.do(ctx, request{method: http.MethodPost, path: tenantPath(id) + "/restore", pre: pre}, &t); err != nil {
		return nil, err
	}
	return t.Domain(), nil
}

// PurgeTenant implements provisioning.Provisioner (DELETE /tenants/{id}?purge=true; pre becomes
// If-Match). The token needs tenant:purge. The principal is ignored.
func (c *Client) PurgeTenant(ctx context.Context, _ provisioning.Principal, id string, pre provisioning.Precondition) error {
	return c.do(ctx, request{method: http.MethodDelete, path: tenantPath(id), query: url.Values{"purge": {"true"}}, pre: pre}, nil)
}

// ExportTenant implements provisioning.Provisioner (GET /tenants/{id}/export). The principal is
// ignored.
func (c *Client) ExportTenant(ctx context.Context, _ provisioning.Principal, id string, f provisioning.ExportFilter) (*provisioning.TenantExport, error) {
	q := url.Values{}
	if f.After != "" {
		q.Set("after", f.After)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var x wire.TenantExport
	if err := c.do(ctx, request{method: http.MethodGet, path: tenantPath(id) + "/export", query: q}, &x); err != nil {
		return nil, err
	}
	return x.Domain(), nil
}

// TenantAvailability implements provisioning.Provisioner (GET /tenants/availability). The
// principal is ignored.
func (c *Client) TenantAvailability(ctx context.Context, _ provisioning.Principal, q provisioning.AvailabilityQuery) (*provisioning.Availability, error) {
	v := url.Values{}
	if q.CompanyName != "" {
		v.Set("company_name", q.CompanyName)
	}
	if q.ExternalID != "" {
		v.Set("external_id", q.ExternalID)
	}
	var a wire.Availability
	if err := c.do(ctx, request{method: http.MethodGet, path: "/tenants/availability", query: v}, &a); err != nil {
		return nil, err
	}
	return a.Domain(), nil
}
