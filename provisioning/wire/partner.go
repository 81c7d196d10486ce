package wire

import (
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Partner is a registered partner as the API shows it.
type Partner struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	MaxTenants *int   `json:"max_tenants"` // null: no limit
	Status     string `json:"status"`
	CreatedAt  Time   `json:"created_at"`
	UpdatedAt  Time   `json:"updated_at"`
}

// FromPartner returns the wire form of p.
func FromPartner(p *provisioning.Partner) Partner {
	return Partner{ID: p.ID, Name: p.Name, MaxTenants: cloneInt(p.MaxTenants), Status: string(p.Status),
		CreatedAt: Time(p.CreatedAt), UpdatedAt: Time(p.UpdatedAt)}
}

// Domain returns the partner w describes.
func (w *Partner) Domain() *provisioning.Partner {
	return &provisioning.Partner{ID: w.ID, Name: w.Name, MaxTenants: cloneInt(w.MaxTenants),
		Status: provisioning.PartnerStatus(w.Status), CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt)}
}

func cloneInt(n *int) *int {
	if n == nil {
		return nil
	}
	c := *n
	return &c
}

// PartnerInput is the body of POST /partners.
type PartnerInput struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	MaxTenants *int   `json:"max_tenants,omitempty"` // absent or null: no limit
}

// FromPartnerInput returns the wire form of in.
func FromPartnerInput(in provisioning.PartnerInput) PartnerInput {
	return PartnerInput{ID: in.ID, Name: in.Name, MaxTenants: cloneInt(in.MaxTenants)}
}

// Domain returns the input w describes.
func (w *PartnerInput) Domain() provisioning.PartnerInput {
	return provisioning.PartnerInput{ID: w.ID, Name: w.Name, MaxTenants: cloneInt(w.MaxTenants)}
}

// PartnerPatch is the body of PATCH /partners/{id}: a JSON Merge Patch of name, max_tenants
// (null removes the limit) and status.
type PartnerPatch struct {
	Name       Field[string] `json:"name,omitzero"`
	MaxTenants Field[int]    `json:"max_tenants,omitzero"`
	Status     Field[string] `json:"status,omitzero"`
}

// FromPartnerPatch returns the wire form of p.
func FromPartnerPatch(p provisioning.PartnerPatch) PartnerPatch {
	return PartnerPatch{Name: fromField(p.Name, same), MaxTenants: fromField(p.MaxTenants, same),
		Status: fromField(p.Status, func(s provisioning.PartnerStatus) string { return string(s) })}
}

// Domain returns the patch w describes.
func (w *PartnerPatch) Domain() provisioning.PartnerPatch {
	return provisioning.PartnerPatch{Name: domainField(w.Name, same), MaxTenants: domainField(w.MaxTenants, same),
		Status: domainField(w.Status, func(s string) provisioning.PartnerStatus { return provisioning.PartnerStatus(s) })}
}

// PartnerPage is the body of the registry's listing: one page, in id order.
type PartnerPage struct {
	Data       []Partner `json:"data"` // never null
	HasMore    bool      `json:"has_more"`
	NextCursor *string   `json:"next_cursor"` // null on the last page
}

// FromPartnerPage returns the wire form of p.
func FromPartnerPage(p *provisioning.PartnerPage) PartnerPage {
	out := PartnerPage{Data: make([]Partner, len(p.Partners)), HasMore: p.HasMore, NextCursor: nullable(p.NextCursor)}
	for i, pt := range p.Partners {
		out.Data[i] = FromPartner(pt)
	}
	return out
}

// Domain returns the page w describes.
func (w *PartnerPage) Domain() *provisioning.PartnerPage {
	out := &provisioning.PartnerPage{HasMore: w.HasMore, NextCursor: deref(w.NextCursor)}
	for i := range w.Data {
		out.Partners = append(out.Partners, w.Data[i].Domain())
	}
	return out
}

// APIKey is an API key as the API shows it. Key, the key itself, is present only in the answer
// that issues it; its hash is never shown.
type APIKey struct {
	ID          string   `json:"id"`
	PartnerID   string   `json:"partner_id"`
	Name        string   `json:"name"`
	Prefix      string   `json:"prefix"`
	Permissions []string `json:"permissions"` // never null
	Operator    bool     `json:"operator"`
	ExpiresAt   *Time    `json:"expires_at"`   // null: never
	LastUsedAt  *Time    `json:"last_used_at"` // null: never used
	CreatedAt   Time     `json:"created_at"`
	Key         string   `json:"key,omitempty"`
}

// FromAPIKey returns the wire form of k, with its key when k holds it.
func FromAPIKey(k *provisioning.APIKey) APIKey {
	out := APIKey{ID: k.ID, PartnerID: k.PartnerID, Name: k.Name, Prefix: k.Prefix, Permissions: []string{},
		Operator: k.Operator, ExpiresAt: timePtr(k.ExpiresAt), LastUsedAt: timePtr(k.LastUsedAt),
		CreatedAt: Time(k.CreatedAt), Key: k.Key}
	for _, p := range k.Permissions {
		out.Permissions = append(out.Permissions, string(p))
	}
	return out
}

// Domain returns the key w describes.
func (w *APIKey) Domain() *provisioning.APIKey {
	out := &provisioning.APIKey{ID: w.ID, PartnerID: w.PartnerID, Name: w.Name, Prefix: w.Prefix, Operator: w.Operator,
		ExpiresAt: fromTimePtr(w.ExpiresAt), LastUsedAt: fromTimePtr(w.LastUsedAt), CreatedAt: time.Time(w.CreatedAt), Key: w.Key}
	for _, p := range w.Permissions {
		out.Permissions = append(out.Permissions, provisioning.Permission(p))
	}
	return out
}

// APIKeyInput is the body of POST /partners/{id}/api-keys.
type APIKeyInput struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	ExpiresAt   *Time    `json:"expires_at,omitempty"` // absent or null: never
	Operator    bool     `json:"operator,omitempty"`   // operators only
}

// FromAPIKeyInput returns the wire form of in.
func FromAPIKeyInput(in provisioning.APIKeyInput) APIKeyInput {
	out := APIKeyInput{Name: in.Name, Permissions: []string{}, ExpiresAt: timePtr(in.ExpiresAt), Operator: in.Operator}
	for _, p := range in.Permissions {
		out.Permissions = append(out.Permissions, string(p))
	}
	return out
}

// Domain returns the input w describes.
func (w *APIKeyInput) Domain() provisioning.APIKeyInput {
	out := provisioning.APIKeyInput{Name: w.Name, ExpiresAt: fromTimePtr(w.ExpiresAt), Operator: w.Operator}
	for _, p := range w.Permissions {
		out.Permissions = append(out.Permissions, provisioning.Permission(p))
	}
	return out
}
