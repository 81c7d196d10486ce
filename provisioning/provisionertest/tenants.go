package provisionertest

import (
	"encoding/json"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func testCreateAndGet(t *testing.T, s *suite) {
	in := provisioning.TenantInput{CompanyName: "  Acme  ", Email: "OPS@Acme.Example", PhoneNumber: "+1 234-567-890",
		Industry: "Technology", ExternalID: "crm-4711", Metadata: map[string]string{"plan": "gold"}}
	tn := s.create(t, alice, in)
	want := &provisioning.Tenant{ID: tn.ID, PartnerID: "partner-a", CompanyName: "Acme", Email: "ops@acme.example",
		PhoneNumber: "+1234567890", Industry: "Technology", ExternalID: "crm-4711", Status: provisioning.StatusActive,
		Metadata: map[string]string{"plan": "gold"}, Version: 1, CreatedAt: tn.CreatedAt, UpdatedAt: tn.CreatedAt,
		Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningSucceeded}}
	sameTenant(t, tn, want)
	if len(tn.ID) != 36 || tn.CreatedAt.IsZero() {
		t.Fatalf("id %q, created %v", tn.ID, tn.CreatedAt)
	}
	sameTenant(t, s.get(t, rita, tn.ID), want)

	suspended := input("Beta")
	suspended.Status = provisioning.StatusSuspended
	if got := s.create(t, alice, suspended); got.Status != provisioning.StatusSuspended || got.PhoneNumber != "" || got.Metadata != nil {
		t.Fatalf("created %+v", got)
	}
}

func testCreateInvalid(t *testing.T, s *suite) {
	_, err := s.as(alice).CreateTenant(s.ctx, alice, provisioning.TenantInput{CompanyName: " ", Email: "not-an-address",
		PhoneNumber: "12", Status: "deleted"})
	wantFields(t, err, "company_name", "email", "phone_number", "status")
	if names := s.names(t, alice, provisioning.TenantFilter{}); len(names) != 0 {
		t.Fatalf("an invalid create left %v", names)
	}
}

func testCreateWithConfig(t *testing.T, s *suite) {
	in := input("Acme")
	in.Config = json.RawMessage(`{"seats": 5, "sso": {"idp": "okta"}}`)
	tn := s.create(t, alice, in)
	c, err := s.as(rita).GetTenantConfig(s.ctx, rita, tn.ID)
	if err != nil || string(c.Config) != `{"seats":5,"sso":{"idp":"okta"}}` || c.Version != 1 || c.TenantID != tn.ID {
		t.Fatalf("config = %+v, %v", c, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{`} {
		in := provisioning.TenantInput{CompanyName: "Bad " + bad, Email: "nope", Config: json.RawMessage(bad)}
		_, err := s.as(alice).CreateTenant(s.ctx, alice, in)
		wantFields(t, err, "config", "email")
	}
}

func testTenantExists(t *testing.T, s *suite) {
	in := input("Acme")
	in.ExternalID = "crm-1"
	first := s.create(t, alice, in)
	_, err := s.as(alice).CreateTenant(s.ctx, alice, input("  ACME "))
	wantExists(t, err, first.ID)
	other := input("Other")
	other.ExternalID = "crm-1"
	_, err = s.as(alice).CreateTenant(s.ctx, alice, other)
	wantExists(t, err, first.ID)

	// Another partner's names are its own.
	s.create(t, bob, in)
	// An update that takes a name already taken conflicts too.
	second := s.create(t, alice, input("Second"))
	_, err = s.as(alice).UpdateTenant(s.ctx, alice, second.ID, provisioning.TenantPatch{CompanyName: provisioning.Value("acme")}, none)
	wantExists(t, err, first.ID)
}

func testNotFound(t *testing.T, s *suite) {
	const missing = "0190a0b0-0000-7000-8000-00000000dead"
	for _, id := range []string{missing, "not-a-uuid", "../tenants"} {
		_, err := s.as(alice).GetTenant(s.ctx, alice, id)
		wantCode(t, err, provisioning.CodeNotFound)
		_, err = s.as(alice).UpdateTenant(s.ctx, alice, id, provisioning.TenantPatch{Industry: provisioning.Value("x")}, none)
		wantCode(t, err, provisioning.CodeNotFound)
		_, err = s.as(alice).DeleteTenant(s.ctx, alice, id, provisioning.DeleteOptions{}, none)
		wantCode(t, err, provisioning.CodeNotFound)
		_, err = s.as(alice).RestoreTenant(s.ctx, alice, id, none)
		wantCode(t, err, provisioning.CodeNotFound)
		wantCode(t, s.as(paula).PurgeTenant(s.ctx, paula, id, none), provisioning.CodeNotFound)
		_, err = s.as(alice).ExportTenant(s.ctx, alice, id, provisioning.ExportFilter{})
		wantCode(t, err, provisioning.CodeNotFound)
		_, err = s.as(alice).GetTenantConfig(s.ctx, alice, id)
		wantCode(t, err, provisioning.CodeNotFound)
	}
}

// Another partner's tenant is reported exactly like a missing one, whatever the call.
func testNotFoundAcrossPartners(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	b := s.as(bob)
	_, err := b.GetTenant(s.ctx, bob, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = b.UpdateTenant(s.ctx, bob, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, none)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = b.ReplaceTenant(s.ctx, bob, tn.ID, input("Taken over"), none)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = b.DeleteTenant(s.ctx, bob, tn.ID, provisioning.DeleteOptions{}, none)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = b.RestoreTenant(s.ctx, bob, tn.ID, none)
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, s.as(petra).PurgeTenant(s.ctx, petra, tn.ID, none), provisioning.CodeNotFound)
	_, err = b.ExportTenant(s.ctx, bob, tn.ID, provisioning.ExportFilter{})
	wantCode(t, err, provisioning.CodeNotFound)
	if a, err := b.TenantAvailability(s.ctx, bob, provisioning.AvailabilityQuery{CompanyName: "Acme"}); err != nil || !a.Available {
		t.Fatalf("partner-b asks for partner-a's name: %+v, %v", a, err)
	}
	_, err = b.GetTenantConfig(s.ctx, bob, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = b.ReplaceTenantConfig(s.ctx, bob, tn.ID, json.RawMessage(`{"x":1}`), none)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = b.UpdateTenantConfig(s.ctx, bob, tn.ID, json.RawMessage(`{"x":1}`), none)
	wantCode(t, err, provisioning.CodeNotFound)
	if names := s.names(t, bob, provisioning.TenantFilter{}); len(names) != 0 {
		t.Fatalf("partner-b lists %v", names)
	}
	sameTenant(t, s.get(t, alice, tn.ID), tn) // untouched
}

func testForbidden(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	for _, p := range []provisioning.Principal{rita, carl} {
		pv := s.as(p)
		_, err := pv.UpdateTenant(s.ctx, p, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, none)
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = pv.ReplaceTenant(s.ctx, p, tn.ID, input("Acme"), none)
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = pv.DeleteTenant(s.ctx, p, tn.ID, provisioning.DeleteOptions{}, none)
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = pv.RestoreTenant(s.ctx, p, tn.ID, none)
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = pv.ReplaceTenantConfig(s.ctx, p, tn.ID, json.RawMessage(`{"x":1}`), none)
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = pv.CreateWebhook(s.ctx, p, provisioning.WebhookInput{URL: "https://hooks.example/x"})
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = pv.ListWebhooks(s.ctx, p)
		wantCode(t, err, provisioning.CodeForbidden)
	}
	_, err := s.as(rita).CreateTenant(s.ctx, rita, input("Beta"))
	wantCode(t, err, provisioning.CodeForbidden)
	_, err = s.as(rita).CreateTenants(s.ctx, rita, []provisioning.TenantInput{input("Beta")}, false)
	wantCode(t, err, provisioning.CodeForbidden)
	// Purging needs tenant:purge, which alice's every other permission does not make up for.
	wantCode(t, s.as(alice).PurgeTenant(s.ctx, alice, tn.ID, none), provisioning.CodeForbidden)
	// Reading needs only tenant:read; carl's create works.
	s.get(t, rita, tn.ID)
	if _, err := s.as(rita).ExportTenant(s.ctx, rita, tn.ID, provisioning.ExportFilter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.as(rita).TenantAvailability(s.ctx, rita, provisioning.AvailabilityQuery{CompanyName: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.as(rita).ListEvents(s.ctx, rita, provisioning.EventFilter{}); err != nil {
		t.Fatal(err)
	}
	s.create(t, carl, input("Carl's"))
	sameTenant(t, s.get(t, alice, tn.ID), tn)
}

func testUnauthenticated(t *testing.T, s *suite) {
	_, err := s.as(nobody).CreateTenant(s.ctx, nobody, input("Acme"))
	wantCode(t, err, provisioning.CodeUnauthenticated)
	_, err = s.as(nobody).ListTenants(s.ctx, nobody, provisioning.TenantFilter{})
	wantCode(t, err, provisioning.CodeUnauthenticated)
}

func testUpdate(t *testing.T, s *suite) {
	in := input("Acme")
	in.Industry, in.PhoneNumber, in.Metadata = "Retail", "+1234567", map[string]string{"plan": "gold", "tier": "1"}
	tn := s.create(t, alice, in)
	a := s.as(alice)
	got, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{
		Industry: provisioning.Null[string](), Email: provisioning.Value("NEW@acme.example"),
		Metadata: provisioning.Value(map[string]*string{"plan": nil, "seats": ptr("5")}),
	}, none)
	if err != nil {
		t.Fatal(err)
	}
	want := tn.Clone()
	want.Industry, want.Email, want.Metadata = "", "new@acme.example", map[string]string{"tier": "1", "seats": "5"}
	want.Version, want.UpdatedAt = 2, got.UpdatedAt
	sameTenant(t, got, want)
	if got.UpdatedAt.Before(tn.UpdatedAt) {
		t.Fatalf("updated_at went back: %v before %v", got.UpdatedAt, tn.UpdatedAt)
	}
	sameTenant(t, s.get(t, alice, tn.ID), want)

	// A patch that changes nothing keeps the version.
	same, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Email: provisioning.Value("new@acme.example")}, none)
	if err != nil || same.Version != 2 {
		t.Fatalf("no-op patch: %+v, %v", same, err)
	}

	// Suspend and resume are updates of the status.
	sus, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)}, none)
	if err != nil || sus.Status != provisioning.StatusSuspended || sus.Version != 3 {
		t.Fatalf("suspend: %+v, %v", sus, err)
	}
	res, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusActive),
		Metadata: provisioning.Null[map[string]*string]()}, none)
	if err != nil || res.Status != provisioning.StatusActive || res.Metadata != nil || res.Version != 4 {
		t.Fatalf("resume: %+v, %v", res, err)
	}
}

func testUpdateInvalid(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	_, err := s.as(alice).UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{
		CompanyName: provisioning.Null[string](), Email: provisioning.Value("nope"), Status: provisioning.Value[provisioning.Status]("gone"),
	}, none)
	wantFields(t, err, "company_name", "email", "status")
	sameTenant(t, s.get(t, alice, tn.ID), tn)
}

func testReplace(t *testing.T, s *suite) {
	in := input("Acme")
	in.Industry, in.ExternalID, in.Status, in.Metadata = "Retail", "crm-1", provisioning.StatusSuspended, map[string]string{"a": "b"}
	tn := s.create(t, alice, in)
	a := s.as(alice)
	got, err := a.ReplaceTenant(s.ctx, alice, tn.ID, provisioning.TenantInput{CompanyName: "Acme Two", Email: "two@acme.example"}, none)
	if err != nil {
		t.Fatal(err)
	}
	want := &provisioning.Tenant{ID: tn.ID, PartnerID: tn.PartnerID, CompanyName: "Acme Two", Email: "two@acme.example",
		Status: provisioning.StatusSuspended, Version: 2, CreatedAt: tn.CreatedAt, UpdatedAt: got.UpdatedAt,
		Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningSucceeded}}
	sameTenant(t, got, want)

	_, err = a.ReplaceTenant(s.ctx, alice, tn.ID, provisioning.TenantInput{CompanyName: "", Email: "x@example.com",
		Config: json.RawMessage(`{"a":1}`)}, none)
	wantFields(t, err, "company_name", "config")
	sameTenant(t, s.get(t, alice, tn.ID), want)
}

func testPrecondition(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	a := s.as(alice)
	stale := provisioning.Precondition{IfVersion: 2}
	_, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, stale)
	wantCode(t, err, provisioning.CodePrecondition)
	_, err = a.ReplaceTenant(s.ctx, alice, tn.ID, input("Acme"), stale)
	wantCode(t, err, provisioning.CodePrecondition)
	_, err = a.DeleteTenant(s.ctx, alice, tn.ID, provisioning.DeleteOptions{}, stale)
	wantCode(t, err, provisioning.CodePrecondition)
	wantCode(t, s.as(paula).PurgeTenant(s.ctx, paula, tn.ID, stale), provisioning.CodePrecondition)
	sameTenant(t, s.get(t, alice, tn.ID), tn)

	current := provisioning.Precondition{IfVersion: 1}
	got, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, current)
	if err != nil || got.Version != 2 {
		t.Fatalf("update at the current version: %+v, %v", got, err)
	}
	deleted, err := a.DeleteTenant(s.ctx, alice, tn.ID, provisioning.DeleteOptions{}, provisioning.Precondition{IfVersion: 2})
	if err != nil || deleted.Version != 3 {
		t.Fatalf("delete at the current version: %+v, %v", deleted, err)
	}
	_, err = a.RestoreTenant(s.ctx, alice, tn.ID, provisioning.Precondition{IfVersion: 2})
	wantCode(t, err, provisioning.CodePrecondition)
	if _, err := a.RestoreTenant(s.ctx, alice, tn.ID, provisioning.Precondition{IfVersion: 3}); err != nil {
		t.Fatalf("restore at the current version: %v", err)
	}
	if err := s.as(paula).PurgeTenant(s.ctx, paula, tn.ID, provisioning.Precondition{IfVersion: 4}); err != nil {
		t.Fatalf("purge at the current version: %v", err)
	}
}

func ptr(s string) *string { return &s }
