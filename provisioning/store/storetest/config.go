package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func testConfig(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	none := provisioning.Precondition{}
	in := input("Configured")
	in.Config = json.RawMessage(`{"b": 12345678901234567890, "a": {"x": "y"}}`)
	tn := mustCreate(t, svc, alice, in)
	want := func(c *provisioning.TenantConfig, err error, config string, version int64) {
		t.Helper()
		if err != nil || string(c.Config) != config || c.Version != version || c.TenantID != tn.ID {
			t.Fatalf("config = %+v (%s), %v; want %s at version %d", c, c.Config, err, config, version)
		}
	}
	c, err := svc.GetTenantConfig(ctx, alice, tn.ID)
	want(c, err, `{"a":{"x":"y"},"b":12345678901234567890}`, 1)

	c, err = svc.UpdateTenantConfig(ctx, alice, tn.ID, json.RawMessage(`{"a":{"x":null,"z":[1,2]},"c":true}`), provisioning.Precondition{IfVersion: 1})
	want(c, err, `{"a":{"z":[1,2]},"b":12345678901234567890,"c":true}`, 2)
	c, err = svc.UpdateTenantConfig(ctx, alice, tn.ID, json.RawMessage(`{"c":true}`), none)
	want(c, err, `{"a":{"z":[1,2]},"b":12345678901234567890,"c":true}`, 2) // no change, no version
	c, err = svc.ReplaceTenantConfig(ctx, alice, tn.ID, json.RawMessage(`{"only":"this"}`), none)
	want(c, err, `{"only":"this"}`, 3)
	c, err = svc.GetTenantConfig(ctx, alice, tn.ID)
	want(c, err, `{"only":"this"}`, 3)

	_, err = svc.ReplaceTenantConfig(ctx, alice, tn.ID, json.RawMessage(`{"x":1}`), provisioning.Precondition{IfVersion: 2})
	wantCode(t, err, provisioning.CodePrecondition)
	for _, bad := range []string{`[1]`, `"s"`, `null`, `{"a":1} {}`, `{"big":"` + strings.Repeat("x", provisioning.MaxConfigBytes) + `"}`} {
		_, err = svc.ReplaceTenantConfig(ctx, alice, tn.ID, json.RawMessage(bad), none)
		wantCode(t, err, provisioning.CodeInvalid)
	}
	_, err = svc.GetTenantConfig(ctx, bob, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.UpdateTenantConfig(ctx, bob, tn.ID, json.RawMessage(`{"x":1}`), none)
	wantCode(t, err, provisioning.CodeNotFound)

	// A tenant created without one has an empty configuration.
	plain := mustCreate(t, svc, alice, input("Plain"))
	c, err = svc.GetTenantConfig(ctx, alice, plain.ID)
	if err != nil || string(c.Config) != `{}` || c.Version != 1 {
		t.Fatalf("default config: %+v %v", c, err)
	}
	_, err = svc.CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: "Bad", Email: "b@example.com", Config: json.RawMessage(`[]`)})
	wantCode(t, err, provisioning.CodeInvalid)

	evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{Type: provisioning.EventTenantConfigUpdated})
	if len(evs) != 2 || evs[0].TenantID != tn.ID || evs[0].Data.ID != tn.ID {
		t.Fatalf("config events: %d", len(evs))
	}
	// A tenant pending deletion keeps its configuration, readable; a purged one has none.
	if _, err := svc.DeleteTenant(ctx, alice, tn.ID, provisioning.DeleteOptions{}, none); err != nil {
		t.Fatal(err)
	}
	if c, err := svc.GetTenantConfig(ctx, alice, tn.ID); err != nil || c.Version != 3 {
		t.Fatalf("config of a tenant pending deletion: %+v, %v", c, err)
	}
	if err := svc.PurgeTenant(ctx, alice, tn.ID, none); err != nil {
		t.Fatal(err)
	}
	_, err = svc.GetTenantConfig(ctx, alice, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
}
