package provisionertest

import (
	"slices"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// The platform: what operators see and do, the partner registry and API keys. These tests run
// when the harness gives a Platform.

var (
	// olga is an operator.
	olga = provisioning.Principal{PartnerID: "ops", Subject: "olga", Operator: true}
	// kim manages partner-a's API keys and may read its tenants.
	kim = provisioning.Principal{PartnerID: "partner-a", Subject: "kim",
		Permissions: []provisioning.Permission{provisioning.PermAPIKeyManage, provisioning.PermTenantRead}}
)

// platform returns the Platform acting as p, skipping the test when the harness has none.
func (s *suite) platform(t *testing.T, p provisioning.Principal) provisioning.Platform {
	t.Helper()
	if s.h.Platform == nil {
		t.Skip("the harness has no Platform")
	}
	return s.h.Platform(p)
}

func intp(n int) *int { return &n }

func testPartnerRegistry(t *testing.T, s *suite) {
	ops := s.platform(t, olga)
	acme, err := ops.CreatePartner(s.ctx, olga, provisioning.PartnerInput{ID: "acme", Name: " Acme ", MaxTenants: intp(3)})
	if err != nil || acme.ID != "acme" || acme.Name != "Acme" || acme.MaxTenants == nil || *acme.MaxTenants != 3 ||
		acme.Status != provisioning.PartnerActive || acme.CreatedAt.IsZero() {
		t.Fatalf("CreatePartner: %+v, %v", acme, err)
	}
	_, err = ops.CreatePartner(s.ctx, olga, provisioning.PartnerInput{ID: "acme", Name: "Acme"})
	wantCode(t, err, provisioning.CodePartnerExists)
	_, err = ops.CreatePartner(s.ctx, olga, provisioning.PartnerInput{ID: "", Name: "", MaxTenants: intp(-1)})
	wantFields(t, err, "id", "name", "max_tenants")

	got, err := ops.GetPartner(s.ctx, olga, "acme")
	if err != nil || got.Name != "Acme" || !got.CreatedAt.Equal(acme.CreatedAt) {
		t.Fatalf("GetPartner: %+v, %v", got, err)
	}
	_, err = ops.GetPartner(s.ctx, olga, "not-registered")
	wantCode(t, err, provisioning.CodeNotFound)
	up, err := ops.UpdatePartner(s.ctx, olga, "acme", provisioning.PartnerPatch{MaxTenants: provisioning.Null[int](), Name: provisioning.Value("Acme Inc")})
	if err != nil || up.MaxTenants != nil || up.Name != "Acme Inc" {
		t.Fatalf("UpdatePartner: %+v, %v", up, err)
	}
	_, err = ops.UpdatePartner(s.ctx, olga, "acme", provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerStatus("paused"))})
	wantFields(t, err, "status")
	page, err := ops.ListPartners(s.ctx, olga, provisioning.PartnerFilter{})
	if err != nil || len(page.Partners) != 1 || page.Partners[0].ID != "acme" || page.HasMore {
		t.Fatalf("ListPartners: %+v, %v", page, err)
	}

	// Nobody else may use the registry.
	for _, p := range []provisioning.Principal{alice, kim} {
		a := s.platform(t, p)
		_, err := a.CreatePartner(s.ctx, p, provisioning.PartnerInput{ID: "mine", Name: "Mine"})
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = a.ListPartners(s.ctx, p, provisioning.PartnerFilter{})
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = a.GetPartner(s.ctx, p, "acme")
		wantCode(t, err, provisioning.CodeForbidden)
		_, err = a.UpdatePartner(s.ctx, p, p.PartnerID, provisioning.PartnerPatch{Name: provisioning.Value("Mine")})
		wantCode(t, err, provisioning.CodeForbidden)
	}
	if evs := s.events(t, olga, provisioning.EventFilter{PartnerID: "acme"}); !slices.Equal(types(evs),
		[]provisioning.EventType{provisioning.EventPartnerCreated, provisioning.EventPartnerUpdated}) ||
		evs[1].Partner == nil || evs[1].Partner.Name != "Acme Inc" || evs[1].TenantID != "" || evs[1].Actor != "olga" {
		t.Fatalf("acme's events: %v", types(evs))
	}
}

func testPartnerQuota(t *testing.T, s *suite) {
	ops := s.platform(t, olga)
	if _, err := ops.CreatePartner(s.ctx, olga, provisioning.PartnerInput{ID: "partner-a", Name: "A", MaxTenants: intp(1)}); err != nil {
		t.Fatal(err)
	}
	s.create(t, alice, input("Only one"))
	_, err := s.as(alice).CreateTenant(s.ctx, alice, input("One too many"))
	wantCode(t, err, provisioning.CodeQuotaExceeded)
	res, err := s.as(alice).CreateTenants(s.ctx, alice, []provisioning.TenantInput{input("Bulk 1")}, false)
	if err != nil || len(res) != 1 {
		t.Fatalf("CreateTenants: %v, %v", res, err)
	}
	wantCode(t, res[0].Err, provisioning.CodeQuotaExceeded)
	s.create(t, bob, input("Bob is not limited"))
	if _, err := ops.UpdatePartner(s.ctx, olga, "partner-a", provisioning.PartnerPatch{MaxTenants: provisioning.Value(2)}); err != nil {
		t.Fatal(err)
	}
	s.create(t, alice, input("Room again"))
}

func testPartnerDisabled(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	ops := s.platform(t, olga)
	off, err := ops.UpdatePartner(s.ctx, olga, "partner-a", provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerDisabled)})
	if err != nil || off.Status != provisioning.PartnerDisabled || off.Name != "partner-a" {
		t.Fatalf("disabling an implicit partner: %+v, %v", off, err)
	}
	_, err = s.as(alice).GetTenant(s.ctx, alice, tn.ID)
	wantCode(t, err, provisioning.CodePartnerDisabled)
	_, err = s.as(rita).ListTenants(s.ctx, rita, provisioning.TenantFilter{})
	wantCode(t, err, provisioning.CodePartnerDisabled)
	_, err = s.platform(t, kim).ListAPIKeys(s.ctx, kim, "partner-a")
	wantCode(t, err, provisioning.CodePartnerDisabled)
	s.create(t, bob, input("Bob goes on"))
	if _, err := s.as(olga).GetTenant(s.ctx, olga, tn.ID); err != nil {
		t.Fatalf("an operator reads a disabled partner's tenant: %v", err)
	}
	if _, err := ops.UpdatePartner(s.ctx, olga, "partner-a", provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerActive)}); err != nil {
		t.Fatal(err)
	}
	s.get(t, alice, tn.ID)
	want := []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventPartnerCreated,
		provisioning.EventPartnerDisabled, provisioning.EventPartnerEnabled}
	if got := types(s.events(t, rita, provisioning.EventFilter{})); !slices.Equal(got, want) {
		t.Fatalf("partner-a's events: %v, want %v", got, want)
	}
}

func testOperatorScope(t *testing.T, s *suite) {
	a := s.create(t, alice, input("Alpha"))
	b := s.create(t, bob, input("Bravo"))
	if got := s.names(t, olga, provisioning.TenantFilter{}); !slices.Equal(got, []string{"Bravo", "Alpha"}) {
		t.Fatalf("an operator's listing: %v", got)
	}
	if got := s.names(t, olga, provisioning.TenantFilter{PartnerID: "partner-a"}); !slices.Equal(got, []string{"Alpha"}) {
		t.Fatalf("an operator's listing of partner-a: %v", got)
	}
	_, err := s.as(alice).ListTenants(s.ctx, alice, provisioning.TenantFilter{PartnerID: "partner-b"})
	wantCode(t, err, provisioning.CodeForbidden)
	_, err = s.as(alice).ListEvents(s.ctx, alice, provisioning.EventFilter{PartnerID: "partner-a"})
	wantCode(t, err, provisioning.CodeForbidden)

	op := s.as(olga)
	if got := s.get(t, olga, b.ID); got.PartnerID != "partner-b" {
		t.Fatalf("an operator's GetTenant: %+v", got)
	}
	sus, err := op.UpdateTenant(s.ctx, olga, b.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)}, provisioning.Precondition{IfVersion: 1})
	if err != nil || sus.Status != provisioning.StatusSuspended || sus.PartnerID != "partner-b" {
		t.Fatalf("an operator suspends partner-b's tenant: %+v, %v", sus, err)
	}
	if del, err := op.DeleteTenant(s.ctx, olga, a.ID, provisioning.DeleteOptions{}, none); err != nil ||
		del.Status != provisioning.StatusPendingDeletion || del.PartnerID != "partner-a" {
		t.Fatalf("an operator deletes partner-a's tenant: %+v, %v", del, err)
	}
	_, err = s.as(alice).GetTenant(s.ctx, alice, b.ID)
	wantCode(t, err, provisioning.CodeNotFound)

	all := s.events(t, olga, provisioning.EventFilter{Limit: 1})
	if len(all) != 4 {
		t.Fatalf("an operator's feed: %v", types(all))
	}
	bobs := s.events(t, bob, provisioning.EventFilter{})
	if len(bobs) != 2 || bobs[1].Type != provisioning.EventTenantSuspended || bobs[1].Actor != "olga" {
		t.Fatalf("partner-b's feed: %v", types(bobs))
	}
	only := s.events(t, olga, provisioning.EventFilter{PartnerID: "partner-b"})
	if len(only) != 2 {
		t.Fatalf("an operator's feed of partner-b: %v", types(only))
	}
}

func testAPIKeys(t *testing.T, s *suite) {
	k := s.platform(t, kim)
	expires := time.Date(2999, 1, 2, 3, 4, 5, 6e6, time.UTC)
	key, err := k.CreateAPIKey(s.ctx, kim, "partner-a", provisioning.APIKeyInput{Name: "reporting",
		Permissions: []provisioning.Permission{provisioning.PermTenantRead}, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if !provisioning.WellFormedAPIKey(key.Key) || key.Prefix != key.Key[:provisioning.APIKeyShownPrefix] || key.PartnerID != "partner-a" ||
		key.Name != "reporting" || !key.ExpiresAt.Equal(expires) || key.Operator ||
		!slices.Equal(key.Permissions, []provisioning.Permission{provisioning.PermTenantRead}) {
		t.Fatalf("issued key: %+v", key)
	}
	// No more than the issuer holds; operator keys only from operators; partners only their own.
	_, err = k.CreateAPIKey(s.ctx, kim, "partner-a", provisioning.APIKeyInput{Name: "x",
		Permissions: []provisioning.Permission{provisioning.PermTenantRead, provisioning.PermTenantCreate}})
	wantCode(t, err, provisioning.CodeForbidden)
	_, err = k.CreateAPIKey(s.ctx, kim, "partner-a", provisioning.APIKeyInput{Name: "x", Operator: true})
	wantCode(t, err, provisioning.CodeForbidden)
	_, err = k.CreateAPIKey(s.ctx, kim, "partner-b", provisioning.APIKeyInput{Name: "x", Permissions: []provisioning.Permission{provisioning.PermTenantRead}})
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = k.CreateAPIKey(s.ctx, kim, "partner-a", provisioning.APIKeyInput{Name: "", Permissions: []provisioning.Permission{"tenant:fly"}})
	wantFields(t, err, "name", "permissions")
	_, err = s.platform(t, alice).CreateAPIKey(s.ctx, alice, "partner-a", provisioning.APIKeyInput{Name: "x",
		Permissions: []provisioning.Permission{provisioning.PermTenantRead}})
	wantCode(t, err, provisioning.CodeForbidden) // alice lacks apikey:manage

	ops := s.platform(t, olga)
	opKey, err := ops.CreateAPIKey(s.ctx, olga, "partner-b", provisioning.APIKeyInput{Name: "everything",
		Permissions: []provisioning.Permission{provisioning.PermTenantCreate, provisioning.PermWebhookManage}})
	if err != nil || opKey.PartnerID != "partner-b" {
		t.Fatalf("an operator issues partner-b a key: %+v, %v", opKey, err)
	}

	list, err := k.ListAPIKeys(s.ctx, kim, "partner-a")
	if err != nil || len(list) != 1 || list[0].ID != key.ID || list[0].Key != "" || list[0].Prefix != key.Prefix {
		t.Fatalf("ListAPIKeys: %+v, %v", list, err)
	}
	_, err = k.ListAPIKeys(s.ctx, kim, "partner-b")
	wantCode(t, err, provisioning.CodeNotFound)
	if list, err := ops.ListAPIKeys(s.ctx, olga, "partner-b"); err != nil || len(list) != 1 {
		t.Fatalf("an operator lists partner-b's keys: %+v, %v", list, err)
	}
	wantCode(t, k.RevokeAPIKey(s.ctx, kim, "partner-b", opKey.ID), provisioning.CodeNotFound)
	wantCode(t, k.RevokeAPIKey(s.ctx, kim, "partner-a", opKey.ID), provisioning.CodeNotFound)
	mustDo(t, func() error { return k.RevokeAPIKey(s.ctx, kim, "partner-a", key.ID) })
	wantCode(t, k.RevokeAPIKey(s.ctx, kim, "partner-a", key.ID), provisioning.CodeNotFound)
	mustDo(t, func() error { return ops.RevokeAPIKey(s.ctx, olga, "partner-b", opKey.ID) })

	evs := s.events(t, kim, provisioning.EventFilter{})
	if !slices.Equal(types(evs), []provisioning.EventType{provisioning.EventAPIKeyCreated, provisioning.EventAPIKeyRevoked}) {
		t.Fatalf("partner-a's events: %v", types(evs))
	}
	for _, e := range evs {
		if e.APIKey == nil || e.APIKey.ID != key.ID || e.APIKey.Key != "" || e.APIKey.Prefix != key.Prefix || e.TenantID != "" {
			t.Fatalf("%s: %+v", e.Type, e.APIKey)
		}
	}
}
