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

// SoftDeleteRows are what a SQL store's upgrade test seeds, at the schema before migration
// 0012, for CheckSoftDeleteUpgrade: partner-a's tenants Live and Deleted, the latter
// soft-deleted (deleted_at set, as DELETE did before deletion had a grace period) with an event
// and a configuration holding its data, Heir, a live tenant that took Deleted's name afterwards,
// and an idempotency answer (key Key, far from expiry) that holds Deleted's email.
type SoftDeleteRows struct {
	LiveID, DeletedID, HeirID string
	Name, Email               string // Deleted's (and Heir's) company name, Deleted's email
	Key                       string
	Answer                    []byte
	EventID, EventData        string // Deleted's tenant.created event, in stored format version 1
	Config                    string // Deleted's configuration
}

// LegacySoftDelete returns the rows to seed.
func LegacySoftDelete() SoftDeleteRows {
	r := SoftDeleteRows{LiveID: "0190a0b0-0000-7000-8000-00000000a001", DeletedID: "0190a0b0-0000-7000-8000-00000000a002",
		HeirID: "0190a0b0-0000-7000-8000-00000000a003", Name: "Legacy Gone Corp", Email: "legacy.gone@example.com",
		Key: "legacy-key", EventID: "0190a0b0-0000-7000-8000-00000000e001", Config: `{"note":"legacy gone config"}`}
	r.Answer = []byte(`{"status":201,"body":"the answer names legacy.gone@example.com"}`)
	r.EventData = `{"v":1,"id":"` + r.DeletedID + `","partner_id":"partner-a","company_name":"Legacy Gone Corp",` +
		`"email":"legacy.gone@example.com","status":"active","version":1,"created_at":"2025-01-01T00:00:00.000Z",` +
		`"updated_at":"2025-01-01T00:00:00.000Z"}`
	return r
}

// CheckSoftDeleteUpgrade checks a store opened on the rows of LegacySoftDelete: the
// soft-deleted tenant stays hidden and cannot be restored, its name stays with its heir, and
// the Worker purges it like any other tenant whose grace has ended — its configuration and the
// answer that holds it go, its events lose its data — while the live tenants stay as they were.
func CheckSoftDeleteUpgrade(t *testing.T, s provisioning.Store, r SoftDeleteRows) {
	t.Helper()
	svc := service(s)
	ctx := context.Background()
	a := provisioning.Principal{PartnerID: "partner-a", Subject: "upgrade"}
	for _, id := range []string{r.LiveID, r.HeirID} {
		tn, err := svc.GetTenant(ctx, a, id)
		if err != nil || tn.Status != provisioning.StatusActive || !tn.DeletionScheduledAt.IsZero() {
			t.Fatalf("live tenant %s after the upgrade: %+v, %v", id, tn, err)
		}
	}
	_, err := svc.GetTenant(ctx, a, r.DeletedID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.RestoreTenant(ctx, a, r.DeletedID, provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeNotFound)
	if ts := listAll(t, svc, a, provisioning.TenantFilter{Status: provisioning.StatusPendingDeletion}); len(ts) != 0 {
		t.Fatalf("listed as pending deletion: %v", names(ts))
	}
	_, err = svc.CreateTenant(ctx, a, input(r.Name))
	wantExists(t, err, r.HeirID)

	runWorker(t, s, time.Now())
	evs := eventsOf(t, svc, a, r.DeletedID)
	if got := eventTypes(evs); len(got) != 2 || got[0] != provisioning.EventTenantCreated || got[1] != provisioning.EventTenantDeleted ||
		evs[0].Data != nil || evs[0].ID != r.EventID {
		t.Fatalf("the soft-deleted tenant's events after the purge: %v %+v", got, evs)
	}
	answer, replayed, err := svc.Idempotently(ctx, a, provisioning.PermTenantCreate, r.Key, "fp",
		func(provisioning.Provisioner) ([]byte, bool) { return []byte("afresh"), true })
	if err != nil || replayed || string(answer) != "afresh" {
		t.Fatalf("the legacy answer outlived the purge: %q, replayed %v, %v", answer, replayed, err)
	}
	for _, id := range []string{r.LiveID, r.HeirID} {
		if _, err := svc.GetTenant(ctx, a, id); err != nil {
			t.Fatalf("live tenant %s after the purge: %v", id, err)
		}
	}
	if c, err := svc.GetTenantConfig(ctx, a, r.LiveID); err != nil || string(c.Config) != `{}` {
		t.Fatalf("the live tenant's configuration: %+v, %v", c, err)
	}
}
