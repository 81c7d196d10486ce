package provisioning

import (
	"encoding/json"
	"maps"
	"time"
)

// Status is a tenant's lifecycle state.
type Status string

// The tenant statuses. Deleted tenants are never returned, so deletion is not a status.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

// TimeFormat is the wire format of every timestamp: UTC RFC 3339 with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Tenant is a customer account provisioned by a partner. Optional string fields are "" when
// unset and are rendered as JSON null.
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
	Version     int64             // 1 on create, +1 on every change
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Clone returns a deep copy of t.
func (t *Tenant) Clone() *Tenant {
	c := *t
	c.Metadata = maps.Clone(t.Metadata)
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

// tenantJSON is the wire form of a Tenant.
type tenantJSON struct {
	ID          string            `json:"tenant"`
	CompanyName string            `json:"company_name"`
	Email       string            `json:"email"`
	PhoneNumber *string           `json:"phone_number"`
	Industry    *string           `json:"industry"`
	ExternalID  *string           `json:"external_id"`
	Status      Status            `json:"status"`
	Metadata    map[string]string `json:"metadata"`
	PartnerID   string            `json:"partner_id"`
	Version     int64             `json:"version"`
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
}

// MarshalJSON renders the tenant in the wire format of the API (CONTRACT §3).
func (t *Tenant) MarshalJSON() ([]byte, error) {
	return json.Marshal(tenantJSON{
		ID: t.ID, CompanyName: t.CompanyName, Email: t.Email,
		PhoneNumber: nullable(t.PhoneNumber), Industry: nullable(t.Industry), ExternalID: nullable(t.ExternalID),
		Status: t.Status, Metadata: t.Metadata, PartnerID: t.PartnerID, Version: t.Version,
		CreatedAt: t.CreatedAt.UTC().Format(TimeFormat), UpdatedAt: t.UpdatedAt.UTC().Format(TimeFormat),
	})
}

// UnmarshalJSON reads the wire format written by MarshalJSON.
func (t *Tenant) UnmarshalJSON(b []byte) error {
	var w tenantJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	created, err := time.Parse(time.RFC3339Nano, w.CreatedAt)
	if err != nil {
		return err
	}
	updated, err := time.Parse(time.RFC3339Nano, w.UpdatedAt)
	if err != nil {
		return err
	}
	*t = Tenant{
		ID: w.ID, PartnerID: w.PartnerID, CompanyName: w.CompanyName, Email: w.Email,
		PhoneNumber: deref(w.PhoneNumber), Industry: deref(w.Industry), ExternalID: deref(w.ExternalID),
		Status: w.Status, Metadata: w.Metadata, Version: w.Version, CreatedAt: created, UpdatedAt: updated,
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TenantInput holds the writable fields of a tenant: the body of a create or a full replacement.
// An optional field left "" is unset. Status "" means active on create and "unchanged" on
// replace. Config, the initial configuration document, is for create only.
type TenantInput struct {
	CompanyName string            `json:"company_name"`
	Email       string            `json:"email"`
	PhoneNumber string            `json:"phone_number"`
	Industry    string            `json:"industry"`
	ExternalID  string            `json:"external_id"`
	Status      Status            `json:"status"`
	Metadata    map[string]string `json:"metadata"`
	Config      json.RawMessage   `json:"config"`
}

// TenantFilter selects and pages the tenants that ListTenants returns. Zero fields do not filter.
type TenantFilter struct {
	Status     Status            // only tenants in this status
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
