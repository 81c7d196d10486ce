package provisioning_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

func TestServiceUsesInjectedClockAndIDs(t *testing.T) {
	at := time.Date(2025, 2, 10, 16, 30, 0, 123456789, time.FixedZone("CET", 3600))
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()),
		provisioning.WithClock(func() time.Time { return at }),
		provisioning.WithIDGenerator(func() string { return "550e8400-e29b-41d4-a716-446655440000" }))
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	tn, err := svc.CreateTenant(context.Background(), admin, provisioning.TenantInput{CompanyName: "A", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 2, 10, 15, 30, 0, 123000000, time.UTC) // UTC, whole milliseconds
	if tn.ID != "550e8400-e29b-41d4-a716-446655440000" || !tn.CreatedAt.Equal(want) || tn.CreatedAt.Location() != time.UTC {
		t.Fatalf("id %s, created_at %v", tn.ID, tn.CreatedAt)
	}
}

func TestServiceChecksThePrincipal(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	ctx := context.Background()
	in := provisioning.TenantInput{CompanyName: "A", Email: "a@example.com"}
	_, err := svc.CreateTenant(ctx, provisioning.Principal{Roles: []string{"partner-admin"}}, in)
	if provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
		t.Fatalf("no partner: %v", err)
	}
	// A partner id or subject no store could keep as it is never reaches one.
	for _, p := range []provisioning.Principal{
		{PartnerID: "p\x00", Roles: []string{"partner-admin"}},
		{PartnerID: "p\xff", Roles: []string{"partner-admin"}},
		{PartnerID: "p\u202e", Roles: []string{"partner-admin"}},
		{PartnerID: strings.Repeat("p", provisioning.MaxPartnerID+1), Roles: []string{"partner-admin"}},
		{PartnerID: "p", Subject: "s\x00", Roles: []string{"partner-admin"}},
		{PartnerID: "p\ufe0f", Roles: []string{"partner-admin"}},
		{PartnerID: "p\u3164", Roles: []string{"partner-admin"}},
	} {
		if _, err := svc.CreateTenant(ctx, p, in); provisioning.ErrorCode(err) != provisioning.CodeUnauthenticated {
			t.Fatalf("principal %q/%q: %v", p.PartnerID, p.Subject, err)
		}
	}
	if _, err := svc.CreateTenant(ctx, provisioning.Principal{PartnerID: strings.Repeat("p", provisioning.MaxPartnerID),
		Roles: []string{"partner-admin"}}, in); err != nil {
		t.Fatalf("a partner id at the bound: %v", err)
	}
	reader := provisioning.Principal{PartnerID: "p", Permissions: []provisioning.Permission{provisioning.PermTenantRead}}
	_, err = svc.CreateTenant(ctx, reader, in)
	if provisioning.ErrorCode(err) != provisioning.CodeForbidden {
		t.Fatalf("reader creates: %v", err)
	}
	// Permission is checked before existence: a reader learns nothing about ids it may not delete.
	if _, err := svc.DeleteTenant(ctx, reader, "550e8400-e29b-41d4-a716-446655440000", provisioning.DeleteOptions{}, provisioning.Precondition{}); provisioning.ErrorCode(err) != provisioning.CodeForbidden {
		t.Fatalf("reader deletes: %v", err)
	}
	// Invalid input is refused before anything is stored.
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	if _, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{}); provisioning.ErrorCode(err) != provisioning.CodeInvalid {
		t.Fatalf("empty input: %v", err)
	}
	page, err := svc.ListTenants(ctx, admin, provisioning.TenantFilter{})
	if err != nil || len(page.Tenants) != 0 {
		t.Fatalf("something was stored: %v %v", page, err)
	}
}
