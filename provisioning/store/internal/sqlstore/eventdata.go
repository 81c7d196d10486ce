package sqlstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// The tenant of an event — "the tenant as it stood after the change" — is kept in the events'
// data column in a format of the stores' own, apart from the API's JSON (provisioning/wire):
// renaming a field of the API must never rewrite stored history, and a row written once must
// read back the same for as long as the store keeps it. The format carries a version number;
// a change to it adds a version and keeps the reader of every older one.
//
// Version 0 is what the rows written before the format had a version hold: the tenant in the
// API's JSON of that time (keys "tenant", "company_name", …, optional fields as null). Version
// 1 is eventDataV1. Version 2, eventDataV2, adds what deletion with a grace period keeps of a
// tenant pending deletion: deletion_scheduled_at and status_before_deletion, both left out for
// other tenants. Version 3, eventDataV3, adds the tenant's provisioning. Rows of versions 0, 1
// and 2 were written before provisioning steps existed: their tenants had succeeded, with no
// steps.
//
// A purge redacts the tenant's events: their data becomes JSON null, read as no tenant.

// eventDataVersion is the version that insertEvent writes.
const eventDataVersion = 3

// eventTimeFormat is how stored event times are written: UTC RFC 3339 with milliseconds.
const eventTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// eventDataV1 is version 1 of the stored tenant. Its JSON names are the stores' and change only
// with a new version.
type eventDataV1 struct {
	V           int               `json:"v"`
	ID          string            `json:"id"`
	PartnerID   string            `json:"partner_id"`
	CompanyName string            `json:"company_name"`
	Email       string            `json:"email"`
	PhoneNumber string            `json:"phone_number,omitempty"`
	Industry    string            `json:"industry,omitempty"`
	ExternalID  string            `json:"external_id,omitempty"`
	Status      string            `json:"status"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Version     int64             `json:"version"`
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
}

// eventDataV2 is version 2 of the stored tenant: version 1 and the deletion's fields.
type eventDataV2 struct {
	eventDataV1
	DeletionScheduledAt  string `json:"deletion_scheduled_at,omitempty"`
	StatusBeforeDeletion string `json:"status_before_deletion,omitempty"`
}

// eventDataV3 is version 3 of the stored tenant: version 2 and the provisioning.
type eventDataV3 struct {
	eventDataV2
	Provisioning eventProvisioningV3 `json:"provisioning"`
}

// eventProvisioningV3 is a tenant's provisioning in version 3.
type eventProvisioningV3 struct {
	State string        `json:"state"`
	Steps []eventStepV3 `json:"steps,omitempty"`
}

// eventStepV3 is one step of a tenant's provisioning in version 3.
type eventStepV3 struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error,omitempty"`
	CompletedAt string `json:"completed_at,omitempty"`
}

// eventDataV0 is the API's tenant JSON as the rows written before versioning hold it, frozen
// here so that those rows read the same whatever the API becomes.
type eventDataV0 struct {
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
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
}

// encodeEventData returns the stored form of an event's tenant (JSON null for none).
func encodeEventData(t *provisioning.Tenant) ([]byte, error) {
	if t == nil {
		return []byte("null"), nil
	}
	d := eventDataV3{eventDataV2: eventDataV2{eventDataV1: eventDataV1{
		V: eventDataVersion, ID: t.ID, PartnerID: t.PartnerID, CompanyName: t.CompanyName, Email: t.Email,
		PhoneNumber: t.PhoneNumber, Industry: t.Industry, ExternalID: t.ExternalID, Status: string(t.Status),
		Metadata: t.Metadata, Version: t.Version,
		CreatedAt: t.CreatedAt.UTC().Format(eventTimeFormat), UpdatedAt: t.UpdatedAt.UTC().Format(eventTimeFormat),
	}, StatusBeforeDeletion: string(t.StatusBeforeDeletion)}, Provisioning: eventProvisioningV3{State: string(t.Provisioning.State)}}
	if !t.DeletionScheduledAt.IsZero() {
		d.DeletionScheduledAt = t.DeletionScheduledAt.UTC().Format(eventTimeFormat)
	}
	for _, st := range t.Provisioning.Steps {
		es := eventStepV3{Name: st.Name, State: string(st.State), Attempts: st.Attempts, LastError: st.LastError}
		if !st.CompletedAt.IsZero() {
			es.CompletedAt = st.CompletedAt.UTC().Format(eventTimeFormat)
		}
		d.Provisioning.Steps = append(d.Provisioning.Steps, es)
	}
	return json.Marshal(d)
}

// decodeEventData reads the stored tenant of an event, in any version this build knows.
func decodeEventData(b []byte) (*provisioning.Tenant, error) {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil, nil
	}
	var probe struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	switch probe.V {
	case 0:
		return decodeEventDataV0(b)
	case 1:
		return decodeEventDataV1(b)
	case 2:
		return decodeEventDataV2(b)
	case 3:
		return decodeEventDataV3(b)
	}
	return nil, fmt.Errorf("event data: version %d is newer than this build reads", probe.V)
}

func decodeEventDataV3(b []byte) (*provisioning.Tenant, error) {
	var d eventDataV3
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("event data v3: %w", err)
	}
	t, err := tenantOfV2(&d.eventDataV2)
	if err != nil {
		return nil, fmt.Errorf("event data v3: %w", err)
	}
	t.Provisioning = provisioning.Provisioning{State: provisioning.ProvisioningState(d.Provisioning.State)}
	for _, es := range d.Provisioning.Steps {
		st := provisioning.ProvisioningStep{Name: es.Name, State: provisioning.ProvisioningState(es.State),
			Attempts: es.Attempts, LastError: es.LastError}
		if es.CompletedAt != "" {
			at, err := parseEventTime(es.CompletedAt)
			if err != nil {
				return nil, fmt.Errorf("event data v3: %w", err)
			}
			st.CompletedAt = at[0]
		}
		t.Provisioning.Steps = append(t.Provisioning.Steps, st)
	}
	return t, nil
}

func decodeEventDataV2(b []byte) (*provisioning.Tenant, error) {
	var d eventDataV2
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("event data v2: %w", err)
	}
	t, err := tenantOfV2(&d)
	if err != nil {
		return nil, fmt.Errorf("event data v2: %w", err)
	}
	t.Provisioning = beforeSteps()
	return t, nil
}

func decodeEventDataV1(b []byte) (*provisioning.Tenant, error) {
	var d eventDataV1
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("event data v1: %w", err)
	}
	t, err := tenantOfV1(&d)
	if err != nil {
		return nil, fmt.Errorf("event data v1: %w", err)
	}
	t.Provisioning = beforeSteps()
	return t, nil
}

// tenantOfV1 is the tenant of version 1's fields, without its provisioning.
func tenantOfV1(d *eventDataV1) (*provisioning.Tenant, error) {
	times, err := parseEventTime(d.CreatedAt, d.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return &provisioning.Tenant{ID: d.ID, PartnerID: d.PartnerID, CompanyName: d.CompanyName, Email: d.Email,
		PhoneNumber: d.PhoneNumber, Industry: d.Industry, ExternalID: d.ExternalID, Status: provisioning.Status(d.Status),
		Metadata: nonEmpty(d.Metadata), Version: d.Version, CreatedAt: times[0], UpdatedAt: times[1]}, nil
}

// tenantOfV2 is the tenant of version 2's fields, without its provisioning.
func tenantOfV2(d *eventDataV2) (*provisioning.Tenant, error) {
	t, err := tenantOfV1(&d.eventDataV1)
	if err != nil {
		return nil, err
	}
	t.StatusBeforeDeletion = provisioning.Status(d.StatusBeforeDeletion)
	if d.DeletionScheduledAt != "" {
		times, err := parseEventTime(d.DeletionScheduledAt)
		if err != nil {
			return nil, err
		}
		t.DeletionScheduledAt = times[0]
	}
	return t, nil
}

// beforeSteps is the provisioning of the tenants of rows written before steps existed.
func beforeSteps() provisioning.Provisioning {
	return provisioning.Provisioning{State: provisioning.ProvisioningSucceeded}
}

func decodeEventDataV0(b []byte) (*provisioning.Tenant, error) {
	var d eventDataV0
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("event data v0: %w", err)
	}
	times, err := parseEventTime(d.CreatedAt, d.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("event data v0: %w", err)
	}
	return &provisioning.Tenant{ID: d.ID, PartnerID: d.PartnerID, CompanyName: d.CompanyName, Email: d.Email,
		PhoneNumber: deref(d.PhoneNumber), Industry: deref(d.Industry), ExternalID: deref(d.ExternalID),
		Status: provisioning.Status(d.Status), Metadata: nonEmpty(d.Metadata), Version: d.Version,
		CreatedAt: times[0], UpdatedAt: times[1], Provisioning: beforeSteps()}, nil
}

// parseEventTime parses stored RFC 3339 times, in UTC.
func parseEventTime(ss ...string) ([]time.Time, error) {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, err
		}
		out[i] = t.UTC()
	}
	return out, nil
}

func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
