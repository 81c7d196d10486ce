package sqlstore

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// storedTenant is the tenant of the stored rows of versions 0, 1 and 2, which predate
// provisioning steps: its provisioning has succeeded, with no steps.
func storedTenant() *provisioning.Tenant {
	return &provisioning.Tenant{ID: "0190a0b0-0000-7000-8000-000000000001", PartnerID: "p", CompanyName: "Acme",
		Email: "a@example.com", PhoneNumber: "+1234567890", ExternalID: "crm-1", Status: provisioning.StatusActive,
		Metadata: map[string]string{"plan": "gold"}, Version: 3,
		CreatedAt: time.Date(2025, 2, 10, 16, 30, 0, 123e6, time.UTC), UpdatedAt: time.Date(2025, 2, 11, 8, 0, 0, 0, time.UTC),
		Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningSucceeded}}
}

// pending makes t pending deletion.
func pending(t *provisioning.Tenant) *provisioning.Tenant {
	t.Status, t.StatusBeforeDeletion = provisioning.StatusPendingDeletion, provisioning.StatusSuspended
	t.DeletionScheduledAt = time.Date(2025, 3, 13, 8, 0, 0, 0, time.UTC)
	return t
}

// storedTenantV3 is the tenant of the stored row of version 3: storedTenant with steps.
func storedTenantV3() *provisioning.Tenant {
	t := storedTenant()
	t.Provisioning = provisioning.Provisioning{State: provisioning.ProvisioningFailed, Steps: []provisioning.ProvisioningStep{
		{Name: "admin-user", State: provisioning.ProvisioningSucceeded, Attempts: 1, CompletedAt: time.Date(2025, 2, 10, 16, 30, 1, 5e6, time.UTC)},
		{Name: "welcome_mail", State: provisioning.ProvisioningFailed, Attempts: 10, LastError: "the step endpoint answered HTTP 503"},
		{Name: "seed", State: provisioning.ProvisioningPending},
	}}
	return t
}

// Stored bytes that must read back the same for as long as a store keeps them. A change to
// the stored format adds a version; it never edits these.
const (
	// storedV3 is what insertEvent writes today; the deletion's fields only when set.
	storedV3 = `{"v":3,"id":"0190a0b0-0000-7000-8000-000000000001","partner_id":"p","company_name":"Acme",` +
		`"email":"a@example.com","phone_number":"+1234567890","external_id":"crm-1","status":"active",` +
		`"metadata":{"plan":"gold"},"version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z",` +
		`"provisioning":{"state":"failed","steps":[` +
		`{"name":"admin-user","state":"succeeded","attempts":1,"completed_at":"2025-02-10T16:30:01.005Z"},` +
		`{"name":"welcome_mail","state":"failed","attempts":10,"last_error":"the step endpoint answered HTTP 503"},` +
		`{"name":"seed","state":"pending","attempts":0}]}}`
	storedV3Pending = `{"v":3,"id":"0190a0b0-0000-7000-8000-000000000001","partner_id":"p","company_name":"Acme",` +
		`"email":"a@example.com","phone_number":"+1234567890","external_id":"crm-1","status":"pending_deletion",` +
		`"metadata":{"plan":"gold"},"version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z",` +
		`"deletion_scheduled_at":"2025-03-13T08:00:00.000Z","status_before_deletion":"suspended",` +
		`"provisioning":{"state":"failed","steps":[` +
		`{"name":"admin-user","state":"succeeded","attempts":1,"completed_at":"2025-02-10T16:30:01.005Z"},` +
		`{"name":"welcome_mail","state":"failed","attempts":10,"last_error":"the step endpoint answered HTTP 503"},` +
		`{"name":"seed","state":"pending","attempts":0}]}}`
	// storedV2 is what insertEvent wrote when deletion had a grace period but before
	// provisioning steps existed; the deletion's fields only when set.
	storedV2 = `{"v":2,"id":"0190a0b0-0000-7000-8000-000000000001","partner_id":"p","company_name":"Acme",` +
		`"email":"a@example.com","phone_number":"+1234567890","external_id":"crm-1","status":"active",` +
		`"metadata":{"plan":"gold"},"version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`
	storedV2Pending = `{"v":2,"id":"0190a0b0-0000-7000-8000-000000000001","partner_id":"p","company_name":"Acme",` +
		`"email":"a@example.com","phone_number":"+1234567890","external_id":"crm-1","status":"pending_deletion",` +
		`"metadata":{"plan":"gold"},"version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z",` +
		`"deletion_scheduled_at":"2025-03-13T08:00:00.000Z","status_before_deletion":"suspended"}`
	// storedV1 is what insertEvent wrote before deletion had a grace period.
	storedV1 = `{"v":1,"id":"0190a0b0-0000-7000-8000-000000000001","partner_id":"p","company_name":"Acme",` +
		`"email":"a@example.com","phone_number":"+1234567890","external_id":"crm-1","status":"active",` +
		`"metadata":{"plan":"gold"},"version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`
	// storedV0 is a row written before the format had a version: the API's tenant JSON.
	storedV0 = `{"tenant":"0190a0b0-0000-7000-8000-000000000001","company_name":"Acme","email":"a@example.com",` +
		`"phone_number":"+1234567890","industry":null,"external_id":"crm-1","status":"active","metadata":{"plan":"gold"},` +
		`"partner_id":"p","version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`
	// storedV0JSONB is the same row as PostgreSQL's JSONB gives it back: keys reordered, spaced.
	storedV0JSONB = `{"email": "a@example.com", "status": "active", "tenant": "0190a0b0-0000-7000-8000-000000000001", ` +
		`"version": 3, "industry": null, "metadata": {"plan": "gold"}, "created_at": "2025-02-10T16:30:00.123Z", ` +
		`"partner_id": "p", "updated_at": "2025-02-11T08:00:00.000Z", "external_id": "crm-1", "company_name": "Acme", ` +
		`"phone_number": "+1234567890"}`
)

func TestEventDataIsWrittenInItsOwnFormat(t *testing.T) {
	for want, tn := range map[string]*provisioning.Tenant{storedV3: storedTenantV3(), storedV3Pending: pending(storedTenantV3())} {
		b, err := encodeEventData(tn)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Fatalf("stored bytes\n got: %s\nwant: %s", b, want)
		}
	}
}

func TestEventDataReadsEveryVersion(t *testing.T) {
	for name, tc := range map[string]struct {
		stored string
		want   *provisioning.Tenant
	}{
		"v3":            {storedV3, storedTenantV3()},
		"v3 pending":    {storedV3Pending, pending(storedTenantV3())},
		"v2":            {storedV2, storedTenant()},
		"v2 pending":    {storedV2Pending, pending(storedTenant())},
		"v1":            {storedV1, storedTenant()},
		"v0":            {storedV0, storedTenant()},
		"v0 from JSONB": {storedV0JSONB, storedTenant()},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeEventData([]byte(tc.stored))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("read\n got: %+v\nwant: %+v", got, tc.want)
			}
		})
	}
	minimal := &provisioning.Tenant{ID: "x", PartnerID: "p", CompanyName: "A", Email: "a@example.com",
		Status: provisioning.StatusSuspended, Version: 1, CreatedAt: time.UnixMilli(1).UTC(), UpdatedAt: time.UnixMilli(2).UTC(),
		Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningPending}}
	b, _ := encodeEventData(minimal)
	if got, err := decodeEventData(b); err != nil || !reflect.DeepEqual(got, minimal) {
		t.Fatalf("round trip of %s: %+v, %v", b, got, err)
	}
	every := pending(storedTenantV3())
	every.Industry = "Retail"
	b, _ = encodeEventData(every)
	if got, err := decodeEventData(b); err != nil || !reflect.DeepEqual(got, every) {
		t.Fatalf("round trip of %s: %+v, %v", b, got, err)
	}
	// every sets every field of a Tenant; a new field needs a place in the stored format.
	if n := reflect.TypeFor[provisioning.Tenant]().NumField(); n != 15 {
		t.Fatalf("provisioning.Tenant has %d fields, the stored format knows 15: store the new one (a new version) and update this test", n)
	}
	if n := reflect.TypeFor[provisioning.ProvisioningStep]().NumField(); n != 5 {
		t.Fatalf("provisioning.ProvisioningStep has %d fields, the stored format knows 5: store the new one (a new version) and update this test", n)
	}
	if got, err := decodeEventData([]byte("null")); got != nil || err != nil {
		t.Fatalf("null: %v, %v", got, err)
	}
	if _, err := decodeEventData([]byte(`{"v":4,"id":"x"}`)); err == nil || !strings.Contains(err.Error(), "version 4") {
		t.Fatalf("a newer version read without error: %v", err)
	}
}

// The stored format cannot follow the API's JSON by accident: the SQL stores do not even
// depend on the packages that define it.
func TestStoredFormatIsIndependentOfTheAPI(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasSuffix(dep, "/provisioning/wire") || strings.HasSuffix(dep, "/provisioning/httpapi") {
			t.Errorf("sqlstore depends on %s", dep)
		}
	}
}
