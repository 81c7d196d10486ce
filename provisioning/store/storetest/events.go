package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

func allEvents(t *testing.T, svc provisioning.Provisioner, p provisioning.Principal, f provisioning.EventFilter) ([]*provisioning.Event, string) {
	t.Helper()
	var all []*provisioning.Event
	for range 10000 {
		page, err := svc.ListEvents(context.Background(), p, f)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		all = append(all, page.Events...)
		f.After = page.NextCursor
		if !page.HasMore {
			return all, page.NextCursor
		}
	}
	t.Fatal("the event feed does not end")
	return nil, ""
}

func testEvents(t *testing.T, h Harness) {
	store, svc := open(t, h)
	ctx := provisioning.WithRequestID(context.Background(), "req-1")
	none := provisioning.Precondition{}
	tn, err := svc.CreateTenant(ctx, alice, input("Evented"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []provisioning.TenantPatch{
		{Status: provisioning.Value(provisioning.StatusSuspended)},
		{Status: provisioning.Value(provisioning.StatusActive)},
		{Industry: provisioning.Value("Retail")},
		{Industry: provisioning.Value("Retail")}, // changes nothing: no event
	}
	for _, p := range steps {
		if _, err := svc.UpdateTenant(ctx, alice, tn.ID, p, none); err != nil {
			t.Fatal(err)
		}
	}
	_, err = svc.CreateTenant(ctx, alice, input("evented")) // rolled back: no event
	wantCode(t, err, provisioning.CodeTenantExists)
	if _, err := svc.DeleteTenant(ctx, alice, tn.ID, provisioning.DeleteOptions{}, none); err != nil {
		t.Fatal(err)
	}

	evs, cursor := allEvents(t, svc, alice, provisioning.EventFilter{Limit: 2})
	want := []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantSuspended,
		provisioning.EventTenantResumed, provisioning.EventTenantUpdated, provisioning.EventTenantDeletionScheduled}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, e := range evs {
		if e.Type != want[i] || e.TenantID != tn.ID || e.PartnerID != alice.PartnerID || e.Actor != alice.Subject ||
			e.RequestID != "req-1" || e.Data == nil || e.Data.Version != int64(i+1) || e.ID == "" ||
			!e.CreatedAt.Equal(e.Data.UpdatedAt) || (i > 0 && e.Seq <= evs[i-1].Seq) {
			t.Fatalf("event %d = %+v (data %+v)", i, e, e.Data)
		}
	}
	if evs[1].Data.Status != provisioning.StatusSuspended || evs[3].Data.Industry != "Retail" {
		t.Fatalf("events do not carry the tenant after the change")
	}
	// The stored event keeps what a restore needs to know.
	if d := evs[4].Data; d.Status != provisioning.StatusPendingDeletion || d.StatusBeforeDeletion != provisioning.StatusActive ||
		!d.DeletionScheduledAt.Equal(d.UpdatedAt.Add(provisioning.DefaultDeletionGrace)) {
		t.Fatalf("the deletion's event carries %+v", d)
	}
	// Polling from the last cursor finds nothing new, and keeps the cursor.
	page, err := svc.ListEvents(ctx, alice, provisioning.EventFilter{After: cursor})
	if err != nil || len(page.Events) != 0 || page.HasMore || page.NextCursor != cursor {
		t.Fatalf("poll at the end: %+v %v", page, err)
	}
	if got, _ := allEvents(t, svc, alice, provisioning.EventFilter{Type: provisioning.EventTenantResumed}); len(got) != 1 {
		t.Fatalf("type filter: %d events", len(got))
	}
	if got, _ := allEvents(t, svc, bob, provisioning.EventFilter{}); len(got) != 0 {
		t.Fatalf("bob sees %d of alice's events", len(got))
	}
	for _, f := range []provisioning.EventFilter{{Limit: 201}, {Type: "tenant.exploded"}, {After: "nonsense"}} {
		_, err := svc.ListEvents(ctx, alice, f)
		wantCode(t, err, provisioning.CodeInvalid)
	}
	testEventCursorsArePartners(t, store, svc, evs)
}

// testEventCursorsArePartners checks that a feed position belongs to one partner: the store
// continues after an event of the partner's own, answers CodeNotFound for any other id, and
// one partner's cursor is invalid for another. aliceEvents is alice's whole feed.
func testEventCursorsArePartners(t *testing.T, store provisioning.Store, svc *provisioning.Service, aliceEvents []*provisioning.Event) {
	t.Helper()
	ctx := context.Background()
	list := func(q provisioning.EventQuery) (evs []*provisioning.Event, err error) {
		err = store.Read(ctx, func(tx provisioning.Tx) error { evs, err = tx.ListEvents(ctx, q); return err })
		return evs, err
	}
	got, err := list(provisioning.EventQuery{PartnerID: alice.PartnerID, AfterID: aliceEvents[1].ID, Limit: 10})
	if err != nil || len(got) != len(aliceEvents)-2 || got[0].ID != aliceEvents[2].ID {
		t.Fatalf("ListEvents after alice's second event: %d events, %v", len(got), err)
	}
	for _, q := range []provisioning.EventQuery{
		{PartnerID: bob.PartnerID, AfterID: aliceEvents[0].ID, Limit: 10},         // another partner's event
		{PartnerID: alice.PartnerID, AfterID: uuid.NewString(), Limit: 10},        // no event at all
		{PartnerID: alice.PartnerID, AfterID: aliceEvents[0].TenantID, Limit: 10}, // not an event id
	} {
		_, err := list(q)
		wantCode(t, err, provisioning.CodeNotFound)
	}
	mustCreate(t, svc, bob, input("Bob's"))
	page, err := svc.ListEvents(ctx, bob, provisioning.EventFilter{})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("bob's feed: %+v, %v", page, err)
	}
	_, aliceCursor := allEvents(t, svc, alice, provisioning.EventFilter{})
	_, err = svc.ListEvents(ctx, bob, provisioning.EventFilter{After: aliceCursor})
	wantCode(t, err, provisioning.CodeInvalid)
	_, err = svc.ListEvents(ctx, alice, provisioning.EventFilter{After: page.NextCursor})
	wantCode(t, err, provisioning.CodeInvalid)
	// Alice's activity moves nothing of bob's: his cursor still ends his feed.
	mustCreate(t, svc, alice, input("Busy"))
	again, err := svc.ListEvents(ctx, bob, provisioning.EventFilter{After: page.NextCursor})
	if err != nil || len(again.Events) != 0 || again.NextCursor != page.NextCursor {
		t.Fatalf("bob's poll after alice's change: %+v, %v", again, err)
	}
}

// A consumer polling the feed while others write, through one or two stores, sees every event
// exactly once: no event commits behind its cursor.
func testEventsUnderConcurrentWrites(t *testing.T, h Harness, twoStores bool) {
	_, svcs := replicas(t, h, twoStores)
	followFeedWhileWriting(t, svcs, alice, func(int) provisioning.Principal { return alice }, 15)
}

// followFeedWhileWriting has eight writers create n tenants each, writer w as writer(w) through
// svcs[w%len(svcs)], while reader follows its feed through svcs[0] page by page; then it checks
// that the reader saw each tenant's created event exactly once.
func followFeedWhileWriting(t *testing.T, svcs []*provisioning.Service, reader provisioning.Principal,
	writer func(w int) provisioning.Principal, n int) {
	t.Helper()
	var (
		mu      sync.Mutex
		created = map[string]bool{}
		done    atomic.Bool
		seen    = map[string]int{}
		cursor  string
	)
	poll := func() {
		for {
			page, err := svcs[0].ListEvents(context.Background(), reader, provisioning.EventFilter{After: cursor, Limit: 7})
			if err != nil {
				t.Errorf("ListEvents: %v", err)
				return
			}
			for _, e := range page.Events {
				seen[e.TenantID]++
			}
			cursor = page.NextCursor
			if !page.HasMore {
				return
			}
		}
	}
	var consumer sync.WaitGroup
	consumer.Go(func() {
		for !done.Load() {
			poll()
		}
	})
	barrier.Run(8, func(w int) {
		for i := range n {
			tn, err := svcs[w%len(svcs)].CreateTenant(context.Background(), writer(w), input(fmt.Sprintf("Feed %d-%d", w, i)))
			if err != nil {
				t.Errorf("create: %v", err)
				return
			}
			mu.Lock()
			created[tn.ID] = true
			mu.Unlock()
		}
	})
	done.Store(true)
	consumer.Wait()
	// The feed may trail the commits while transactions elsewhere on the database run (it shows
	// an event once nothing can commit before it): poll until every event is there, as a
	// consumer would, within a generous deadline. What is checked is that none was skipped.
	for deadline := time.Now().Add(30 * time.Second); len(seen) < len(created) && time.Now().Before(deadline); {
		poll()
		time.Sleep(10 * time.Millisecond)
	}
	for id := range created {
		if seen[id] != 1 {
			t.Fatalf("tenant %s: its created event was seen %d times, want 1", id, seen[id])
		}
	}
	if len(seen) != len(created) {
		t.Fatalf("%d tenants in the feed, %d created", len(seen), len(created))
	}
}
