package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/provisioning"
)

// The Tx tests of events, their deliveries and the endpoints they go to.

// errRollback ends a Write without committing it.
var errRollback = errors.New("storetest: roll back")

// testTxAppendEventAtCommit: an event is stored when its transaction commits, with a Seq that
// grows, and never when it rolls back.
func testTxAppendEventAtCommit(t *testing.T, h Harness) {
	s, _ := open(t, h)
	n := newTenant(alice.PartnerID, "Evented", txTime)
	insert(t, s, n)
	first, second := event(n.Tenant, provisioning.EventTenantUpdated), event(n.Tenant, provisioning.EventTenantSuspended)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		if err := tx.AppendEvent(ctx, first); err != nil {
			return err
		}
		evs, err := tx.ListEvents(ctx, provisioning.EventQuery{PartnerID: alice.PartnerID, Limit: 10})
		if err != nil || len(evs) != 0 {
			t.Errorf("before the commit ListEvents returned %d events (%v), want none", len(evs), err)
		}
		return tx.AppendEvent(ctx, second)
	})
	ctx := context.Background()
	err := s.Write(ctx, func(tx provisioning.Tx) error {
		if err := tx.AppendEvent(ctx, event(n.Tenant, provisioning.EventTenantDeleted)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Write returned %v, want the function's error", err)
	}
	evs := events(t, s, alice.PartnerID)
	if len(evs) != 2 || evs[0].ID != first.ID || evs[1].ID != second.ID {
		t.Fatalf("stored %d events, want the two committed ones in order", len(evs))
	}
	if first.Seq <= 0 || second.Seq <= first.Seq || evs[0].Seq != first.Seq || evs[1].Seq != second.Seq {
		t.Fatalf("Seq %d then %d (stored %d, %d): want them set at the commit, growing", first.Seq, second.Seq, evs[0].Seq, evs[1].Seq)
	}
	if got := evs[1]; got.Type != second.Type || got.TenantID != n.Tenant.ID || got.Actor != "storetest" ||
		!got.CreatedAt.Equal(second.CreatedAt) || got.Data == nil || got.Data.CompanyName != "Evented" {
		t.Fatalf("stored event %+v", got)
	}
}

// testTxAppendEventDeliveries: an event queues a pending delivery, due at once, for each of its
// partner's endpoints that wants its type, with the event; a rolled-back event queues none.
func testTxAppendEventDeliveries(t *testing.T, h Harness) {
	s, _ := open(t, h)
	wants := func(url string, types ...provisioning.EventType) *provisioning.Webhook {
		return &provisioning.Webhook{ID: uuid.NewString(), PartnerID: alice.PartnerID, URL: url, Events: types,
			Secret: "whsec_c2VjcmV0", CreatedAt: txTime}
	}
	created, deleted := wants("https://hooks.example/created", provisioning.EventTenantCreated), wants("https://hooks.example/deleted", provisioning.EventTenantDeleted)
	bobs := &provisioning.Webhook{ID: uuid.NewString(), PartnerID: bob.PartnerID, URL: "https://hooks.example/bob",
		Secret: "whsec_c2VjcmV0", CreatedAt: txTime}
	n := newTenant(alice.PartnerID, "Delivered", txTime)
	e := event(n.Tenant, provisioning.EventTenantCreated)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		if err := tx.AppendEvent(ctx, e); err != nil { // before the endpoints: queued for those there at the end
			return err
		}
		for _, w := range []*provisioning.Webhook{created, deleted, bobs} {
			if _, err := tx.InsertWebhook(ctx, &provisioning.InsertWebhookParams{Webhook: w, Limit: 5}); err != nil {
				return err
			}
		}
		return tx.InsertTenant(ctx, n)
	})
	ctx := context.Background()
	_ = s.Write(ctx, func(tx provisioning.Tx) error {
		_ = tx.AppendEvent(ctx, event(n.Tenant, provisioning.EventTenantCreated))
		return errRollback
	})
	jobs := claim(t, s, txTime, 10)
	if len(jobs) != 1 {
		t.Fatalf("%d deliveries due, want 1 (the committed event, to the endpoint that wants it)", len(jobs))
	}
	j := jobs[0]
	if j.Webhook == nil || j.Webhook.ID != created.ID || j.Event == nil || j.Event.ID != e.ID ||
		j.Delivery.EventType != provisioning.EventTenantCreated || j.Delivery.Attempts != 1 {
		t.Fatalf("delivery %+v of %+v", j.Delivery, j.Event)
	}
}

// testTxAppendEventInAnyOrder: events may be appended before or after the transaction's other
// changes. Writer A appends its event, then inserts a name that writer B has just inserted and
// not yet committed, so A waits for B; then B appends its event. Were an append to take a lock
// at once (as PostgreSQL's per-partner ordering lock once did) and hold it, A would hold it while waiting for B, B would
// wait for it: a deadlock. Both must end — B created, A refused with CodeTenantExists — with
// one event. (Where writes are serialized the two simply run one after the other.)
func testTxAppendEventInAnyOrder(t *testing.T, h Harness) {
	s, _ := open(t, h)
	ctx := context.Background()
	inserted, appended := make(chan struct{}), make(chan struct{})
	// wait waits for c, or a moment: where writes are serialized the other writer cannot act
	// until this one ends, and the test goes on without the interleaving.
	wait := func(c chan struct{}) {
		select {
		case <-c:
		case <-time.After(500 * time.Millisecond):
		}
	}
	a, b := newTenant(alice.PartnerID, "Contended Name", txTime), newTenant(alice.PartnerID, "Contended Name", txTime)
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() {
		errB <- s.Write(ctx, func(tx provisioning.Tx) error {
			if err := tx.InsertTenant(ctx, b); err != nil {
				return err
			}
			close(inserted)
			wait(appended)
			return tx.AppendEvent(ctx, event(b.Tenant, provisioning.EventTenantCreated))
		})
	}()
	go func() {
		errA <- s.Write(ctx, func(tx provisioning.Tx) error {
			wait(inserted)
			if err := tx.AppendEvent(ctx, event(a.Tenant, provisioning.EventTenantCreated)); err != nil {
				return err
			}
			close(appended)
			return tx.InsertTenant(ctx, a)
		})
	}()
	ea, eb := <-errA, <-errB
	won := 0
	for _, err := range []error{ea, eb} {
		switch provisioning.ErrorCode(err) {
		case "":
			won++
		case provisioning.CodeTenantExists:
		default:
			t.Fatalf("writers ended with %v and %v; want one created, one refused as a conflict", ea, eb)
		}
	}
	if evs := events(t, s, alice.PartnerID); won != 1 || len(evs) != 1 {
		t.Fatalf("%d writers won, %d events stored; want 1 and 1", won, len(evs))
	}
}

// testTxWebhooks: endpoints are their partner's; a missing one is CodeNotFound for every method,
// and deleting one removes its deliveries.
func testTxWebhooks(t *testing.T, h Harness) {
	s, _ := open(t, h)
	w := &provisioning.Webhook{ID: uuid.NewString(), PartnerID: alice.PartnerID, URL: "https://hooks.example/a",
		Secret: "whsec_c2VjcmV0", CreatedAt: txTime}
	n := newTenant(alice.PartnerID, "Hooked", txTime)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		if ok, err := tx.InsertWebhook(ctx, &provisioning.InsertWebhookParams{Webhook: w, Limit: 1}); !ok || err != nil {
			return fmt.Errorf("InsertWebhook: %v %w", ok, err)
		}
		if err := tx.InsertTenant(ctx, n); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, event(n.Tenant, provisioning.EventTenantCreated))
	})
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		for _, p := range []string{bob.PartnerID, alice.PartnerID} {
			id := w.ID
			if p == alice.PartnerID {
				id = uuid.NewString()
			}
			_, err := tx.GetWebhook(ctx, &provisioning.GetWebhookParams{PartnerID: p, ID: id})
			wantCode(t, err, provisioning.CodeNotFound)
			wantCode(t, tx.UpdateWebhookSecrets(ctx, &provisioning.Webhook{ID: id, PartnerID: p, Secret: "whsec_eA=="}), provisioning.CodeNotFound)
			wantCode(t, tx.DeleteWebhook(ctx, &provisioning.DeleteWebhookParams{PartnerID: p, ID: id}), provisioning.CodeNotFound)
		}
		if ws, err := tx.ListWebhooks(ctx, bob.PartnerID); err != nil || len(ws) != 0 {
			t.Errorf("bob lists %d endpoints (%v)", len(ws), err)
		}
		ds, err := tx.ListDeliveries(ctx, &provisioning.ListDeliveriesParams{PartnerID: alice.PartnerID, WebhookID: w.ID, Limit: 10})
		if err != nil || len(ds) != 1 {
			t.Errorf("deliveries before the delete: %d, %v", len(ds), err)
		}
		return tx.DeleteWebhook(ctx, &provisioning.DeleteWebhookParams{PartnerID: alice.PartnerID, ID: w.ID})
	})
	if jobs := claim(t, s, txTime.Add(time.Hour), 10); len(jobs) != 0 {
		t.Fatalf("%d deliveries to a deleted endpoint claimed", len(jobs))
	}
}
