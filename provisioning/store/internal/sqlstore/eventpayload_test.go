package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// Stored bytes of partners' and keys' events that must read back the same for as long as a
// store keeps them; a change of format adds a version.
const (
	storedPartnerV1 = `{"v":1,"kind":"partner","id":"acme","name":"Acme","max_tenants":5,"status":"disabled",` +
		`"created_at":"2025-02-10T16:30:00.123Z","updated_at":"2025-02-11T08:00:00.000Z"}`
	storedAPIKeyV1 = `{"v":1,"kind":"api_key","id":"0190a0b0-0000-7000-8000-000000000002","partner_id":"acme",` +
		`"name":"crm","prefix":"pk_abcdefgh","permissions":["tenant:create","tenant:read"],"operator":true,` +
		`"expires_at":"2026-01-01T00:00:00.000Z","created_at":"2025-02-10T16:30:00.123Z"}`
)

func TestPartnerAndKeyEventData(t *testing.T) {
	created, updated := time.Date(2025, 2, 10, 16, 30, 0, 123e6, time.UTC), time.Date(2025, 2, 11, 8, 0, 0, 0, time.UTC)
	five := 5
	partner := &provisioning.Partner{ID: "acme", Name: "Acme", MaxTenants: &five, Status: provisioning.PartnerDisabled,
		CreatedAt: created, UpdatedAt: updated}
	key := &provisioning.APIKey{ID: "0190a0b0-0000-7000-8000-000000000002", PartnerID: "acme", Name: "crm", Prefix: "pk_abcdefgh",
		Permissions: []provisioning.Permission{provisioning.PermTenantCreate, provisioning.PermTenantRead}, Operator: true,
		ExpiresAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), CreatedAt: created, Key: "pk_never-stored"}
	for name, tc := range map[string]struct {
		e      *provisioning.Event
		stored string
	}{
		"partner": {&provisioning.Event{Partner: partner}, storedPartnerV1},
		"api key": {&provisioning.Event{APIKey: key}, storedAPIKeyV1},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := encodeEventPayload(tc.e)
			if err != nil || string(b) != tc.stored {
				t.Fatalf("stored bytes (%v)\n got: %s\nwant: %s", err, b, tc.stored)
			}
			var got provisioning.Event
			if err := decodeEventPayload([]byte(tc.stored), &got); err != nil {
				t.Fatal(err)
			}
			want := tc.e.Clone()
			if want.APIKey != nil {
				want.APIKey.Key = "" // never stored
			}
			if !reflect.DeepEqual(&got, want) {
				t.Fatalf("read\n got: %+v\nwant: %+v", got, want)
			}
		})
	}
	var e provisioning.Event
	if err := decodeEventPayload([]byte(`{"v":1,"kind":"robot"}`), &e); err == nil {
		t.Fatal("an unknown kind reads")
	}
	if err := decodeEventPayload([]byte(`{"v":2,"kind":"partner"}`), &e); err == nil {
		t.Fatal("a newer version reads")
	}
}
