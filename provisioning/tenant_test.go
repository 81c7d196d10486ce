package provisioning_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

func TestTenantJSONRoundTrip(t *testing.T) {
	in := &provisioning.Tenant{ID: "0190a0b0-0000-7000-8000-000000000001", PartnerID: "p", CompanyName: "Acme",
		Email: "a@example.com", ExternalID: "crm-1", Status: provisioning.StatusActive,
		Metadata: map[string]string{"plan": "gold"}, Version: 3,
		CreatedAt: time.Date(2025, 2, 10, 16, 30, 0, 123e6, time.UTC), UpdatedAt: time.Date(2025, 2, 11, 8, 0, 0, 0, time.UTC)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tenant":"0190a0b0-0000-7000-8000-000000000001","company_name":"Acme","email":"a@example.com",` +
		`"phone_number":null,"industry":null,"external_id":"crm-1","status":"active","metadata":{"plan":"gold"},` +
		`"partner_id":"p","version":3,"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`
	if string(b) != want {
		t.Fatalf("wire form\n got: %s\nwant: %s", b, want)
	}
	var out provisioning.Tenant
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&out, in) {
		t.Fatalf("round trip: %+v, want %+v", out, *in)
	}
}
