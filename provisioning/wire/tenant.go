package wire

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Tenant is a tenant as the API shows it. Unset optional fields are null.
type Tenant struct {
	ID          string            `json:"tenant"`
	CompanyName string            `json:"company_name"`
	Email       string            `json:"email"`
	PhoneNumber *string           `json:"phone_number"`
	Industry    *string           `json:"industry"`
	ExternalID  *string           `json:"external_id"`
	Status      string            `json:"status"`
	Metadata    map[string]string `json:"metadata"`
	PartnerID   string            `json:"partner_id"`
	Version     int64             `json:"version"`
	CreatedAt   Time              `json:"created_at"`
	UpdatedAt   Time              `json:"updated_at"`
	// Provisioning is the progress of the tenant's provisioning steps.
	Provisioning Provisioning `json:"provisioning"`
	// DeletionScheduledAt is when a tenant pending deletion will be purged; null otherwise.
	DeletionScheduledAt *Time `json:"deletion_scheduled_at"`
}

// FromTenant returns the wire form of t. The status a tenant pending deletion had before
// (StatusBeforeDeletion) is not shown.
func FromTenant(t *provisioning.Tenant) Tenant {
	return Tenant{
		ID: t.ID, CompanyName: t.CompanyName, Email: t.Email,
		PhoneNumber: nullable(t.PhoneNumber), Industry: nullable(t.Industry), ExternalID: nullable(t.ExternalID),
		Status: string(t.Status), Metadata: maps.Clone(t.Metadata), PartnerID: t.PartnerID, Version: t.Version,
		CreatedAt: Time(t.CreatedAt), UpdatedAt: Time(t.UpdatedAt), Provisioning: FromProvisioning(t.Provisioning),
		DeletionScheduledAt: timePtr(t.DeletionScheduledAt),
	}
}

// Domain returns the tenant w describes, without StatusBeforeDeletion, which the API does not
// show.
func (w *Tenant) Domain() *provisioning.Tenant {
	return &provisioning.Tenant{
		ID: w.ID, PartnerID: w.PartnerID, CompanyName: w.CompanyName, Email: w.Email,
		PhoneNumber: deref(w.PhoneNumber), Industry: deref(w.Industry), ExternalID: deref(w.ExternalID),
		Status: provisioning.Status(w.Status), Metadata: metadata(w.Metadata), Version: w.Version,
		CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt), Provisioning: w.Provisioning.Domain(),
		DeletionScheduledAt: fromTimePtr(w.DeletionScheduledAt),
	}
}

// metadata returns a copy of m, nil when empty, as the domain keeps it.
func metadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// TenantPage is the body of a tenant listing: one page, newest first.
type TenantPage struct {
	Data       []Tenant `json:"data"` // never null
	HasMore    bool     `json:"has_more"`
	NextCursor *string  `json:"next_cursor"` // null on the last page
}

// FromTenantPage returns the wire form of p.
func FromTenantPage(p *provisioning.TenantPage) TenantPage {
	out := TenantPage{Data: make([]Tenant, len(p.Tenants)), HasMore: p.HasMore, NextCursor: nullable(p.NextCursor)}
	for i, t := range p.Tenants {
		out.Data[i] = FromTenant(t)
	}
	return out
}

// Domain returns the page w describes.
func (w *TenantPage) Domain() *provisioning.TenantPage {
	out := &provisioning.TenantPage{HasMore: w.HasMore, NextCursor: deref(w.NextCursor)}
	for i := range w.Data {
		out.Tenants = append(out.Tenants, w.Data[i].Domain())
	}
	return out
}

// TenantInput is the body of a create (POST /tenants, and each item of a bulk create) and of a
// full replacement (PUT /tenants/{id}): the writable fields and nothing else. Optional fields
// that are empty are left out when encoding; absent and null read as unset.
type TenantInput struct {
	CompanyName string            `json:"company_name"`
	Email       string            `json:"email"`
	PhoneNumber string            `json:"phone_number,omitempty"`
	Industry    string            `json:"industry,omitempty"`
	ExternalID  string            `json:"external_id,omitempty"`
	Status      string            `json:"status,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Config      json.RawMessage   `json:"config,omitempty"` // a JSON object; create only
}

// FromTenantInput returns the wire form of in. in.Config must be valid JSON (or empty) for the
// result to encode.
func FromTenantInput(in provisioning.TenantInput) TenantInput {
	return TenantInput{
		CompanyName: in.CompanyName, Email: in.Email, PhoneNumber: in.PhoneNumber, Industry: in.Industry,
		ExternalID: in.ExternalID, Status: string(in.Status), Metadata: maps.Clone(in.Metadata),
		Config: cloneRaw(in.Config),
	}
}

// Domain returns the input w describes.
func (w *TenantInput) Domain() provisioning.TenantInput {
	return provisioning.TenantInput{
		CompanyName: w.CompanyName, Email: w.Email, PhoneNumber: w.PhoneNumber, Industry: w.Industry,
		ExternalID: w.ExternalID, Status: provisioning.Status(w.Status), Metadata: maps.Clone(w.Metadata),
		Config: cloneRaw(w.Config),
	}
}

func cloneRaw(b json.RawMessage) json.RawMessage {
	if b == nil {
		return nil
	}
	return append(json.RawMessage{}, b...)
}

// TenantPatch is the body of PATCH /tenants/{id}: a JSON Merge Patch (RFC 7396) of the writable
// fields. A member left out leaves its field alone; null clears it. In metadata, a null value
// removes that key.
type TenantPatch struct {
	CompanyName Field[string]             `json:"company_name,omitzero"`
	Email       Field[string]             `json:"email,omitzero"`
	PhoneNumber Field[string]             `json:"phone_number,omitzero"`
	Industry    Field[string]             `json:"industry,omitzero"`
	ExternalID  Field[string]             `json:"external_id,omitzero"`
	Status      Field[string]             `json:"status,omitzero"`
	Metadata    Field[map[string]*string] `json:"metadata,omitzero"`
}

// FromTenantPatch returns the wire form of p.
func FromTenantPatch(p provisioning.TenantPatch) TenantPatch {
	return TenantPatch{
		CompanyName: fromField(p.CompanyName, same), Email: fromField(p.Email, same),
		PhoneNumber: fromField(p.PhoneNumber, same), Industry: fromField(p.Industry, same),
		ExternalID: fromField(p.ExternalID, same),
		Status:     fromField(p.Status, func(s provisioning.Status) string { return string(s) }),
		Metadata:   fromField(p.Metadata, maps.Clone[map[string]*string]),
	}
}

// Domain returns the patch w describes.
func (w *TenantPatch) Domain() provisioning.TenantPatch {
	return provisioning.TenantPatch{
		CompanyName: domainField(w.CompanyName, same), Email: domainField(w.Email, same),
		PhoneNumber: domainField(w.PhoneNumber, same), Industry: domainField(w.Industry, same),
		ExternalID: domainField(w.ExternalID, same),
		Status:     domainField(w.Status, func(s string) provisioning.Status { return provisioning.Status(s) }),
		Metadata:   domainField(w.Metadata, maps.Clone[map[string]*string]),
	}
}
