package provisionertest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

func (s *suite) deleteTenant(t *testing.T, p provisioning.Principal, id string, opts provisioning.DeleteOptions) *provisioning.Tenant {
	t.Helper()
	tn, err := s.as(p).DeleteTenant(s.ctx, p, id, opts, none)
	if err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	return tn
}

// tenantEvents lists the events of one tenant, oldest first.
func (s *suite) tenantEvents(t *testing.T, p provisioning.Principal, id string) []*provisioning.Event {
	t.Helper()
	var out []*provisioning.Event
	for _, e := range s.events(t, p, provisioning.EventFilter{}) {
		if e.TenantID == id {
			out = append(out, e)
		}
	}
	return out
}

// A deletion schedules the purge: the tenant is pending deletion, readable, listed only when
// asked for, and still holds its names.
func testDelete(t *testing.T, s *suite) {
	in := input("Acme")
	in.ExternalID = "crm-1"
	tn := s.create(t, alice, in)
	keep := s.create(t, alice, input("Keep"))
	got := s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{})
	want := tn.Clone()
	want.Status, want.Version, want.UpdatedAt = provisioning.StatusPendingDeletion, 2, got.UpdatedAt
	want.DeletionScheduledAt = got.UpdatedAt.Add(provisioning.DefaultDeletionGrace)
	got.StatusBeforeDeletion = "" // the API does not show it; the Service may
	sameTenant(t, got, want)
	read := s.get(t, rita, tn.ID)
	read.StatusBeforeDeletion = ""
	sameTenant(t, read, want)

	if names := s.names(t, alice, provisioning.TenantFilter{}); !slices.Equal(names, []string{keep.CompanyName}) {
		t.Fatalf("listed by default: %v", names)
	}
	if names := s.names(t, alice, provisioning.TenantFilter{Status: provisioning.StatusActive}); !slices.Equal(names, []string{keep.CompanyName}) {
		t.Fatalf("listed as active: %v", names)
	}
	if names := s.names(t, alice, provisioning.TenantFilter{Status: provisioning.StatusPendingDeletion}); !slices.Equal(names, []string{"Acme"}) {
		t.Fatalf("listed as pending deletion: %v", names)
	}
	// Its names stay reserved.
	_, err := s.as(alice).CreateTenant(s.ctx, alice, input("ACME"))
	wantExists(t, err, tn.ID)
	other := input("Other")
	other.ExternalID = "crm-1"
	_, err = s.as(alice).CreateTenant(s.ctx, alice, other)
	wantExists(t, err, tn.ID)
	_, err = s.as(alice).UpdateTenant(s.ctx, alice, keep.ID, provisioning.TenantPatch{CompanyName: provisioning.Value("acme")}, none)
	wantExists(t, err, tn.ID)
}

// Deleting a tenant pending deletion changes nothing: the schedule stands, no event is written.
func testDeleteTwice(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	first := s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{})
	again := s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{Grace: 2 * time.Hour})
	first.StatusBeforeDeletion, again.StatusBeforeDeletion = "", ""
	sameTenant(t, again, first)
	n := 0
	for _, e := range s.tenantEvents(t, alice, tn.ID) {
		if e.Type == provisioning.EventTenantDeletionScheduled {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d deletion events, want 1", n)
	}
	// A precondition still applies.
	_, err := s.as(alice).DeleteTenant(s.ctx, alice, tn.ID, provisioning.DeleteOptions{}, provisioning.Precondition{IfVersion: 1})
	wantCode(t, err, provisioning.CodePrecondition)
}

// A deletion may ask for a shorter grace, never a longer one.
func testDeleteGrace(t *testing.T, s *suite) {
	for _, grace := range []time.Duration{time.Hour, 36 * time.Hour, provisioning.DefaultDeletionGrace} {
		tn := s.create(t, alice, input("Grace "+grace.String()))
		got := s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{Grace: grace})
		if !got.DeletionScheduledAt.Equal(got.UpdatedAt.Add(grace)) {
			t.Fatalf("grace %s: scheduled at %v, deleted at %v", grace, got.DeletionScheduledAt, got.UpdatedAt)
		}
	}
	tn := s.create(t, alice, input("Acme"))
	for _, grace := range []time.Duration{provisioning.DefaultDeletionGrace + time.Millisecond, time.Hour - time.Second, time.Minute, -time.Hour} {
		_, err := s.as(alice).DeleteTenant(s.ctx, alice, tn.ID, provisioning.DeleteOptions{Grace: grace}, none)
		wantFields(t, err, "grace")
	}
	sameTenant(t, s.get(t, alice, tn.ID), tn)
}

// A tenant pending deletion can be read, not changed.
func testPendingDeletionRefusesChanges(t *testing.T, s *suite) {
	in := input("Acme")
	in.Config = json.RawMessage(`{"seats":5}`)
	tn := s.create(t, alice, in)
	deleted := s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{})
	a := s.as(alice)
	_, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, none)
	wantCode(t, err, provisioning.CodeTenantPendingDeletion)
	_, err = a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusActive)}, none)
	wantCode(t, err, provisioning.CodeTenantPendingDeletion)
	_, err = a.ReplaceTenant(s.ctx, alice, tn.ID, input("Acme"), none)
	wantCode(t, err, provisioning.CodeTenantPendingDeletion)
	_, err = a.ReplaceTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(`{"x":1}`), none)
	wantCode(t, err, provisioning.CodeTenantPendingDeletion)
	_, err = a.UpdateTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(`{"x":1}`), none)
	wantCode(t, err, provisioning.CodeTenantPendingDeletion)
	// No change sets the status by hand.
	_, err = a.UpdateTenant(s.ctx, alice, s.create(t, alice, input("Beta")).ID,
		provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusPendingDeletion)}, none)
	wantFields(t, err, "status")

	c, err := s.as(rita).GetTenantConfig(s.ctx, rita, tn.ID)
	if err != nil || string(c.Config) != `{"seats":5}` || c.Version != 1 {
		t.Fatalf("config of a tenant pending deletion: %+v, %v", c, err)
	}
	got := s.get(t, alice, tn.ID)
	got.StatusBeforeDeletion, deleted.StatusBeforeDeletion = "", ""
	sameTenant(t, got, deleted)
}

// A restore gives the tenant back the status it had; only a tenant pending deletion is restored.
func testRestore(t *testing.T, s *suite) {
	in := input("Acme")
	in.Status = provisioning.StatusSuspended
	tn := s.create(t, alice, in)
	s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{})
	got, err := s.as(alice).RestoreTenant(s.ctx, alice, tn.ID, none)
	if err != nil {
		t.Fatal(err)
	}
	want := tn.Clone()
	want.Version, want.UpdatedAt = 3, got.UpdatedAt
	sameTenant(t, got, want)
	sameTenant(t, s.get(t, alice, tn.ID), want)
	if names := s.names(t, alice, provisioning.TenantFilter{Status: provisioning.StatusSuspended}); !slices.Equal(names, []string{"Acme"}) {
		t.Fatalf("listed after the restore: %v", names)
	}
	_, err = s.as(alice).RestoreTenant(s.ctx, alice, tn.ID, none)
	wantCode(t, err, provisioning.CodeTenantNotPendingDeletion)
	// Restored, it changes again.
	if _, err := s.as(alice).UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusActive)}, none); err != nil {
		t.Fatalf("update after the restore: %v", err)
	}
	evs := s.tenantEvents(t, alice, tn.ID)
	if got := types(evs); !slices.Equal(got, []provisioning.EventType{provisioning.EventTenantCreated,
		provisioning.EventTenantDeletionScheduled, provisioning.EventTenantRestored, provisioning.EventTenantResumed}) {
		t.Fatalf("events %v", got)
	}
}

// A purge takes the tenant for good: gone, its names free, its events without its data.
func testPurge(t *testing.T, s *suite) {
	in := input("Acme")
	in.ExternalID, in.Email, in.PhoneNumber = "crm-1", "secret@acme.example", "+1234567"
	in.Metadata, in.Config = map[string]string{"plan": "gold"}, json.RawMessage(`{"seats":5}`)
	tn := s.create(t, alice, in)
	s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{})
	if err := s.as(paula).PurgeTenant(s.ctx, paula, tn.ID, none); err != nil {
		t.Fatal(err)
	}
	_, err := s.as(alice).GetTenant(s.ctx, alice, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = s.as(alice).RestoreTenant(s.ctx, alice, tn.ID, none)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = s.as(alice).ExportTenant(s.ctx, alice, tn.ID, provisioning.ExportFilter{})
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = s.as(alice).GetTenantConfig(s.ctx, alice, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, s.as(paula).PurgeTenant(s.ctx, paula, tn.ID, none), provisioning.CodeNotFound)
	if names := s.names(t, alice, provisioning.TenantFilter{Status: provisioning.StatusPendingDeletion}); len(names) != 0 {
		t.Fatalf("listed after the purge: %v", names)
	}

	evs := s.tenantEvents(t, rita, tn.ID)
	if got := types(evs); !slices.Equal(got, []provisioning.EventType{provisioning.EventTenantCreated,
		provisioning.EventTenantDeletionScheduled, provisioning.EventTenantDeleted}) {
		t.Fatalf("events %v", got)
	}
	for _, e := range evs {
		if e.Data != nil || e.ID == "" || e.PartnerID != "partner-a" || e.CreatedAt.IsZero() {
			t.Fatalf("a purged tenant's event: %+v", e)
		}
	}
	if last := evs[2]; last.Actor != "paula" {
		t.Fatalf("the purge's actor is %q", last.Actor)
	}

	// Its names are free again.
	if a, err := s.as(alice).TenantAvailability(s.ctx, alice, provisioning.AvailabilityQuery{CompanyName: "Acme", ExternalID: "crm-1"}); err != nil || !a.Available {
		t.Fatalf("availability after the purge: %+v, %v", a, err)
	}
	if again := s.create(t, alice, in); again.ID == tn.ID {
		t.Fatal("a new tenant got the purged one's id")
	}
	// A tenant that is not pending deletion is purged at once too.
	beta := s.create(t, alice, input("Beta"))
	if err := s.as(paula).PurgeTenant(s.ctx, paula, beta.ID, none); err != nil {
		t.Fatalf("purging an active tenant: %v", err)
	}
	_, err = s.as(alice).GetTenant(s.ctx, alice, beta.ID)
	wantCode(t, err, provisioning.CodeNotFound)
}

// An export holds the tenant, its configuration and all its events, and nothing of others.
func testExport(t *testing.T, s *suite) {
	in := input("Acme")
	in.Config = json.RawMessage(`{"seats":5}`)
	tn := s.create(t, alice, in)
	other := s.create(t, alice, input("Other"))
	a := s.as(alice)
	if _, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, none); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateTenantConfig(s.ctx, alice, tn.ID, json.RawMessage(`{"sso":true}`), none); err != nil {
		t.Fatal(err)
	}
	s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{})

	x, err := s.as(rita).ExportTenant(s.ctx, rita, tn.ID, provisioning.ExportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	cur := s.get(t, alice, tn.ID)
	x.Tenant.StatusBeforeDeletion, cur.StatusBeforeDeletion = "", ""
	sameTenant(t, x.Tenant, cur)
	c, err := a.GetTenantConfig(s.ctx, alice, tn.ID)
	if err != nil || string(x.Config.Config) != string(c.Config) || x.Config.Version != 2 || x.Config.TenantID != tn.ID {
		t.Fatalf("exported config %+v, current %+v, %v", x.Config, c, err)
	}
	want := []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantUpdated,
		provisioning.EventTenantConfigUpdated, provisioning.EventTenantDeletionScheduled}
	if got := types(x.Events); !slices.Equal(got, want) || x.HasMore || x.NextCursor == "" {
		t.Fatalf("exported events %v (has more %v, cursor %q), want %v", got, x.HasMore, x.NextCursor, want)
	}
	feed := s.tenantEvents(t, alice, tn.ID)
	for i, e := range x.Events {
		if e.ID != feed[i].ID || e.TenantID != tn.ID || e.Data == nil || e.Data.ID != tn.ID {
			t.Fatalf("exported event %d: %+v", i, e)
		}
	}
	// Nothing new after the last page's cursor.
	rest, err := a.ExportTenant(s.ctx, alice, tn.ID, provisioning.ExportFilter{After: x.NextCursor})
	if err != nil || len(rest.Events) != 0 || rest.HasMore || rest.NextCursor != x.NextCursor {
		t.Fatalf("after the last page: %+v, %v", rest, err)
	}

	_, err = a.ExportTenant(s.ctx, alice, tn.ID, provisioning.ExportFilter{Limit: provisioning.MaxExportEvents + 1})
	wantFields(t, err, "limit")
	_, err = a.ExportTenant(s.ctx, alice, tn.ID, provisioning.ExportFilter{After: "nope"})
	wantFields(t, err, "after")
	// Another tenant's event is no cursor of this export.
	otherEvents := s.tenantEvents(t, alice, other.ID)
	_, err = a.ExportTenant(s.ctx, alice, tn.ID, provisioning.ExportFilter{After: cursorOf(t, s, otherEvents[0])})
	wantFields(t, err, "after")
}

// cursorOf returns the feed cursor that continues after e.
func cursorOf(t *testing.T, s *suite, e *provisioning.Event) string {
	t.Helper()
	var after string
	for range 100 {
		page, err := s.as(alice).ListEvents(s.ctx, alice, provisioning.EventFilter{After: after, Limit: 1})
		if err != nil || len(page.Events) == 0 {
			t.Fatalf("no cursor for event %s: %v", e.ID, err)
		}
		if after = page.NextCursor; page.Events[0].ID == e.ID {
			return after
		}
	}
	t.Fatal("event not in the feed")
	return ""
}

// An export's events come a page at a time.
func testExportPaging(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	for i := range 4 {
		if _, err := s.as(alice).UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value(strings.Repeat("x", i+1))}, none); err != nil {
			t.Fatal(err)
		}
	}
	want := s.tenantEvents(t, alice, tn.ID)
	for _, limit := range []int{1, 2, 5, provisioning.MaxExportEvents} {
		var got []*provisioning.Event
		f := provisioning.ExportFilter{Limit: limit}
		for range 10 {
			x, err := s.as(alice).ExportTenant(s.ctx, alice, tn.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(x.Events) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(x.Events))
			}
			got = append(got, x.Events...)
			if !x.HasMore {
				break
			}
			f.After = x.NextCursor
		}
		if len(got) != len(want) {
			t.Fatalf("limit %d: %d events, want %d", limit, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				t.Fatalf("limit %d: event %d is %s, want %s", limit, i, got[i].ID, want[i].ID)
			}
		}
	}
}

// Availability answers what a create would: the same uniqueness key, tenants pending deletion
// included.
func testAvailability(t *testing.T, s *suite) {
	r := s.as(rita)
	check := func(q provisioning.AvailabilityQuery, holder string) {
		t.Helper()
		a, err := r.TenantAvailability(s.ctx, rita, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if a.Available != (holder == "") || a.TenantID != holder {
			t.Fatalf("%+v: %+v, want the holder %q", q, a, holder)
		}
	}
	check(provisioning.AvailabilityQuery{CompanyName: "Acme"}, "")
	in := input("Acme")
	in.ExternalID = "crm-1"
	tn := s.create(t, alice, in)
	for _, name := range []string{"Acme", "  ACME ", "Ａｃｍｅ", "Ac\u00ADme", "Acme\u200B"} {
		check(provisioning.AvailabilityQuery{CompanyName: name}, tn.ID)
	}
	check(provisioning.AvailabilityQuery{ExternalID: "crm-1"}, tn.ID)
	check(provisioning.AvailabilityQuery{ExternalID: "crm-2"}, "")
	check(provisioning.AvailabilityQuery{CompanyName: "Other", ExternalID: "crm-1"}, tn.ID)
	check(provisioning.AvailabilityQuery{CompanyName: "Other", ExternalID: "crm-2"}, "")
	s.deleteTenant(t, alice, tn.ID, provisioning.DeleteOptions{})
	check(provisioning.AvailabilityQuery{CompanyName: "acme"}, tn.ID)

	_, err := r.TenantAvailability(s.ctx, rita, provisioning.AvailabilityQuery{})
	wantCode(t, err, provisioning.CodeBadRequest)
	_, err = r.TenantAvailability(s.ctx, rita, provisioning.AvailabilityQuery{CompanyName: "Bad\x00Name", ExternalID: "x\u202Ey"})
	wantFields(t, err, "company_name", "external_id")
	_, err = r.TenantAvailability(s.ctx, rita, provisioning.AvailabilityQuery{CompanyName: strings.Repeat("a", provisioning.MaxCompanyName+1)})
	wantFields(t, err, "company_name")
	_, err = r.TenantAvailability(s.ctx, rita, provisioning.AvailabilityQuery{CompanyName: "\u200B\u200D"})
	wantFields(t, err, "company_name")
	_, err = r.TenantAvailability(s.ctx, rita, provisioning.AvailabilityQuery{ExternalID: strings.Repeat("e", provisioning.MaxExternalID+1)})
	wantFields(t, err, "external_id")
	_, err = s.as(nobody).TenantAvailability(s.ctx, nobody, provisioning.AvailabilityQuery{CompanyName: "Acme"})
	wantCode(t, err, provisioning.CodeUnauthenticated)
}
