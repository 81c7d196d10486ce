package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

func tenantPath(id string) string { return "/tenants/" + segment(id) }

// segment escapes an id as one path segment; dots too, so that "." or ".." stays a segment.
func segment(id string) string { return strings.ReplaceAll(url.PathEscape(id), ".", "%2E") }

// CreateTenant implements provisioning.Provisioner (POST /tenants). The principal is ignored.
func (c *Client) CreateTenant(ctx context.Context, _ provisioning.Principal, in provisioning.TenantInput) (*provisioning.Tenant, error) {
	body, err := json.Marshal(wire.FromTenantInput(sendable(in)))
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	var t wire.Tenant
	if err := c.do(ctx, request{method: http.MethodPost, path: "/tenants", body: body}, &t); err != nil {
		return nil, err
	}
	return t.Domain(), nil
}

// sendable returns in as it can be sent. A Config that is not JSON at all cannot be; it goes
// as [] instead, which the server rejects under "config" just as the Service rejects the
// original, together with any other field's problem.
func sendable(in provisioning.TenantInput) provisioning.TenantInput {
	if len(bytes.TrimSpace(in.Config)) > 0 && !json.Valid(in.Config) {
		in.Config = json.RawMessage("[]")
	}
	return in
}

// CreateTenants implements provisioning.Provisioner (POST /tenants/bulk). An atomic request that
// fails is answered with every item's outcome, as the Service answers it, not with an error.
func (c *Client) CreateTenants(ctx context.Context, _ provisioning.Principal, ins []provisioning.TenantInput, atomic bool) ([]provisioning.BulkResult, error) {
	items := make([]provisioning.TenantInput, len(ins))
	for i, in := range ins {
		items[i] = sendable(in)
	}
	req, err := wire.FromBulk(items, atomic)
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	r := request{method: http.MethodPost, path: "/tenants/bulk", body: body}
	a, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type")); mt != "application/json" || a.status >= 500 {
		return nil, a.err()
	}
	var resp wire.BulkResponse
	if err := c.decode(r, a, &resp); err != nil {
		return nil, err
	}
	return resp.Domain(), nil
}

// GetTenant implements provisioning.Provisioner (GET /tenants/{id}). The principal is ignored.
func (c *Client) GetTenant(ctx context.Context, _ provisioning.Principal, id string) (*provisioning.Tenant, error) {
	var t wire.Tenant
	if err := c.do(ctx, request{method: http.MethodGet, path: tenantPath(id)}, &t); err != nil {
		return nil, err
	}
	return t.Domain(), nil
}

// ListTenants implements provisioning.Provisioner (GET /tenants). The principal is ignored.
func (c *Client) ListTenants(ctx context.Context, _ provisioning.Principal, f provisioning.TenantFilter) (*provisioning.TenantPage, error) {
	var page wire.TenantPage
	if err := c.do(ctx, request{method: http.MethodGet, path: "/tenants", query: tenantQuery(f)}, &page); err != nil {
		return nil, err
	}
	return page.Domain(), nil
}

// tenantQuery is the query of GET /tenants for f; zero fields are left out.
func tenantQuery(f provisioning.TenantFilter) url.Values {
	q := url.Values{}
	set := func(key, v string) {
		if v != "" {
			q.Set(key, v)
		}
	}
	set("status", string(f.Status))
	set("external_id", f.ExternalID)
	set("email", f.Email)
	set("q", f.Query)
	set("cursor", f.Cursor)
	set("partner_id", f.PartnerID)
	for key, at := range map[string]time.Time{"created_after": f.CreatedAfter, "created_before": f.CreatedBefore} {
		if !at.IsZero() {
			q.Set(key, at.UTC().Format(time.RFC3339Nano))
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	for k, v := range f.Metadata {
		q.Set("metadata["+k+"]", v)
	}
	return q
}

// AllTenants lists every tenant that f selects, newest first, fetching page after page
// (f.Limit tenants at a time) as the loop goes on; f.Cursor, if set, is where it starts. It
// yields a non-nil error once, as its last item, when a page cannot be fetched.
func (c *Client) AllTenants(ctx context.Context, f provisioning.TenantFilter) iter.Seq2[*provisioning.Tenant, error] {
	return func(yield func(*provisioning.Tenant, error) bool) {
		for {
			page, err := c.ListTenants(ctx, provisioning.Principal{}, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, t := range page.Tenants {
				if !yield(t, nil) {
					return
				}
			}
			if !page.HasMore || page.NextCursor == "" {
				return
			}
			f.Cursor = page.NextCursor
		}
	}
}

// UpdateTenant implements provisioning.Provisioner (PATCH /tenants/{id}, a JSON Merge Patch;
// pre becomes If-Match). The principal is ignored.
func (c *Client) UpdateTenant(ctx context.Context, _ provisioning.Principal, id string, patch provisioning.TenantPatch, pre provisioning.Precondition) (*provisioning.Tenant, error) {
	body, err := json.Marshal(wire.FromTenantPatch(patch))
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	var t wire.Tenant
	r := request{method: http.MethodPatch, path: tenantPath(id), body: body, contentType: "application/merge-patch+json", pre: pre}
	if err := c.do(ctx, r, &t); err != nil {
		return nil, err
	}
	return t.Domain(), nil
}

// ReplaceTenant implements provisioning.Provisioner (PUT /tenants/{id}; pre becomes If-Match).
// The principal is ignored.
func (c *Client) ReplaceTenant(ctx context.Context, _ provisioning.Principal, id string, in provisioning.TenantInput, pre provisioning.Precondition) (*provisioning.Tenant, error) {
	body, err := json.Marshal(wire.FromTenantInput(sendable(in)))
	if err != nil {
		return nil, provisioning.Internal(err)
	}
	var t wire.Tenant
	if err := c.do(ctx, request{method: http.MethodPut, path: tenantPath(id), body: body, pre: pre}, &t); err != nil {
		return nil, err
	}
	return t.Domain(), nil
}

// RetryProvisioning implements provisioning.Provisioner (POST /tenants/{id}/provisioning/retry).
// The principal is ignored.
func (c *Client) RetryProvisioning(ctx context.Context, _ provisioning.Principal, id string) (*provisioning.Tenant, error) {
	var t wire.Tenant
	if err := c.do(ctx, request{method: http.MethodPost, path: tenantPath(id) + "/provisioning/retry"}, &t); err != nil {
		return nil, err
	}
	return t.Domain(), nil
}
