package storetest

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// claim claims up to limit deliveries due at now, for a minute, without bounds per endpoint or
// partner.
func claim(t *testing.T, s provisioning.Store, now time.Time, limit int) []*provisioning.DeliveryJob {
	t.Helper()
	return claimWith(t, s, provisioning.ClaimDeliveriesParams{Now: now, LeaseUntil: now.Add(time.Minute), Limit: limit})
}

func claimWith(t *testing.T, s provisioning.Store, p provisioning.ClaimDeliveriesParams) []*provisioning.DeliveryJob {
	t.Helper()
	var jobs []*provisioning.DeliveryJob
	if err := s.Write(context.Background(), func(tx provisioning.Tx) (err error) {
		jobs, err = tx.ClaimDeliveries(context.Background(), &p)
		return err
	}); err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	return jobs
}

func testWebhooks(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	created, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/created",
		Events: []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantCreated}, Description: "CRM sync"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(created.Secret, "whsec_"))
	if !strings.HasPrefix(created.Secret, "whsec_") || err != nil || len(key) < 24 {
		t.Fatalf("secret %q is not whsec_ + base64 of at least 24 bytes", created.Secret)
	}
	if len(created.Events) != 1 {
		t.Fatalf("events not deduplicated: %v", created.Events)
	}
	all, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/all"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateWebhook(ctx, bob, provisioning.WebhookInput{URL: "https://hooks.example/bob"}); err != nil {
		t.Fatal(err)
	}
	ws, err := svc.ListWebhooks(ctx, alice)
	if err != nil || len(ws) != 2 || ws[0].ID != created.ID || ws[0].Secret != created.Secret {
		t.Fatalf("list: %v %v", ws, err)
	}
	_, err = svc.GetWebhook(ctx, bob, created.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, svc.DeleteWebhook(ctx, bob, created.ID), provisioning.CodeNotFound)

	tn := mustCreate(t, svc, alice, input("Hooked"))
	if _, err := svc.UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Hour) // everything queued so far is due
	jobs := claim(t, s, now, 10)
	got := map[string]int{}
	for _, j := range jobs {
		if j.Webhook == nil || j.Event == nil || j.Delivery.Attempts != 1 || j.Event.ID != j.Delivery.EventID || j.Webhook.PartnerID != alice.PartnerID {
			t.Fatalf("job = %+v", j)
		}
		got[j.Webhook.URL+" "+string(j.Event.Type)]++
	}
	if len(jobs) != 3 || got["https://hooks.example/created tenant.created"] != 1 || got["https://hooks.example/all tenant.created"] != 1 ||
		got["https://hooks.example/all tenant.updated"] != 1 {
		t.Fatalf("queued deliveries: %v", got)
	}
	if again := claim(t, s, now, 10); len(again) != 0 {
		t.Fatalf("%d leased deliveries were claimed again", len(again))
	}
	// One succeeds; one fails and is due again later.
	ok, retry := jobs[0].Delivery, jobs[1].Delivery
	ok.State, ok.LastStatus, ok.UpdatedAt = provisioning.DeliverySucceeded, 204, now
	retry.State, retry.LastStatus, retry.LastError, retry.NextAttemptAt, retry.UpdatedAt = provisioning.DeliveryPending, 500, "HTTP 500", now.Add(10*time.Minute), now
	for _, d := range []*provisioning.Delivery{ok, retry} {
		if err := s.Write(ctx, func(tx provisioning.Tx) error { return tx.FinishDelivery(ctx, d) }); err != nil {
			t.Fatal(err)
		}
	}
	if again := claim(t, s, now.Add(30*time.Second), 10); len(again) != 0 { // within the lease, before the retry
		t.Fatalf("claimed before due: %d", len(again))
	}
	if again := claim(t, s, now.Add(11*time.Minute), 10); len(again) != 2 { // the retry, and the lease that ran out
		t.Fatalf("claimed when due: %d", len(again))
	}
	log, err := svc.ListDeliveries(ctx, alice, ok.WebhookID, 0)
	if err != nil || len(log) == 0 {
		t.Fatalf("delivery log: %v %v", log, err)
	}
	found := false
	for _, d := range log {
		if d.ID == ok.ID {
			found = d.State == provisioning.DeliverySucceeded && d.LastStatus == 204 && d.Attempts == 1
		}
	}
	if !found {
		t.Fatalf("the successful delivery is not in the log as such: %+v", log)
	}
	_, err = svc.ListDeliveries(ctx, bob, ok.WebhookID, 0)
	wantCode(t, err, provisioning.CodeNotFound)

	if err := svc.DeleteWebhook(ctx, alice, all.ID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.GetWebhook(ctx, alice, all.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	mustCreate(t, svc, alice, input("After delete"))
	for _, j := range claim(t, s, now.Add(time.Hour), 10) {
		if j.Webhook.ID == all.ID {
			t.Fatal("a deleted endpoint still gets deliveries")
		}
	}

	for name, in := range map[string]provisioning.WebhookInput{
		"blank":         {},
		"plain http":    {URL: "http://hooks.example/x"},
		"not a URL":     {URL: "hooks.example"},
		"ftp":           {URL: "ftp://hooks.example/x"},
		"credentials":   {URL: "https://user:pw@hooks.example/x"},
		"unknown event": {URL: "https://hooks.example/x", Events: []provisioning.EventType{"tenant.exploded"}},
	} {
		if _, err := svc.CreateWebhook(ctx, alice, in); provisioning.ErrorCode(err) != provisioning.CodeInvalid {
			t.Fatalf("%s: %v, want invalid", name, err)
		}
	}
	for i := 0; ; i++ {
		_, err := svc.CreateWebhook(ctx, bob, provisioning.WebhookInput{URL: fmt.Sprintf("https://hooks.example/%d", i)})
		if err != nil {
			wantCode(t, err, provisioning.CodeInvalid)
			if i != provisioning.MaxWebhooks-1 { // bob had one already
				t.Fatalf("the limit hit after %d more webhooks", i)
			}
			break
		}
	}
}

// Concurrent dispatchers, also on two stores, each claim a delivery at most once.
func testDeliveryClaimRace(t *testing.T, h Harness, twoStores bool) {
	stores, svcs := replicas(t, h, twoStores)
	svc := svcs[0]
	if _, err := svc.CreateWebhook(context.Background(), alice, provisioning.WebhookInput{URL: "https://hooks.example/x"}); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		mustCreate(t, svc, alice, input(fmt.Sprintf("Q%d", i)))
	}
	now := time.Now().Add(time.Hour)
	var mu sync.Mutex
	claimed := map[string]int{}
	barrier.Run(4, func(w int) {
		for {
			jobs := claim(t, stores[w%len(stores)], now, 3)
			if len(jobs) == 0 {
				return
			}
			mu.Lock()
			for _, j := range jobs {
				claimed[j.Delivery.ID]++
			}
			mu.Unlock()
		}
	})
	if len(claimed) != 40 {
		t.Fatalf("%d deliveries claimed, want 40", len(claimed))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Fatalf("delivery %s claimed %d times", id, n)
		}
	}
}

func testWebhookSecretRotation(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	w, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/r"})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := svc.RotateWebhookSecret(ctx, alice, w.ID)
	if err != nil || rotated.Secret == w.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("rotate: %+v %v", rotated, err)
	}
	got, err := svc.GetWebhook(ctx, alice, w.ID)
	if err != nil || got.Secret != rotated.Secret || got.PreviousSecret != w.Secret {
		t.Fatalf("after rotation the store holds %+v, %v", got, err)
	}
	if s := got.Secrets(got.PreviousUntil.Add(-time.Minute)); len(s) != 2 || s[0] != rotated.Secret || s[1] != w.Secret {
		t.Fatalf("secrets within the overlap: %v", s)
	}
	if s := got.Secrets(got.PreviousUntil); len(s) != 1 || s[0] != rotated.Secret {
		t.Fatalf("secrets after the overlap: %v", s)
	}
	_, err = svc.RotateWebhookSecret(ctx, bob, w.ID)
	wantCode(t, err, provisioning.CodeNotFound)
}

// testWebhookLimitRace: three times the limit of concurrent registrations for one partner — on
// two replicas where the store has them, each on connections of its own — leave it with exactly
// MaxWebhooks endpoints; every other registration is refused (CodeInvalid). The limit is the
// store's: InsertWebhook holds it, and another partner's endpoints do not count.
func testWebhookLimitRace(t *testing.T, h Harness, twoStores bool) {
	stores, svcs := replicas(t, h, twoStores)
	ctx := context.Background()
	const n = 3 * provisioning.MaxWebhooks
	errs := make([]error, n)
	barrier.Run(n, func(i int) {
		_, errs[i] = svcs[i%len(svcs)].CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: fmt.Sprintf("https://hooks.example/%d", i)})
	})
	registered := 0
	for _, err := range errs {
		if err == nil {
			registered++
			continue
		}
		wantCode(t, err, provisioning.CodeInvalid)
	}
	if ws, err := svcs[0].ListWebhooks(ctx, alice); registered != provisioning.MaxWebhooks || err != nil || len(ws) != registered {
		t.Fatalf("%d of %d concurrent registrations succeeded and %d endpoints are stored (%v), want %d",
			registered, n, len(ws), err, provisioning.MaxWebhooks)
	}
	insert := func(partner string, limit int) bool {
		t.Helper()
		inserted, err := insertWebhook(stores[0], partner, limit)
		if err != nil {
			t.Fatalf("InsertWebhook: %v", err)
		}
		return inserted
	}
	if insert(alice.PartnerID, provisioning.MaxWebhooks) || !insert(alice.PartnerID, provisioning.MaxWebhooks+1) || !insert(bob.PartnerID, 1) || insert(bob.PartnerID, 1) {
		t.Fatal("InsertWebhook does not insert exactly while the partner has fewer than limit")
	}
}

// insertWebhook registers an endpoint of the partner directly in s, if it has fewer than limit.
func insertWebhook(s provisioning.Store, partnerID string, limit int) (inserted bool, err error) {
	ctx := context.Background()
	w := &provisioning.Webhook{ID: uuid.NewString(), PartnerID: partnerID, URL: "https://hooks.example/direct",
		Secret: "whsec_c2VjcmV0", CreatedAt: time.Now()}
	err = s.Write(ctx, func(tx provisioning.Tx) (err error) {
		inserted, err = tx.InsertWebhook(ctx, &provisioning.InsertWebhookParams{Webhook: w, Limit: limit})
		return err
	})
	return inserted, err
}

// testWebhookLimitOpenRegistration: a registration made while another one's transaction is
// still open — on another replica where the store has them — does not count without it. The
// partner is one short of the limit; the second registration must wait for the first to end
// and then be refused. (Were it not to wait, it would be inserted before the first commits,
// and the partner would end over the limit: that is what the test catches.)
func testWebhookLimitOpenRegistration(t *testing.T, h Harness, twoStores bool) {
	stores, _ := replicas(t, h, twoStores)
	const limit = 2
	if inserted, err := insertWebhook(stores[0], alice.PartnerID, limit); !inserted || err != nil {
		t.Fatalf("the first endpoint: %v %v", inserted, err)
	}
	type outcome struct {
		inserted bool
		err      error
	}
	second := make(chan outcome, 1)
	ctx := context.Background()
	w := &provisioning.Webhook{ID: uuid.NewString(), PartnerID: alice.PartnerID, URL: "https://hooks.example/open",
		Secret: "whsec_c2VjcmV0", CreatedAt: time.Now()}
	err := stores[0].Write(ctx, func(tx provisioning.Tx) error {
		if inserted, err := tx.InsertWebhook(ctx, &provisioning.InsertWebhookParams{Webhook: w, Limit: limit}); !inserted || err != nil {
			return fmt.Errorf("the open registration: %v %v", inserted, err)
		}
		go func() {
			inserted, err := insertWebhook(stores[len(stores)-1], alice.PartnerID, limit)
			second <- outcome{inserted, err}
		}()
		select {
		case o := <-second: // it did not wait for this transaction
			second <- o
		case <-time.After(200 * time.Millisecond): // it waits (or has yet to start): end the transaction
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if o := <-second; o.inserted || o.err != nil {
		t.Fatalf("a registration during another's open transaction: inserted %v, error %v; want refused", o.inserted, o.err)
	}
}
