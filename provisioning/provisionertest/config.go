package provisionertest

import (
	"encoding/json"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func testConfig(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	a := s.as(alice)
	c, err := a.GetTenantConfig(s.ctx, alice, tn.ID)
	if err != nil || string(c.Config) != `{}` || c.Version != 1 || c.TenantID != tn.ID {
		t.Fatalf("initial config = %+v, %v", c, err)
	}
	c, err = a.ReplaceTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(`{"sso": {"idp": "okta", "enabled": true}, "seats": 10}`), none)
	if err != nil || string(c.Config) != `{"seats":10,"sso":{"enabled":true,"idp":"okta"}}` || c.Version != 2 {
		t.Fatalf("replaced config = %+v, %v", c, err)
	}
	c, err = a.UpdateTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(`{"sso":{"enabled":null},"plan":"gold"}`), provisioning.Precondition{IfVersion: 2})
	if err != nil || string(c.Config) != `{"plan":"gold","seats":10,"sso":{"idp":"okta"}}` || c.Version != 3 {
		t.Fatalf("patched config = %+v, %v", c, err)
	}
	// A change that changes nothing keeps the version.
	if c, err = a.UpdateTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(`{"plan":"gold"}`), none); err != nil || c.Version != 3 {
		t.Fatalf("no-op patch = %+v, %v", c, err)
	}
	_, err = a.ReplaceTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(`{"x":1}`), provisioning.Precondition{IfVersion: 2})
	wantCode(t, err, provisioning.CodePrecondition)
	for _, bad := range []string{`[]`, `"x"`, `{`, ``} {
		_, err = a.ReplaceTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(bad), none)
		wantFields(t, err, "config")
		_, err = a.UpdateTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(bad), none)
		wantFields(t, err, "config")
	}
	got, err := s.as(rita).GetTenantConfig(s.ctx, rita, tn.ID)
	if err != nil || string(got.Config) != string(c.Config) || got.Version != 3 || !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	// The tenant itself is untouched by its configuration.
	sameTenant(t, s.get(t, alice, tn.ID), tn)
}
