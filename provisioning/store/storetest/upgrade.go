package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// LegacyTenant is a tenant row as a SQL store wrote it before NameKeyVersion 2, whose name
// key was the name trimmed and lower-cased. A SQL store's upgrade test seeds these rows into a
// database at the schema of migration 0007, opens the store on it and hands the store to
// CheckNameKeyUpgrade.
type LegacyTenant struct {
	ID          string
	PartnerID   string
	CompanyName string
	OldKey      string // the name key as version 1 computed it
	CreatedAt   time.Time
	Deleted     bool
}

// LegacyTenants returns the rows to seed, oldest first. Under the old key they are all
// distinct; under the new one several of partner-a's live tenants share a key.
func LegacyTenants() []LegacyTenant {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	rows := []LegacyTenant{
		{PartnerID: "partner-a", CompanyName: "Acme"},
		{PartnerID: "partner-a", CompanyName: "Ａｃｍｅ"},
		{PartnerID: "partner-a", CompanyName: "Acme\u200B"},
		{PartnerID: "partner-a", CompanyName: "ACME\u00AD", Deleted: true},
		{PartnerID: "partner-a", CompanyName: "Café"},
		{PartnerID: "partner-a", CompanyName: "Cafe\u0301"},
		{PartnerID: "partner-a", CompanyName: "Other"},
		{PartnerID: "partner-b", CompanyName: "Ａｃｍｅ"},
	}
	for i := range rows {
		rows[i].ID = fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", i+1)
		rows[i].OldKey = strings.ToLower(strings.TrimSpace(rows[i].CompanyName))
		rows[i].CreatedAt = at.Add(time.Duration(i) * time.Minute)
	}
	return rows
}

// CheckNameKeyUpgrade checks a store opened on the rows of LegacyTenants: no tenant is lost,
// the oldest of each group that now shares a key keeps the name — new tenants and renames
// conflict with it — while the younger ones stay usable (grandfathered) until renamed to
// another key, and listings search by the new key.
func CheckNameKeyUpgrade(t *testing.T, s provisioning.Store, legacy []LegacyTenant) {
	t.Helper()
	svc := service(s)
	ctx := context.Background()
	a := provisioning.Principal{PartnerID: "partner-a", Subject: "upgrade"}
	b := provisioning.Principal{PartnerID: "partner-b", Subject: "upgrade"}
	acme, fullwidth, zeroWidth, cafe, cafeNFD := legacy[0].ID, legacy[1].ID, legacy[2].ID, legacy[4].ID, legacy[5].ID
	if live := listAll(t, svc, a, provisioning.TenantFilter{}); len(live) != 6 {
		t.Fatalf("partner-a has %d live tenants after the upgrade, want 6: %q", len(live), names(live))
	}
	_, err := svc.CreateTenant(ctx, a, input("ACME"))
	wantExists(t, err, acme)
	_, err = svc.CreateTenant(ctx, a, input("CAFÉ"))
	wantExists(t, err, cafe)
	_, err = svc.CreateTenant(ctx, b, input("acme"))
	wantExists(t, err, legacy[7].ID)
	// Grandfathered tenants still change, also to another spelling of their key.
	for _, id := range []string{fullwidth, zeroWidth, cafeNFD} {
		if _, err := svc.UpdateTenant(ctx, a, id, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)}, provisioning.Precondition{}); err != nil {
			t.Fatalf("suspending grandfathered tenant %s: %v", id, err)
		}
	}
	rename := func(id, name string) error {
		_, err := svc.UpdateTenant(ctx, a, id, provisioning.TenantPatch{CompanyName: provisioning.Value(name)}, provisioning.Precondition{})
		return err
	}
	if err := rename(zeroWidth, "ACME"); err != nil {
		t.Fatalf("respelling a grandfathered name: %v", err)
	}
	// Renamed to another key, a grandfathered tenant is an ordinary one: it cannot come back.
	if err := rename(fullwidth, "Brand New"); err != nil {
		t.Fatalf("renaming a grandfathered tenant: %v", err)
	}
	wantExists(t, rename(fullwidth, "acme"), acme)
	_, err = svc.CreateTenant(ctx, a, input("brand  NEW"))
	wantExists(t, err, fullwidth)
	got := names(listAll(t, svc, a, provisioning.TenantFilter{Query: "ＡＣＭＥ"}))
	slices.Sort(got)
	if fmt.Sprint(got) != "[ACME Acme]" {
		t.Errorf("q=ＡＣＭＥ finds %q, want Acme and ACME", got)
	}
}
