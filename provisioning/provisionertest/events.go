package provisionertest

import (
	"slices"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func (s *suite) events(t *testing.T, p provisioning.Principal, f provisioning.EventFilter) []*provisioning.Event {
	t.Helper()
	var all []*provisioning.Event
	for range 100 {
		page, err := s.as(p).ListEvents(s.ctx, p, f)
		if err != nil {
			t.Fatalf("ListEvents(%+v): %v", f, err)
		}
		all = append(all, page.Events...)
		if !page.HasMore {
			return all
		}
		f.After = page.NextCursor
	}
	t.Fatal("ListEvents never reached the end")
	return nil
}

func types(evs []*provisioning.Event) []provisioning.EventType {
	out := make([]provisioning.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func testEvents(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	a := s.as(alice)
	mustDo(t, func() error {
		_, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, none)
		return err
	})
	mustDo(t, func() error {
		_, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)}, none)
		return err
	})
	mustDo(t, func() error {
		_, err := a.UpdateTenant(s.ctx, alice, tn.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusActive)}, none)
		return err
	})
	mustDo(t, func() error {
		_, err := a.ReplaceTenantConfig(s.ctx, alice, tn.ID, []byte(`{"x":1}`), none)
		return err
	})
	mustDo(t, func() error {
		_, err := a.DeleteTenant(s.ctx, alice, tn.ID, provisioning.DeleteOptions{}, none)
		return err
	})
	mustDo(t, func() error { _, err := a.RestoreTenant(s.ctx, alice, tn.ID, none); return err })
	s.create(t, bob, input("Bob's"))

	evs := s.events(t, rita, provisioning.EventFilter{})
	want := []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantUpdated,
		provisioning.EventTenantSuspended, provisioning.EventTenantResumed, provisioning.EventTenantConfigUpdated,
		provisioning.EventTenantDeletionScheduled, provisioning.EventTenantRestored}
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("event types = %v, want %v", got, want)
	}
	ids := map[string]bool{}
	for i, e := range evs {
		if e.ID == "" || ids[e.ID] || e.TenantID != tn.ID || e.PartnerID != "partner-a" || e.Actor != "alice" ||
			e.Data == nil || e.Data.ID != tn.ID || e.CreatedAt.IsZero() {
			t.Fatalf("event %d = %+v", i, e)
		}
		ids[e.ID] = true
	}
	sameTenant(t, evs[0].Data, tn)
	if d := evs[2].Data; d.Status != provisioning.StatusSuspended || d.Industry != "Retail" || d.Version != 3 {
		t.Fatalf("the suspension carries %+v", d)
	}
	if d := evs[5].Data; d.Status != provisioning.StatusPendingDeletion || d.DeletionScheduledAt.IsZero() || d.Version != 5 {
		t.Fatalf("the deletion carries %+v", d)
	}
	if d := evs[6].Data; d.Status != provisioning.StatusActive || !d.DeletionScheduledAt.IsZero() || d.Version != 6 {
		t.Fatalf("the restore carries %+v", d)
	}

	suspended := s.events(t, alice, provisioning.EventFilter{Type: provisioning.EventTenantSuspended})
	if len(suspended) != 1 || suspended[0].ID != evs[2].ID {
		t.Fatalf("type filter: %v", types(suspended))
	}
	if got := types(s.events(t, bob, provisioning.EventFilter{})); !slices.Equal(got, []provisioning.EventType{provisioning.EventTenantCreated}) {
		t.Fatalf("partner-b sees %v", got)
	}
	_, err := a.ListEvents(s.ctx, alice, provisioning.EventFilter{Type: "tenant.exploded"})
	wantFields(t, err, "type")
	_, err = a.ListEvents(s.ctx, alice, provisioning.EventFilter{After: "nope"})
	wantFields(t, err, "after")
	_, err = a.ListEvents(s.ctx, alice, provisioning.EventFilter{Limit: 201})
	wantFields(t, err, "limit")
}

func testEventsPaging(t *testing.T, s *suite) {
	var created []string
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		created = append(created, s.create(t, alice, input(name)).ID)
	}
	for _, limit := range []int{1, 2, 5, 200} {
		var got []string
		for _, e := range s.events(t, alice, provisioning.EventFilter{Limit: limit}) {
			got = append(got, e.TenantID)
		}
		if !slices.Equal(got, created) {
			t.Fatalf("limit %d: tenants %v, want %v (oldest first)", limit, got, created)
		}
	}
	// A consumer polls with the cursor of its last page: nothing new, then the new event.
	page, err := s.as(alice).ListEvents(s.ctx, alice, provisioning.EventFilter{Limit: 200})
	if err != nil || page.HasMore || page.NextCursor == "" {
		t.Fatalf("last page: %+v, %v", page, err)
	}
	empty, err := s.as(alice).ListEvents(s.ctx, alice, provisioning.EventFilter{After: page.NextCursor})
	if err != nil || len(empty.Events) != 0 || empty.NextCursor != page.NextCursor {
		t.Fatalf("poll with nothing new: %+v, %v", empty, err)
	}
	f := s.create(t, alice, input("F"))
	next, err := s.as(alice).ListEvents(s.ctx, alice, provisioning.EventFilter{After: page.NextCursor})
	if err != nil || len(next.Events) != 1 || next.Events[0].TenantID != f.ID {
		t.Fatalf("poll after a create: %+v, %v", next, err)
	}
}

func mustDo(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}
