package wire

import (
	"github.com/provisiond/provisiond/provisioning"
)

// TenantExport is the body of GET /tenants/{id}/export: everything held about a tenant — the
// tenant, its configuration and a page of its events, oldest first. HasMore says whether more
// events follow; NextCursor, given as ?after=, continues after this page.
type TenantExport struct {
	Tenant     Tenant  `json:"tenant"`
	Config     Config  `json:"config"`
	Events     []Event `json:"events"` // never null
	HasMore    bool    `json:"has_more"`
	NextCursor *string `json:"next_cursor"`
}

// FromTenantExport returns the wire form of x.
func FromTenantExport(x *provisioning.TenantExport) TenantExport {
	out := TenantExport{Tenant: FromTenant(x.Tenant), Config: FromConfig(x.Config), Events: make([]Event, len(x.Events)),
		HasMore: x.HasMore, NextCursor: nullable(x.NextCursor)}
	for i, e := range x.Events {
		out.Events[i] = FromEvent(e)
	}
	return out
}

// Domain returns the export w describes.
func (w *TenantExport) Domain() *provisioning.TenantExport {
	out := &provisioning.TenantExport{Tenant: w.Tenant.Domain(), Config: w.Config.Domain(w.Tenant.ID),
		HasMore: w.HasMore, NextCursor: deref(w.NextCursor)}
	for i := range w.Events {
		out.Events = append(out.Events, w.Events[i].Domain())
	}
	return out
}

// Availability is the body of GET /tenants/availability: whether a create with the names would
// succeed, and else which tenant holds them.
type Availability struct {
	Available bool    `json:"available"`
	TenantID  *string `json:"tenant"` // null when available
}

// FromAvailability returns the wire form of a.
func FromAvailability(a *provisioning.Availability) Availability {
	return Availability{Available: a.Available, TenantID: nullable(a.TenantID)}
}

// Domain returns the answer w describes.
func (w *Availability) Domain() *provisioning.Availability {
	return &provisioning.Availability{Available: w.Available, TenantID: deref(w.TenantID)}
}
