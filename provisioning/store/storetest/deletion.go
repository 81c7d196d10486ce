package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// due is the time at which a tenant the suite's Service deleted with the default grace is due
// for its purge, and then some: the Service's clock starts at 2025-02-10T16:30 and advances a
// millisecond a reading.
var due = time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC).Add(provisioning.DefaultDeletionGrace + time.Hour)

// runWorker runs every job of a Worker over s once, at the time at.
func runWorker(t *testing.T, s provisioning.Store, at time.Time) {
	t.Helper()
	w := provisioning.NewWorker(s, provisioning.WorkerOptions{Clock: func() time.Time { return at }})
	if err := w.RunOnce(context.Background()); err != nil {
		t.Fatalf("Worker.RunOnce: %v", err)
	}
}

func mustDelete(t *testing.T, svc *provisioning.Service, p provisioning.Principal, id string, grace time.Duration) *provisioning.Tenant {
	t.Helper()
	tn, err := svc.DeleteTenant(context.Background(), p, id, provisioning.DeleteOptions{Grace: grace}, provisioning.Precondition{})
	if err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	return tn
}

// eventsOf returns the partner's events of one tenant, oldest first.
func eventsOf(t *testing.T, svc *provisioning.Service, p provisioning.Principal, id string) []*provisioning.Event {
	t.Helper()
	all, _ := allEvents(t, svc, p, provisioning.EventFilter{})
	var out []*provisioning.Event
	for _, e := range all {
		if e.TenantID == id {
			out = append(out, e)
		}
	}
	return out
}

func eventTypes(evs []*provisioning.Event) []provisioning.EventType {
	out := make([]provisioning.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// testDeletionGrace: a deleted tenant is kept, pending deletion, with its names, until its
// grace ends; then the Worker purges it and its names are free.
func testDeletionGrace(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	in := input("Phoenix")
	in.ExternalID = "ext-1"
	old := mustCreate(t, svc, alice, in)
	deleted := mustDelete(t, svc, alice, old.ID, 0)
	got, err := svc.GetTenant(ctx, alice, old.ID)
	if err != nil {
		t.Fatalf("GetTenant of a tenant pending deletion: %v", err)
	}
	equal(t, got, deleted)
	if got.Status != provisioning.StatusPendingDeletion || got.StatusBeforeDeletion != provisioning.StatusActive ||
		!got.DeletionScheduledAt.Equal(got.UpdatedAt.Add(provisioning.DefaultDeletionGrace)) || got.Version != 2 {
		t.Fatalf("pending deletion: %+v", got)
	}
	if ts := listAll(t, svc, alice, provisioning.TenantFilter{}); len(ts) != 0 {
		t.Fatalf("a tenant pending deletion is listed: %v", names(ts))
	}
	if ts := listAll(t, svc, alice, provisioning.TenantFilter{Status: provisioning.StatusActive}); len(ts) != 0 {
		t.Fatalf("a tenant pending deletion is listed as active: %v", names(ts))
	}
	if ts := listAll(t, svc, alice, provisioning.TenantFilter{Status: provisioning.StatusPendingDeletion}); len(ts) != 1 {
		t.Fatalf("status=pending_deletion lists %v", names(ts))
	} else {
		equal(t, ts[0], deleted)
	}
	_, err = svc.CreateTenant(ctx, alice, input("PHOENIX"))
	wantExists(t, err, old.ID)
	other := input("Other")
	other.ExternalID = "ext-1"
	_, err = svc.CreateTenant(ctx, alice, other)
	wantExists(t, err, old.ID)
	_, err = svc.UpdateTenant(ctx, alice, old.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeTenantPendingDeletion)

	// Not yet due: the Worker leaves it.
	runWorker(t, s, deleted.DeletionScheduledAt.Add(-time.Millisecond))
	if _, err := svc.GetTenant(ctx, alice, old.ID); err != nil {
		t.Fatalf("purged before its time: %v", err)
	}
	runWorker(t, s, deleted.DeletionScheduledAt)
	_, err = svc.GetTenant(ctx, alice, old.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	if ts := listAll(t, svc, alice, provisioning.TenantFilter{Status: provisioning.StatusPendingDeletion}); len(ts) != 0 {
		t.Fatalf("a purged tenant is listed: %v", names(ts))
	}
	reborn := mustCreate(t, svc, alice, in) // name and external id are free again
	if reborn.ID == old.ID {
		t.Fatalf("new tenant reused the purged id")
	}
}

// testRestore: a restore gives back the status before the deletion and cancels the purge.
func testRestore(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	in := input("Lazarus")
	in.Status = provisioning.StatusSuspended
	tn := mustCreate(t, svc, alice, in)
	mustDelete(t, svc, alice, tn.ID, time.Hour)
	restored, err := svc.RestoreTenant(ctx, alice, tn.ID, provisioning.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	if restored.Status != provisioning.StatusSuspended || restored.StatusBeforeDeletion != "" ||
		!restored.DeletionScheduledAt.IsZero() || restored.Version != 3 {
		t.Fatalf("restored: %+v", restored)
	}
	got, err := svc.GetTenant(ctx, alice, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, got, restored)
	_, err = svc.RestoreTenant(ctx, alice, tn.ID, provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeTenantNotPendingDeletion)
	runWorker(t, s, due)
	if _, err := svc.GetTenant(ctx, alice, tn.ID); err != nil {
		t.Fatalf("a restored tenant was purged: %v", err)
	}
	if ts := listAll(t, svc, alice, provisioning.TenantFilter{Status: provisioning.StatusSuspended}); len(ts) != 1 {
		t.Fatalf("the restored tenant is not listed: %v", names(ts))
	}
	if got := eventTypes(eventsOf(t, svc, alice, tn.ID)); !slices.Equal(got, []provisioning.EventType{provisioning.EventTenantCreated,
		provisioning.EventTenantDeletionScheduled, provisioning.EventTenantRestored}) {
		t.Fatalf("events %v", got)
	}
}

// testPurgeByTheWorker: the Worker purges what is due, only that, once, and writes the purge's
// event with the ids alone.
func testPurgeByTheWorker(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	soon := mustCreate(t, svc, alice, input("Soon"))
	later := mustCreate(t, svc, alice, input("Later"))
	theirs := mustCreate(t, svc, bob, input("Soon"))
	soonDeleted := mustDelete(t, svc, alice, soon.ID, time.Hour)
	mustDelete(t, svc, alice, later.ID, 0)
	mustDelete(t, svc, bob, theirs.ID, 2*time.Hour)

	runWorker(t, s, soonDeleted.DeletionScheduledAt.Add(time.Minute))
	_, err := svc.GetTenant(ctx, alice, soon.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.RestoreTenant(ctx, alice, soon.ID, provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeNotFound)
	for _, k := range []struct {
		p  provisioning.Principal
		id string
	}{{alice, later.ID}, {bob, theirs.ID}} {
		if got, err := svc.GetTenant(ctx, k.p, k.id); err != nil || got.Status != provisioning.StatusPendingDeletion {
			t.Fatalf("a tenant not yet due: %+v, %v", got, err)
		}
	}
	evs := eventsOf(t, svc, alice, soon.ID)
	if got := eventTypes(evs); !slices.Equal(got, []provisioning.EventType{provisioning.EventTenantCreated,
		provisioning.EventTenantDeletionScheduled, provisioning.EventTenantDeleted}) {
		t.Fatalf("events %v", got)
	}
	purge := evs[2]
	if purge.Data != nil || purge.TenantID != soon.ID || purge.PartnerID != alice.PartnerID || purge.Actor != "" || purge.ID == "" ||
		purge.CreatedAt.IsZero() {
		t.Fatalf("the purge's event: %+v", purge)
	}
	// Again at the same time: nothing more to purge, no second event.
	runWorker(t, s, soonDeleted.DeletionScheduledAt.Add(time.Minute))
	if n := len(eventsOf(t, svc, alice, soon.ID)); n != 3 {
		t.Fatalf("%d events after a second round, want 3", n)
	}
	runWorker(t, s, due.Add(time.Hour))
	for _, k := range []struct {
		p  provisioning.Principal
		id string
	}{{alice, later.ID}, {bob, theirs.ID}} {
		_, err := svc.GetTenant(ctx, k.p, k.id)
		wantCode(t, err, provisioning.CodeNotFound)
	}
	if got := eventTypes(eventsOf(t, svc, bob, theirs.ID)); len(got) != 3 || got[2] != provisioning.EventTenantDeleted {
		t.Fatalf("partner-b's events %v", got)
	}
}

// testPurgeRedacts: the purged tenant's events keep their ids, type, partner, time, actor and
// request, and lose the tenant; webhook deliveries of them send no tenant either; other
// tenants' events keep theirs.
func testPurgeRedacts(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := provisioning.WithRequestID(context.Background(), "req-9")
	if _, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/r"}); err != nil {
		t.Fatal(err)
	}
	in := input("Redacted")
	in.Metadata = map[string]string{"plan": "gold"}
	tn, err := svc.CreateTenant(ctx, alice, in)
	if err != nil {
		t.Fatal(err)
	}
	kept := mustCreate(t, svc, alice, input("Kept"))
	if _, err := svc.UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	before := eventsOf(t, svc, alice, tn.ID)
	if err := svc.PurgeTenant(ctx, alice, tn.ID, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	after := eventsOf(t, svc, alice, tn.ID)
	if len(after) != len(before)+1 {
		t.Fatalf("%d events after the purge, %d before", len(after), len(before))
	}
	for i, e := range after {
		if e.Data != nil {
			t.Fatalf("event %d keeps the tenant: %+v", i, e.Data)
		}
		if i == len(before) {
			if e.Type != provisioning.EventTenantDeleted || e.Actor != alice.Subject || e.RequestID != "req-9" {
				t.Fatalf("the purge's event: %+v", e)
			}
			continue
		}
		b := before[i]
		if e.ID != b.ID || e.Type != b.Type || e.TenantID != b.TenantID || e.PartnerID != b.PartnerID ||
			!e.CreatedAt.Equal(b.CreatedAt) || e.Actor != b.Actor || e.RequestID != b.RequestID || e.Seq != b.Seq {
			t.Fatalf("event %d changed beyond its data:\n got %+v\nwant %+v", i, e, b)
		}
	}
	if evs := eventsOf(t, svc, alice, kept.ID); len(evs) != 1 || evs[0].Data == nil || evs[0].Data.CompanyName != "Kept" {
		t.Fatalf("another tenant's events: %+v", evs)
	}
	// The queued deliveries of its events send no tenant.
	jobs := claim(t, s, time.Now().Add(time.Hour), 100)
	seen := 0
	for _, j := range jobs {
		if j.Event == nil || j.Event.TenantID != tn.ID {
			continue
		}
		if seen++; j.Event.Data != nil {
			t.Fatalf("a delivery of %s carries the purged tenant: %+v", j.Event.Type, j.Event.Data)
		}
	}
	if seen != len(after) {
		t.Fatalf("%d deliveries of the purged tenant's events, want %d", seen, len(after))
	}
}

// testPurgeForgetsAnswers: the idempotency answers of requests that named or created the
// tenant go with it; others stay.
func testPurgeForgetsAnswers(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	idem := func(key string, do func(prov provisioning.Provisioner) []byte) (string, bool) {
		t.Helper()
		answer, replayed, err := svc.Idempotently(ctx, alice, provisioning.PermTenantCreate, key, "fp",
			func(prov provisioning.Provisioner) ([]byte, bool) { return do(prov), true })
		if err != nil {
			t.Fatalf("Idempotently(%s): %v", key, err)
		}
		return string(answer), replayed
	}
	var gone, other, bulkOther *provisioning.Tenant
	idem("create", func(prov provisioning.Provisioner) []byte {
		tn, err := prov.CreateTenant(ctx, alice, input("Gone Corp"))
		if err != nil {
			t.Fatal(err)
		}
		gone = tn
		return []byte(tn.CompanyName)
	})
	idem("other", func(prov provisioning.Provisioner) []byte {
		tn, err := prov.CreateTenant(ctx, alice, input("Other Corp"))
		if err != nil {
			t.Fatal(err)
		}
		other = tn
		return []byte(tn.CompanyName)
	})
	idem("update", func(prov provisioning.Provisioner) []byte { // changes nothing, and answers with the tenant
		tn, err := prov.UpdateTenant(ctx, alice, gone.ID, provisioning.TenantPatch{}, provisioning.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		return []byte(tn.Email)
	})
	idem("config", func(prov provisioning.Provisioner) []byte {
		c, err := prov.ReplaceTenantConfig(ctx, alice, gone.ID, json.RawMessage(`{"owner":"Gone Person"}`), provisioning.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Config
	})
	idem("refused", func(prov provisioning.Provisioner) []byte { // a refusal kept for replay
		_, err := prov.UpdateTenant(ctx, alice, gone.ID, provisioning.TenantPatch{Email: provisioning.Value("bad")}, provisioning.Precondition{})
		return []byte(provisioning.ErrorMessage(err))
	})
	idem("delete", func(prov provisioning.Provisioner) []byte { // answers with the tenant pending deletion
		tn, err := prov.DeleteTenant(ctx, alice, gone.ID, provisioning.DeleteOptions{}, provisioning.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		return []byte(tn.CompanyName)
	})
	idem("bulk", func(prov provisioning.Provisioner) []byte {
		results, err := prov.CreateTenants(ctx, alice, []provisioning.TenantInput{input("Bulk One"), input("Bulk Two")}, false)
		if err != nil {
			t.Fatal(err)
		}
		bulkOther = results[1].Tenant
		return []byte(results[0].Tenant.CompanyName + results[1].Tenant.CompanyName)
	})
	idem("nothing", func(provisioning.Provisioner) []byte { return []byte("no tenant") })

	if err := svc.PurgeTenant(ctx, alice, gone.ID, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.PurgeTenant(ctx, alice, bulkOther.ID, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"create", "update", "config", "refused", "delete", "bulk"} {
		if answer, replayed := idem(key, func(provisioning.Provisioner) []byte { return []byte("afresh") }); replayed || answer != "afresh" {
			t.Errorf("the answer of %q outlived the purge of its tenant: %q", key, answer)
		}
	}
	for key, want := range map[string]string{"other": other.CompanyName, "nothing": "no tenant"} {
		if answer, replayed := idem(key, func(provisioning.Provisioner) []byte { return []byte("afresh") }); !replayed || answer != want {
			t.Errorf("the answer of %q went with another tenant's purge: %q, replayed %v", key, answer, replayed)
		}
	}
}

// testPurgeRace: workers on one or two stores purge due tenants while requests restore some
// and purge others at once. Every tenant ends either restored, with no purge event, or purged
// with exactly one.
func testPurgeRace(t *testing.T, h Harness, twoStores bool) {
	stores, svcs := replicas(t, h, twoStores)
	ctx := context.Background()
	const n = 24
	ids := make([]string, n)
	for i := range n {
		ids[i] = mustCreate(t, svcs[0], alice, input(fmt.Sprintf("Doomed %d", i))).ID
		mustDelete(t, svcs[0], alice, ids[i], time.Hour)
	}
	var mu sync.Mutex
	var unexpected []error
	fail := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		unexpected = append(unexpected, fmt.Errorf("%s: %w", what, err))
	}
	barrier.Run(5, func(g int) {
		svc := svcs[g%len(svcs)]
		switch g {
		case 0, 1, 2: // workers
			w := provisioning.NewWorker(stores[g%len(stores)], provisioning.WorkerOptions{Clock: func() time.Time { return due }})
			if err := w.RunOnce(ctx); err != nil {
				fail("worker", err)
			}
		case 3: // restores every other tenant, when it is still there
			for i := 0; i < n; i += 2 {
				if _, err := svc.RestoreTenant(ctx, alice, ids[i], provisioning.Precondition{}); err != nil && provisioning.ErrorCode(err) != provisioning.CodeNotFound {
					fail("restore", err)
				}
			}
		case 4: // purges every third at once
			for i := 0; i < n; i += 3 {
				if err := svc.PurgeTenant(ctx, alice, ids[i], provisioning.Precondition{}); err != nil && provisioning.ErrorCode(err) != provisioning.CodeNotFound {
					fail("purge", err)
				}
			}
		}
	})
	if len(unexpected) > 0 {
		t.Fatal(unexpected)
	}
	runWorker(t, stores[0], due) // whatever a restore that lost left due
	all, _ := allEvents(t, svcs[0], alice, provisioning.EventFilter{})
	purges := map[string]int{}
	for _, e := range all {
		if e.Type == provisioning.EventTenantDeleted {
			purges[e.TenantID]++
		}
	}
	for i, id := range ids {
		tn, err := svcs[0].GetTenant(ctx, alice, id)
		switch {
		case err == nil && (tn.Status != provisioning.StatusActive || purges[id] != 0):
			t.Errorf("tenant %d is there as %s after %d purges", i, tn.Status, purges[id])
		case err != nil && (provisioning.ErrorCode(err) != provisioning.CodeNotFound || purges[id] != 1):
			t.Errorf("tenant %d is gone (%v) after %d purges, want 1", i, err, purges[id])
		}
	}
	if live := listAll(t, svcs[0], alice, provisioning.TenantFilter{Status: provisioning.StatusPendingDeletion}); len(live) != 0 {
		t.Fatalf("still pending deletion: %v", names(live))
	}
}
