package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// testWebhookOperations: an endpoint is changed member by member, disabled (no new delivery is
// queued for it and its queued ones wait) and enabled again; a test event goes to it alone and
// is not in the feed; a delivery that ended is sent again as a new one.
func testWebhookOperations(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	wh, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/a", Description: "CRM"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/other"})
	if err != nil {
		t.Fatal(err)
	}

	// Members left out of a patch stay; null clears the description and subscribes to all.
	got, err := svc.UpdateWebhook(ctx, alice, wh.ID, provisioning.WebhookPatch{
		Events: provisioning.Value([]provisioning.EventType{provisioning.EventTenantProvisioned})})
	if err != nil || got.URL != wh.URL || got.Description != "CRM" || len(got.Events) != 1 || got.Disabled || got.Secret != "" {
		t.Fatalf("patch events: %+v, %v", got, err)
	}
	got, err = svc.UpdateWebhook(ctx, alice, wh.ID, provisioning.WebhookPatch{URL: provisioning.Value("https://hooks.example/b"),
		Description: provisioning.Null[string](), Events: provisioning.Null[[]provisioning.EventType]()})
	if err != nil || got.URL != "https://hooks.example/b" || got.Description != "" || len(got.Events) != 0 {
		t.Fatalf("patch url: %+v, %v", got, err)
	}
	stored, err := svc.GetWebhook(ctx, alice, wh.ID)
	if err != nil || stored.URL != got.URL || stored.Description != "" || stored.Secret != wh.Secret {
		t.Fatalf("stored after patches: %+v, %v", stored, err)
	}
	_, err = svc.UpdateWebhook(ctx, bob, wh.ID, provisioning.WebhookPatch{Disabled: provisioning.Value(true)})
	wantCode(t, err, provisioning.CodeNotFound)
	for name, bad := range map[string]provisioning.WebhookPatch{
		"null url":      {URL: provisioning.Null[string]()},
		"plain http":    {URL: provisioning.Value("http://hooks.example/x")},
		"unknown event": {Events: provisioning.Value([]provisioning.EventType{"webhook.test"})},
		"null disabled": {Disabled: provisioning.Null[bool]()},
	} {
		_, err := svc.UpdateWebhook(ctx, alice, wh.ID, bad)
		if provisioning.ErrorCode(err) != provisioning.CodeInvalid {
			t.Fatalf("%s: %v, want invalid", name, err)
		}
	}

	// A delivery queued before the endpoint is disabled waits; none is queued while it is.
	mustCreate(t, svc, alice, input("Before"))
	if got, err = svc.UpdateWebhook(ctx, alice, wh.ID, provisioning.WebhookPatch{Disabled: provisioning.Value(true)}); err != nil || !got.Disabled {
		t.Fatalf("disable: %+v, %v", got, err)
	}
	mustCreate(t, svc, alice, input("While disabled"))
	if stats := queueStats(t, s); stats.DeliveriesPending != 2 {
		t.Fatalf("%d deliveries pending, want the 2 of the enabled endpoint (the disabled one's are not counted)", stats.DeliveriesPending)
	}
	now := time.Now().Add(time.Hour)
	for _, j := range claim(t, s, now, 10) {
		if j.Webhook.ID == wh.ID {
			t.Fatal("a delivery to a disabled endpoint was claimed")
		}
	}
	_, err = svc.TestWebhook(ctx, alice, wh.ID)
	wantCode(t, err, provisioning.CodeWebhookDisabled)
	if _, err = svc.UpdateWebhook(ctx, alice, wh.ID, provisioning.WebhookPatch{Disabled: provisioning.Value(false)}); err != nil {
		t.Fatal(err)
	}
	if stats := queueStats(t, s); stats.DeliveriesPending != 3 || stats.OldestPendingDelivery.IsZero() {
		t.Fatalf("after enabling: %+v, want 3 pending (the one queued before it was disabled)", stats)
	}
	jobs := claim(t, s, now, 10)
	if len(jobs) != 1 || jobs[0].Webhook.ID != wh.ID || jobs[0].Event.Data.CompanyName != "Before" {
		t.Fatalf("after enabling, claimed %d deliveries", len(jobs))
	}
	done := jobs[0].Delivery
	done.State, done.LastStatus, done.UpdatedAt = provisioning.DeliverySucceeded, 200, now
	if err := s.Write(ctx, func(tx provisioning.Tx) error { return tx.FinishDelivery(ctx, done) }); err != nil {
		t.Fatal(err)
	}

	// A test event: to this endpoint alone, made from its delivery, not in the feed.
	test, err := svc.TestWebhook(ctx, alice, wh.ID)
	if err != nil || test.EventType != provisioning.EventWebhookTest || test.State != provisioning.DeliveryPending || test.WebhookID != wh.ID {
		t.Fatalf("test: %+v, %v", test, err)
	}
	_, err = svc.TestWebhook(ctx, bob, wh.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	jobs = claim(t, s, now.Add(time.Hour), 10)
	var testJob *provisioning.DeliveryJob
	for _, j := range jobs {
		if j.Delivery.ID == test.ID {
			testJob = j
		} else if j.Delivery.EventType == provisioning.EventWebhookTest {
			t.Fatal("the test event went to another endpoint")
		}
	}
	if testJob == nil || testJob.Event == nil || testJob.Event.ID != test.EventID || testJob.Event.Type != provisioning.EventWebhookTest ||
		testJob.Event.PartnerID != alice.PartnerID || testJob.Event.TenantID != "" || testJob.Event.Data != nil {
		t.Fatalf("the test delivery's job: %+v", testJob)
	}
	evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{})
	for _, e := range evs {
		if e.Type == provisioning.EventWebhookTest || e.ID == test.EventID {
			t.Fatal("the test event is in the feed")
		}
	}

	// Redelivery: of a delivery that ended, as a new delivery of the same event.
	again, err := svc.Redeliver(ctx, alice, wh.ID, done.ID)
	if err != nil || again.ID == done.ID || again.EventID != done.EventID || again.State != provisioning.DeliveryPending || again.Attempts != 0 {
		t.Fatalf("redeliver: %+v, %v", again, err)
	}
	_, err = svc.Redeliver(ctx, alice, wh.ID, again.ID)
	wantCode(t, err, provisioning.CodeDeliveryPending)
	_, err = svc.Redeliver(ctx, bob, wh.ID, done.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.Redeliver(ctx, alice, other.ID, done.ID) // a delivery of another endpoint
	wantCode(t, err, provisioning.CodeNotFound)
	// The log: Before's delivery (succeeded), the test's and the redelivery (pending); none of
	// the event made while the endpoint was disabled.
	log, err := svc.ListDeliveries(ctx, alice, wh.ID, 0)
	states := map[provisioning.DeliveryState]int{}
	for _, d := range log {
		states[d.State]++
	}
	if err != nil || len(log) != 3 || states[provisioning.DeliverySucceeded] != 1 || states[provisioning.DeliveryPending] != 2 {
		t.Fatalf("the log: %+v, %v", log, err)
	}
	found := false
	for _, j := range claim(t, s, now.Add(2*time.Hour), 10) {
		if j.Delivery.ID == again.ID {
			found = j.Event != nil && j.Event.ID == done.EventID && j.Event.Data != nil && j.Event.Data.CompanyName == "Before"
		}
	}
	if !found {
		t.Fatal("the redelivery was not claimed with its event")
	}
}

func queueStats(t *testing.T, s provisioning.Store) provisioning.QueueStats {
	t.Helper()
	var q provisioning.QueueStats
	if err := s.Read(context.Background(), func(tx provisioning.Tx) (err error) { q, err = tx.QueueStats(context.Background()); return err }); err != nil {
		t.Fatal(err)
	}
	return q
}
