package provisionertest

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func wantSecret(t *testing.T, secret string) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) < 24 {
		t.Fatalf("secret %q is not whsec_ + base64 of at least 24 bytes", secret)
	}
}

func testWebhooks(t *testing.T, s *suite) {
	a := s.as(alice)
	created, err := a.CreateWebhook(s.ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/crm",
		Events:      []provisioning.EventType{provisioning.EventTenantUpdated, provisioning.EventTenantCreated, provisioning.EventTenantCreated},
		Description: " CRM sync "})
	if err != nil {
		t.Fatal(err)
	}
	wantSecret(t, created.Secret)
	if created.URL != "https://hooks.example/crm" || created.Description != "CRM sync" || created.CreatedAt.IsZero() ||
		!slices.Equal(created.Events, []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantUpdated}) {
		t.Fatalf("created %+v", created)
	}
	all, err := a.CreateWebhook(s.ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/all"})
	if err != nil || len(all.Events) != 0 || all.Description != "" {
		t.Fatalf("created %+v, %v", all, err)
	}

	ws, err := a.ListWebhooks(s.ctx, alice)
	if err != nil || len(ws) != 2 || ws[0].ID != created.ID || ws[1].ID != all.ID || ws[0].URL != created.URL {
		t.Fatalf("list = %+v, %v", ws, err)
	}
	got, err := a.GetWebhook(s.ctx, alice, created.ID)
	if err != nil || got.ID != created.ID || !slices.Equal(got.Events, created.Events) || !got.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("get = %+v, %v", got, err)
	}

	rotated, err := a.RotateWebhookSecret(s.ctx, alice, created.ID)
	if err != nil || rotated.ID != created.ID {
		t.Fatalf("rotate = %+v, %v", rotated, err)
	}
	wantSecret(t, rotated.Secret)
	if rotated.Secret == created.Secret {
		t.Fatal("rotation kept the secret")
	}

	// Another partner's endpoint is reported like a missing one.
	b := s.as(bob)
	_, err = b.GetWebhook(s.ctx, bob, created.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = b.RotateWebhookSecret(s.ctx, bob, created.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, b.DeleteWebhook(s.ctx, bob, created.ID), provisioning.CodeNotFound)
	_, err = b.ListDeliveries(s.ctx, bob, created.ID, 0)
	wantCode(t, err, provisioning.CodeNotFound)
	if ws, err := b.ListWebhooks(s.ctx, bob); err != nil || len(ws) != 0 {
		t.Fatalf("partner-b lists %+v, %v", ws, err)
	}

	if err := a.DeleteWebhook(s.ctx, alice, created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = a.GetWebhook(s.ctx, alice, created.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, a.DeleteWebhook(s.ctx, alice, created.ID), provisioning.CodeNotFound)
	_, err = a.GetWebhook(s.ctx, alice, "not-a-uuid")
	wantCode(t, err, provisioning.CodeNotFound)

	for _, bad := range []provisioning.WebhookInput{
		{URL: ""}, {URL: "ftp://hooks.example/x"}, {URL: "https://user:pw@hooks.example/x"}, {URL: "/relative"},
	} {
		_, err := a.CreateWebhook(s.ctx, alice, bad)
		wantFields(t, err, "url")
	}
	_, err = a.CreateWebhook(s.ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/x", Events: []provisioning.EventType{"tenant.exploded"}})
	wantFields(t, err, "events")
}

func testWebhookDeliveries(t *testing.T, s *suite) {
	a := s.as(alice)
	wh, err := a.CreateWebhook(s.ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/created",
		Events: []provisioning.EventType{provisioning.EventTenantCreated}})
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := a.ListDeliveries(s.ctx, alice, wh.ID, 0); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries before any event: %+v, %v", ds, err)
	}
	first := s.create(t, alice, input("First"))
	second := s.create(t, alice, input("Second"))
	if _, err := a.UpdateTenant(s.ctx, alice, first.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, none); err != nil {
		t.Fatal(err) // not subscribed: no delivery
	}
	s.create(t, bob, input("Bob's")) // another partner's event: no delivery
	ds, err := a.ListDeliveries(s.ctx, alice, wh.ID, 0)
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries = %+v, %v", ds, err)
	}
	evs := s.events(t, alice, provisioning.EventFilter{Type: provisioning.EventTenantCreated})
	if len(evs) != 2 || evs[0].TenantID != first.ID || evs[1].TenantID != second.ID {
		t.Fatalf("created events: %v", types(evs))
	}
	// One delivery per subscribed event (their order within a millisecond is the store's).
	wantEvents := []string{evs[0].ID, evs[1].ID}
	var gotEvents []string
	for i, d := range ds {
		if d.WebhookID != wh.ID || d.EventType != provisioning.EventTenantCreated ||
			d.State != provisioning.DeliveryPending || d.Attempts != 0 || d.ID == "" {
			t.Fatalf("delivery %d = %+v", i, d)
		}
		gotEvents = append(gotEvents, d.EventID)
	}
	slices.Sort(gotEvents)
	slices.Sort(wantEvents)
	if !slices.Equal(gotEvents, wantEvents) {
		t.Fatalf("deliveries of events %v, want %v", gotEvents, wantEvents)
	}
	if one, err := a.ListDeliveries(s.ctx, alice, wh.ID, 1); err != nil || len(one) != 1 || one[0].ID != ds[0].ID {
		t.Fatalf("limit 1: %+v, %v", one, err)
	}
	_, err = a.ListDeliveries(s.ctx, alice, wh.ID, 201)
	wantFields(t, err, "limit")
}
