package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// The events of partners and API keys keep the partner, or the key, in the data column, in
// formats of the stores' own beside the tenant's (eventdata.go), told apart by their "kind";
// the tenant's format has none. Each carries its own version, which changes as the tenant's
// does: a new version, and a reader kept for every older one.

// The kinds of stored event data other than a tenant.
const (
	kindPartner = "partner"
	kindAPIKey  = "api_key"
)

// partnerDataV1 is version 1 of the stored partner.
type partnerDataV1 struct {
	V          int    `json:"v"`
	Kind       string `json:"kind"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	MaxTenants *int   `json:"max_tenants,omitempty"`
	Status     string `json:"status"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
}

// apiKeyDataV1 is version 1 of the stored API key: never the key, nor its hash.
type apiKeyDataV1 struct {
	V           int      `json:"v"`
	Kind        string   `json:"kind"`
	ID          string   `json:"id"`
	PartnerID   string   `json:"partner_id"`
	Name        string   `json:"name"`
	Prefix      string   `json:"prefix"`
	Permissions []string `json:"permissions"`
	Operator    bool     `json:"operator,omitempty"`
	ExpiresAt   string   `json:"expires_at,omitempty"`
	LastUsedAt  string   `json:"last_used_at,omitempty"`
	CreatedAt   string   `json:"created_at"`
}

// encodeEventPayload returns the stored data of an event: its tenant, partner or key.
func encodeEventPayload(e *provisioning.Event) ([]byte, error) {
	switch {
	case e.Partner != nil:
		p := e.Partner
		return json.Marshal(partnerDataV1{V: 1, Kind: kindPartner, ID: p.ID, Name: p.Name, MaxTenants: p.MaxTenants,
			Status: string(p.Status), CreatedAt: storedTime(p.CreatedAt), UpdatedAt: storedTime(p.UpdatedAt)})
	case e.APIKey != nil:
		k := e.APIKey
		d := apiKeyDataV1{V: 1, Kind: kindAPIKey, ID: k.ID, PartnerID: k.PartnerID, Name: k.Name, Prefix: k.Prefix,
			Permissions: []string{}, Operator: k.Operator, CreatedAt: storedTime(k.CreatedAt)}
		for _, p := range k.Permissions {
			d.Permissions = append(d.Permissions, string(p))
		}
		if !k.ExpiresAt.IsZero() {
			d.ExpiresAt = storedTime(k.ExpiresAt)
		}
		if !k.LastUsedAt.IsZero() {
			d.LastUsedAt = storedTime(k.LastUsedAt)
		}
		return json.Marshal(d)
	}
	return encodeEventData(e.Data)
}

func storedTime(t time.Time) string { return t.UTC().Format(eventTimeFormat) }

// decodeEventPayload reads the stored data of an event into e.
func decodeEventPayload(b []byte, e *provisioning.Event) error {
	var probe struct {
		V    int    `json:"v"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(b, &probe); err != nil && string(b) != "null" {
		return fmt.Errorf("event data: %w", err)
	}
	var err error
	switch probe.Kind {
	case "":
		e.Data, err = decodeEventData(b)
	case kindPartner:
		e.Partner, err = decodePartnerData(b, probe.V)
	case kindAPIKey:
		e.APIKey, err = decodeAPIKeyData(b, probe.V)
	default:
		err = fmt.Errorf("event data: kind %q is newer than this build reads", probe.Kind)
	}
	return err
}

func decodePartnerData(b []byte, v int) (*provisioning.Partner, error) {
	if v != 1 {
		return nil, fmt.Errorf("partner data: version %d is newer than this build reads", v)
	}
	var d partnerDataV1
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("partner data v1: %w", err)
	}
	times, err := parseEventTime(d.CreatedAt, d.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("partner data v1: %w", err)
	}
	return &provisioning.Partner{ID: d.ID, Name: d.Name, MaxTenants: d.MaxTenants, Status: provisioning.PartnerStatus(d.Status),
		CreatedAt: times[0], UpdatedAt: times[1]}, nil
}

func decodeAPIKeyData(b []byte, v int) (*provisioning.APIKey, error) {
	if v != 1 {
		return nil, fmt.Errorf("API key data: version %d is newer than this build reads", v)
	}
	var d apiKeyDataV1
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("API key data v1: %w", err)
	}
	k := &provisioning.APIKey{ID: d.ID, PartnerID: d.PartnerID, Name: d.Name, Prefix: d.Prefix, Operator: d.Operator}
	for _, p := range d.Permissions {
		k.Permissions = append(k.Permissions, provisioning.Permission(p))
	}
	for _, f := range []struct {
		s   string
		dst *time.Time
	}{{d.CreatedAt, &k.CreatedAt}, {d.ExpiresAt, &k.ExpiresAt}, {d.LastUsedAt, &k.LastUsedAt}} {
		if f.s == "" {
			continue
		}
		t, err := parseEventTime(f.s)
		if err != nil {
			return nil, fmt.Errorf("API key data v1: %w", err)
		}
		*f.dst = t[0]
	}
	return k, nil
}
