package provisionertest

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

// StepsHarness is one fresh, empty Provisioner whose tenants get provisioning steps, and the
// background work that runs them.
type StepsHarness struct {
	// As is as Harness.As.
	As func(p provisioning.Principal) provisioning.Provisioner
	// Work runs the provisioning work that is due, once (a Worker's RunOnce over the same store).
	Work func() error
}

// Provisioning as a partner sees it without steps: every tenant has succeeded, with no steps,
// and there is nothing to retry.
func testProvisioningWithoutSteps(t *testing.T, s *suite) {
	tn := s.create(t, alice, input("Acme"))
	if tn.Provisioning.State != provisioning.ProvisioningSucceeded || len(tn.Provisioning.Steps) != 0 {
		t.Fatalf("created with %+v", tn.Provisioning)
	}
	if got := s.get(t, rita, tn.ID); got.Provisioning.State != provisioning.ProvisioningSucceeded {
		t.Fatalf("read with %+v", got.Provisioning)
	}
	_, err := s.as(alice).RetryProvisioning(s.ctx, alice, tn.ID)
	wantCode(t, err, provisioning.CodeProvisioningNotFailed)
	_, err = s.as(rita).RetryProvisioning(s.ctx, rita, tn.ID)
	wantCode(t, err, provisioning.CodeForbidden)
	_, err = s.as(bob).RetryProvisioning(s.ctx, bob, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = s.as(alice).RetryProvisioning(s.ctx, alice, "not-a-uuid")
	wantCode(t, err, provisioning.CodeNotFound)
}

// A tenant's steps: pending at the create, failed with the step's reason (a new version and an
// event), queued again by a retry, then succeeded (another version, another event).
func testProvisioningSteps(t *testing.T, s *suite) {
	if s.h.Steps == nil {
		t.Skip("the harness has no steps")
	}
	var broken atomic.Bool
	broken.Store(true)
	h := s.h.Steps(t, []provisioning.Step{{Name: "admin-user", Run: func(context.Context, provisioning.StepRun) error {
		if broken.Load() {
			return &provisioning.StepFailure{Reason: "no seat left on the plan", Permanent: true}
		}
		return nil
	}}})
	a := h.As(alice)
	tn, err := a.CreateTenant(s.ctx, alice, input("Acme"))
	if err != nil {
		t.Fatal(err)
	}
	if p := tn.Provisioning; p.State != provisioning.ProvisioningPending || len(p.Steps) != 1 || p.Steps[0].Name != "admin-user" ||
		p.Steps[0].State != provisioning.ProvisioningPending || p.Steps[0].Attempts != 0 {
		t.Fatalf("created with %+v", p)
	}
	mustDo(t, h.Work)
	failed, err := a.GetTenant(s.ctx, alice, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := failed.Provisioning; p.State != provisioning.ProvisioningFailed || p.Steps[0].Attempts != 1 ||
		p.Steps[0].LastError != "no seat left on the plan" || failed.Version != tn.Version+1 {
		t.Fatalf("after the failure: version %d, %+v", failed.Version, p)
	}
	_, err = h.As(bob).RetryProvisioning(s.ctx, bob, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	broken.Store(false)
	retried, err := a.RetryProvisioning(s.ctx, alice, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := retried.Provisioning; p.State != provisioning.ProvisioningPending || p.Steps[0].Attempts != 0 ||
		p.Steps[0].LastError != "" || retried.Version != failed.Version {
		t.Fatalf("retried: version %d, %+v", retried.Version, p)
	}
	mustDo(t, h.Work)
	done, err := a.GetTenant(s.ctx, alice, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := done.Provisioning; p.State != provisioning.ProvisioningSucceeded || p.Steps[0].CompletedAt.IsZero() ||
		done.Version != failed.Version+1 {
		t.Fatalf("provisioned: version %d, %+v", done.Version, p)
	}
	// An operator reaches the tenant across partners: here, to find nothing to retry.
	_, err = h.As(olga).RetryProvisioning(s.ctx, olga, tn.ID)
	wantCode(t, err, provisioning.CodeProvisioningNotFailed)
	page, err := a.ListEvents(s.ctx, alice, provisioning.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantProvisioningFailed, provisioning.EventTenantProvisioned}
	if got := types(page.Events); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// Changing, disabling and testing an endpoint, and what redelivery refuses.
func testWebhookOperations(t *testing.T, s *suite) {
	a := s.as(alice)
	wh, err := a.CreateWebhook(s.ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/ops", Description: "CRM"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.UpdateWebhook(s.ctx, alice, wh.ID, provisioning.WebhookPatch{
		Events:   provisioning.Value([]provisioning.EventType{provisioning.EventTenantProvisioned}),
		Disabled: provisioning.Value(true)})
	if err != nil || got.URL != wh.URL || got.Description != "CRM" || !got.Disabled || got.Secret != "" ||
		!slices.Equal(got.Events, []provisioning.EventType{provisioning.EventTenantProvisioned}) {
		t.Fatalf("patch: %+v, %v", got, err)
	}
	if got, err := a.GetWebhook(s.ctx, alice, wh.ID); err != nil || !got.Disabled {
		t.Fatalf("get: %+v, %v", got, err)
	}
	_, err = a.TestWebhook(s.ctx, alice, wh.ID)
	wantCode(t, err, provisioning.CodeWebhookDisabled)
	_, err = a.UpdateWebhook(s.ctx, alice, wh.ID, provisioning.WebhookPatch{URL: provisioning.Null[string]()})
	wantFields(t, err, "url")
	_, err = a.UpdateWebhook(s.ctx, alice, wh.ID, provisioning.WebhookPatch{Events: provisioning.Value([]provisioning.EventType{"tenant.exploded"})})
	wantFields(t, err, "events")
	_, err = s.as(bob).UpdateWebhook(s.ctx, bob, wh.ID, provisioning.WebhookPatch{Disabled: provisioning.Value(false)})
	wantCode(t, err, provisioning.CodeNotFound)

	if _, err = a.UpdateWebhook(s.ctx, alice, wh.ID, provisioning.WebhookPatch{Disabled: provisioning.Value(false),
		Description: provisioning.Null[string]()}); err != nil {
		t.Fatal(err)
	}
	d, err := a.TestWebhook(s.ctx, alice, wh.ID)
	if err != nil || d.EventType != provisioning.EventWebhookTest || d.WebhookID != wh.ID || d.State != provisioning.DeliveryPending {
		t.Fatalf("test: %+v, %v", d, err)
	}
	log, err := a.ListDeliveries(s.ctx, alice, wh.ID, 0)
	if err != nil || len(log) != 1 || log[0].ID != d.ID {
		t.Fatalf("log after the test: %+v, %v", log, err)
	}
	if evs := s.events(t, alice, provisioning.EventFilter{}); len(evs) != 0 {
		t.Fatalf("the test event is in the feed: %v", types(evs))
	}
	_, err = s.as(bob).TestWebhook(s.ctx, bob, wh.ID)
	wantCode(t, err, provisioning.CodeNotFound)

	_, err = a.Redeliver(s.ctx, alice, wh.ID, d.ID)
	wantCode(t, err, provisioning.CodeDeliveryPending)
	_, err = s.as(bob).Redeliver(s.ctx, bob, wh.ID, d.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = a.Redeliver(s.ctx, alice, wh.ID, "0190a0b0-0000-7000-8000-00000000dead")
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = s.as(rita).Redeliver(s.ctx, rita, wh.ID, d.ID)
	wantCode(t, err, provisioning.CodeForbidden)
}
