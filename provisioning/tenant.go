package provisioning

import (
	"encoding/json"
	"maps"
	"time"
)

// Status is a tenant's lifecycle state.
type Status string

// The tenant statuses. A deleted tenant is pending deletion for a grace period, during which it
// can be restored; then it is purged, and never returned again.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	// StatusPendingDeletion: deleted, restorable until DeletionScheduledAt, when the Worker
	// purges it. Its names stay reserved meanwhile. Only DeleteTenant sets it.
	StatusPendingDeletion Status = "pending_deletion"
)

// Tenant is a customer account provisioned by a partner. Optional string fields are "" when
// unset.
type Tenant struct {
	ID          string
	PartnerID   string
	CompanyName string
	Email       string
	PhoneNumber string
	Industry    string
	ExternalID  string
	Status      Status
	Metadata    map[string]string // nil when empty
	Version     int64             // 1 on create, +1 on every change (a provisioning outcome included)
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Provisioning is the progress of the tenant's provisioning steps, kept by the store and
	// the Worker: no input sets it.
	Provisioning Provisioning
	// DeletionScheduledAt is when a StatusPendingDeletion tenant will be purged; zero for any
	// other status.
	DeletionScheduledAt time.Time
	// StatusBeforeDeletion is the status a StatusPendingDeletion tenant had when it was
	// deleted, which restoring it gives back; "" for any other status. Stores keep it; the API
	// does not show it.
	StatusBeforeDeletion Status
}

// Clone returns a deep copy of t; nil for nil.
func (t *Tenant) Clone() *Tenant {
	if t == nil {
		return nil
	}
	c := *t
	c.Metadata = maps.Clone(t.Metadata)
	c.Provisioning = t.Provisioning.clone()
	return &c
}

// Input returns the writable fields of t.
func (t *Tenant) Input() TenantInput {
	return TenantInput{
		CompanyName: t.CompanyName, Email: t.Email, PhoneNumber: t.PhoneNumber,
		Industry: t.Industry, ExternalID: t.ExternalID, Status: t.Status,
		Metadata: maps.Clone(t.Metadata),
	}
}

// TenantInput holds the writable fields of a tenant: the body of a create or a full replacement.
// An optional field left "" is unset. Status "" means active on create and "unchanged" on
// replace. Config, the initial configuration document, is for create only.
type TenantInput struct {
	CompanyName string
	Email       string
	PhoneNumber string
	Industry    string
	ExternalID  string
	Status      Status
	Metadata    map[string]string
	Config      json.RawMessage // a JSON object; nil or JSON null for none
}

// TenantFilter selects and pages the tenants that ListTenants returns. Zero fields do not filter.
type TenantFilter struct {
	// PartnerID, for operators only, selects one partner's tenants; an operator's listing
	// without it holds every partner's.
	PartnerID string
	// Status keeps the tenants in this status. Tenants pending deletion are listed only when
	// it is StatusPendingDeletion.
	Status     Status
	ExternalID string            // only the tenant with this external id
	Email      string            // only tenants with this email (compared lower-cased)
	Query      string            // a substring of the company name, compared by NameKey
	Metadata   map[string]string // only tenants whose metadata holds every pair; at most 10 pairs
	// CreatedAfter and CreatedBefore, when not zero, keep the tenants created strictly after
	// or before them; years 1 to 9999.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	Limit         int    // page size, 1–200; 0 means 50
	Cursor        string // from a previous TenantPage.NextCursor; "" for the first page
}

// TenantPage is one page of a listing, newest first.
type TenantPage struct {
	Tenants    []*Tenant
	HasMore    bool
	NextCursor string // "" when there is no next page
}
