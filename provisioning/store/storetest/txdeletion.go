package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/provisioning"
)

// The Tx tests of deletion: tenants pending deletion as the store keeps them, the look-up of a
// name's holder, the claim and the purge of due tenants, and a tenant's events.

// pendingTenant returns a new tenant of the partner pending deletion until due, suspended
// before it was deleted.
func pendingTenant(partnerID, name string, due time.Time) *provisioning.InsertTenantParams {
	n := newTenant(partnerID, name, txTime)
	n.Tenant.Status, n.Tenant.StatusBeforeDeletion = provisioning.StatusPendingDeletion, provisioning.StatusSuspended
	n.Tenant.DeletionScheduledAt = due.UTC().Truncate(time.Millisecond)
	return n
}

// listed returns the company names of the partner's tenants that a listing with status finds.
func listed(t *testing.T, s provisioning.Store, partnerID string, status provisioning.Status) []string {
	t.Helper()
	ctx := context.Background()
	var ts []*provisioning.Tenant
	if err := s.Read(ctx, func(tx provisioning.Tx) (err error) {
		ts, err = tx.ListTenants(ctx, provisioning.TenantQuery{PartnerID: partnerID, Status: status, Limit: 100})
		return err
	}); err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	got := names(ts)
	slices.Sort(got)
	return got
}

// claimPurges claims due purges in a Write of s and returns the ids claimed.
func claimPurges(t *testing.T, s provisioning.Store, now time.Time, limit int) []string {
	t.Helper()
	var ids []string
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		ts, err := tx.ClaimTenantPurges(ctx, &provisioning.ClaimTenantPurgesParams{Now: now, Limit: limit})
		for _, tn := range ts {
			ids = append(ids, tn.ID)
		}
		return err
	})
	return ids
}

// lookUpKey says whether the partner's idempotency key has a live record.
func lookUpKey(t *testing.T, s provisioning.Store, partnerID, key string) bool {
	t.Helper()
	var rec *provisioning.IdempotencyRecord
	write(t, s, func(ctx context.Context, tx provisioning.Tx) (err error) {
		rec, _, err = tx.LockIdempotencyKey(ctx, &provisioning.LockIdempotencyKeyParams{PartnerID: partnerID, Key: key, Now: txTime})
		return err
	})
	return rec != nil
}

// testTxPendingDeletion: a tenant pending deletion is stored as given — its schedule and the
// status it had before — by InsertTenant and UpdateTenant; listings leave it out unless they
// ask for its status; it holds its names.
func testTxPendingDeletion(t *testing.T, h Harness) {
	s, _ := open(t, h)
	due := txTime.Add(30 * 24 * time.Hour)
	p := pendingTenant(alice.PartnerID, "Pending", due)
	p.Tenant.ExternalID = "crm-p"
	live := newTenant(alice.PartnerID, "Live", txTime)
	live.Tenant.Status = provisioning.StatusSuspended
	insert(t, s, p, live)
	got, err := get(s, alice.PartnerID, p.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, got, p.Tenant)
	for status, want := range map[provisioning.Status][]string{
		"":                                 {"Live"},
		provisioning.StatusSuspended:       {"Live"},
		provisioning.StatusActive:          nil,
		provisioning.StatusPendingDeletion: {"Pending"},
	} {
		if got := listed(t, s, alice.PartnerID, status); !slices.Equal(got, want) {
			t.Errorf("listing with status %q: %v, want %v", status, got, want)
		}
	}
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		wantExists(t, tx.InsertTenant(ctx, newTenant(alice.PartnerID, "PENDING", txTime)), p.Tenant.ID)
		other := newTenant(alice.PartnerID, "Other", txTime)
		other.Tenant.ExternalID = "crm-p"
		wantExists(t, tx.InsertTenant(ctx, other), p.Tenant.ID)
		return nil
	})
	// Restored: the status it had, no schedule.
	restored := p.Tenant.Clone()
	restored.Status, restored.StatusBeforeDeletion, restored.DeletionScheduledAt = provisioning.StatusSuspended, "", time.Time{}
	restored.Version, restored.UpdatedAt = 2, txTime.Add(time.Minute)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		return tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: restored, PrevVersion: 1})
	})
	got, _ = get(s, alice.PartnerID, p.Tenant.ID)
	equal(t, got, restored)
	// Deleted again, from active this time.
	active := restored.Clone()
	active.Status, active.Version = provisioning.StatusActive, 3
	again := active.Clone()
	again.Status, again.StatusBeforeDeletion, again.DeletionScheduledAt = provisioning.StatusPendingDeletion, provisioning.StatusActive, due.Add(time.Hour)
	again.Version = 4
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		if err := tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: active, PrevVersion: 2}); err != nil {
			return err
		}
		return tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: again, PrevVersion: 3})
	})
	got, _ = get(s, alice.PartnerID, p.Tenant.ID)
	equal(t, got, again)
	if got := listed(t, s, alice.PartnerID, provisioning.StatusActive); len(got) != 0 {
		t.Fatalf("listed as active: %v", got)
	}
}

// testTxFindTenant: FindTenant names the live holder — one pending deletion included — of a
// name key or an external id, the oldest when both are held, and nothing of another partner
// or of a purged tenant.
func testTxFindTenant(t *testing.T, h Harness) {
	s, _ := open(t, h)
	older := newTenant(alice.PartnerID, "Older", txTime)
	older.Tenant.ExternalID = "ext-old"
	newer := pendingTenant(alice.PartnerID, "Ｎｅｗｅｒ", txTime.Add(time.Hour))
	newer.Tenant.ExternalID = "ext-new"
	newer.Tenant.CreatedAt = txTime.Add(time.Second)
	gone := newTenant(alice.PartnerID, "Gone", txTime)
	gone.Tenant.ExternalID = "ext-gone"
	insert(t, s, older, newer, gone)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		return tx.PurgeTenant(ctx, &provisioning.PurgeTenantParams{PartnerID: alice.PartnerID, TenantID: gone.Tenant.ID})
	})
	find := func(p *provisioning.FindTenantParams) string {
		t.Helper()
		ctx := context.Background()
		var id string
		if err := s.Read(ctx, func(tx provisioning.Tx) (err error) { id, err = tx.FindTenant(ctx, p); return err }); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for _, c := range []struct {
		p    provisioning.FindTenantParams
		want string
	}{
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID, NameKey: provisioning.NameKey("NEWER")}, newer.Tenant.ID},
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID, ExternalID: "ext-new"}, newer.Tenant.ID},
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID, ExternalID: "ext-old"}, older.Tenant.ID},
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID, NameKey: provisioning.NameKey("newer"), ExternalID: "ext-old"}, older.Tenant.ID},
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID, NameKey: provisioning.NameKey("older"), ExternalID: "ext-new"}, older.Tenant.ID},
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID, NameKey: provisioning.NameKey("Gone"), ExternalID: "ext-gone"}, ""},
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID, NameKey: "nobody", ExternalID: "ext-none"}, ""},
		{provisioning.FindTenantParams{PartnerID: alice.PartnerID}, ""},
		{provisioning.FindTenantParams{PartnerID: bob.PartnerID, NameKey: provisioning.NameKey("Older"), ExternalID: "ext-old"}, ""},
	} {
		if got := find(&c.p); got != c.want {
			t.Errorf("FindTenant(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

// testTxClaimTenantPurges: the tenants pending deletion whose schedule has come, of every
// partner, the longest due first, at most the limit; live and restored tenants never.
func testTxClaimTenantPurges(t *testing.T, h Harness) {
	s, _ := open(t, h)
	base := txTime.Add(time.Hour)
	third, first, second := pendingTenant(alice.PartnerID, "Third", base.Add(2*time.Hour)),
		pendingTenant(alice.PartnerID, "First", base), pendingTenant(bob.PartnerID, "Second", base.Add(time.Hour))
	restored := pendingTenant(alice.PartnerID, "Restored", base)
	insert(t, s, third, first, second, restored, newTenant(alice.PartnerID, "Live", txTime))
	back := restored.Tenant.Clone()
	back.Status, back.StatusBeforeDeletion, back.DeletionScheduledAt, back.Version = provisioning.StatusActive, "", time.Time{}, 2
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		return tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: back, PrevVersion: 1})
	})
	for _, c := range []struct {
		now   time.Time
		limit int
		want  []string
	}{
		{base.Add(-time.Millisecond), 10, nil},
		{base, 10, []string{first.Tenant.ID}},
		{base.Add(time.Hour), 10, []string{first.Tenant.ID, second.Tenant.ID}},
		{base.Add(3 * time.Hour), 10, []string{first.Tenant.ID, second.Tenant.ID, third.Tenant.ID}},
		{base.Add(3 * time.Hour), 2, []string{first.Tenant.ID, second.Tenant.ID}},
	} {
		if got := claimPurges(t, s, c.now, c.limit); !slices.Equal(got, c.want) {
			t.Errorf("claim at %s, limit %d: %v, want %v", c.now.Sub(base), c.limit, got, c.want)
		}
	}
	ctx := context.Background()
	var claimed []*provisioning.Tenant
	write(t, s, func(ctx context.Context, tx provisioning.Tx) (err error) {
		claimed, err = tx.ClaimTenantPurges(ctx, &provisioning.ClaimTenantPurgesParams{Now: base, Limit: 1})
		return err
	})
	if len(claimed) != 1 {
		t.Fatalf("claimed %d", len(claimed))
	}
	equal(t, claimed[0], first.Tenant)
	if err := s.Write(ctx, func(tx provisioning.Tx) error {
		return tx.PurgeTenant(ctx, &provisioning.PurgeTenantParams{PartnerID: alice.PartnerID, TenantID: first.Tenant.ID})
	}); err != nil {
		t.Fatal(err)
	}
	if got := claimPurges(t, s, base.Add(3*time.Hour), 10); !slices.Equal(got, []string{second.Tenant.ID, third.Tenant.ID}) {
		t.Fatalf("claimed after a purge: %v", got)
	}
}

// testTxClaimTenantPurgesConcurrent: a tenant claimed by one transaction is not claimed by
// another until the first ends. Writer A claims one due tenant and holds it; writer B then
// claims one too. Where writers run concurrently B skips A's and gets the other at once; where
// writes are serialized B runs after A has purged its own. Either way each purges a different
// tenant, once.
func testTxClaimTenantPurgesConcurrent(t *testing.T, h Harness) {
	s, _ := open(t, h)
	x, y := pendingTenant(alice.PartnerID, "X", txTime), pendingTenant(alice.PartnerID, "Y", txTime.Add(time.Second))
	insert(t, s, x, y)
	now := txTime.Add(time.Hour)
	claimed, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var got [2]string
	var errs [2]error
	purgeOne := func(ctx context.Context, tx provisioning.Tx, i int) error {
		ts, err := tx.ClaimTenantPurges(ctx, &provisioning.ClaimTenantPurgesParams{Now: now, Limit: 1})
		if err != nil || len(ts) == 0 {
			return err
		}
		got[i] = ts[0].ID
		if i == 0 {
			once.Do(func() { close(claimed) })
			// Give B its chance to claim while A holds its tenant; where writes are
			// serialized B cannot start before A ends, and A goes on after a moment.
			select {
			case <-done:
			case <-time.After(500 * time.Millisecond):
			}
		}
		return tx.PurgeTenant(ctx, &provisioning.PurgeTenantParams{PartnerID: ts[0].PartnerID, TenantID: ts[0].ID})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer once.Do(func() { close(claimed) })
		ctx := context.Background()
		errs[0] = s.Write(ctx, func(tx provisioning.Tx) error { return purgeOne(ctx, tx, 0) })
	}()
	go func() {
		defer wg.Done()
		defer close(done)
		<-claimed
		ctx := context.Background()
		errs[1] = s.Write(ctx, func(tx provisioning.Tx) error { return purgeOne(ctx, tx, 1) })
	}()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if got[0] != x.Tenant.ID || got[1] != y.Tenant.ID {
		t.Fatalf("A claimed %q and B %q, want X (%s) and Y (%s)", got[0], got[1], x.Tenant.ID, y.Tenant.ID)
	}
	for _, id := range []string{x.Tenant.ID, y.Tenant.ID} {
		_, err := get(s, alice.PartnerID, id)
		wantCode(t, err, provisioning.CodeNotFound)
	}
}

// testTxPurgeTenant: a purge deletes the tenant and its configuration, forgets the partner's
// answers that name it, takes its data out of its stored events and their deliveries, and frees
// its names; another partner's tenant, an unknown one and a purged one are not found, which
// leaves the transaction usable.
func testTxPurgeTenant(t *testing.T, h Harness) {
	s, _ := open(t, h)
	n, other := newTenant(alice.PartnerID, "Purged", txTime), newTenant(alice.PartnerID, "Other", txTime)
	n.Tenant.ExternalID, n.Tenant.Metadata = "crm-purged", map[string]string{"owner": "someone"}
	n.Config.Config = json.RawMessage(`{"note":"purged"}`)
	hook := &provisioning.Webhook{ID: uuid.NewString(), PartnerID: alice.PartnerID, URL: "https://hooks.example/all",
		Secret: "whsec_c2VjcmV0", CreatedAt: txTime}
	record := func(partnerID, key string, tenants ...string) *provisioning.IdempotencyRecord {
		return &provisioning.IdempotencyRecord{PartnerID: partnerID, Key: key, Fingerprint: "fp", Response: []byte(key),
			CreatedAt: txTime, ExpiresAt: txTime.Add(provisioning.IdempotencyTTL), TenantIDs: tenants}
	}
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		if _, err := tx.InsertWebhook(ctx, &provisioning.InsertWebhookParams{Webhook: hook, Limit: 5}); err != nil {
			return err
		}
		for _, p := range []*provisioning.InsertTenantParams{n, other} {
			if err := tx.InsertTenant(ctx, p); err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, event(p.Tenant, provisioning.EventTenantCreated)); err != nil {
				return err
			}
		}
		for _, rec := range []*provisioning.IdempotencyRecord{record(alice.PartnerID, "names-it", n.Tenant.ID),
			record(alice.PartnerID, "names-both", other.Tenant.ID, n.Tenant.ID), record(alice.PartnerID, "names-other", other.Tenant.ID),
			record(alice.PartnerID, "names-none"), record(bob.PartnerID, "bobs", n.Tenant.ID)} {
			if err := tx.PutIdempotencyRecord(ctx, rec); err != nil {
				return err
			}
		}
		return nil
	})
	purge := func(partnerID, id string) *provisioning.PurgeTenantParams {
		return &provisioning.PurgeTenantParams{PartnerID: partnerID, TenantID: id}
	}
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		wantCode(t, tx.PurgeTenant(ctx, purge(bob.PartnerID, n.Tenant.ID)), provisioning.CodeNotFound)
		wantCode(t, tx.PurgeTenant(ctx, purge(alice.PartnerID, uuid.NewString())), provisioning.CodeNotFound)
		if err := tx.PurgeTenant(ctx, purge(alice.PartnerID, n.Tenant.ID)); err != nil {
			return err
		}
		wantCode(t, tx.PurgeTenant(ctx, purge(alice.PartnerID, n.Tenant.ID)), provisioning.CodeNotFound)
		_, err := tx.GetTenant(ctx, &provisioning.GetTenantParams{PartnerID: alice.PartnerID, ID: n.Tenant.ID, ForUpdate: true})
		wantCode(t, err, provisioning.CodeNotFound)
		_, err = tx.GetTenantConfig(ctx, &provisioning.GetTenantParams{PartnerID: alice.PartnerID, ID: n.Tenant.ID})
		wantCode(t, err, provisioning.CodeNotFound)
		again := newTenant(alice.PartnerID, "PURGED", txTime)
		again.Tenant.ExternalID = "crm-purged"
		return tx.InsertTenant(ctx, again) // its names are free, in the same transaction
	})
	if got := listed(t, s, alice.PartnerID, ""); !slices.Equal(got, []string{"Other", "PURGED"}) {
		t.Fatalf("stored %v, want Other and the new PURGED", got)
	}
	for _, e := range events(t, s, alice.PartnerID) {
		switch e.TenantID {
		case n.Tenant.ID:
			if e.Data != nil || e.Type != provisioning.EventTenantCreated || e.Actor != "storetest" {
				t.Errorf("the purged tenant's event: %+v", e)
			}
		case other.Tenant.ID:
			if e.Data == nil || e.Data.CompanyName != "Other" {
				t.Errorf("another tenant's event lost its data: %+v", e)
			}
		}
	}
	for _, j := range claim(t, s, txTime, 10) {
		if j.Event.TenantID == n.Tenant.ID && j.Event.Data != nil {
			t.Errorf("a delivery of the purged tenant's event carries it: %+v", j.Event.Data)
		}
	}
	for key, want := range map[string]bool{"names-it": false, "names-both": false, "names-other": true, "names-none": true} {
		if got := lookUpKey(t, s, alice.PartnerID, key); got != want {
			t.Errorf("answer %q kept: %v, want %v", key, got, want)
		}
	}
	if !lookUpKey(t, s, bob.PartnerID, "bobs") {
		t.Error("another partner's answer went with the purge")
	}
}

// testTxPurgeAppendedEvents: events the purging transaction appended for the tenant before the
// purge — not written yet — are written without its data; other tenants' keep theirs.
func testTxPurgeAppendedEvents(t *testing.T, h Harness) {
	s, _ := open(t, h)
	n, other := newTenant(alice.PartnerID, "Short Lived", txTime), newTenant(alice.PartnerID, "Other", txTime)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		for _, p := range []*provisioning.InsertTenantParams{n, other} {
			if err := tx.InsertTenant(ctx, p); err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, event(p.Tenant, provisioning.EventTenantCreated)); err != nil {
				return err
			}
		}
		changed := n.Tenant.Clone()
		changed.Industry, changed.Version = "Retail", 2
		if err := tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: changed, PrevVersion: 1}); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, event(changed, provisioning.EventTenantUpdated)); err != nil {
			return err
		}
		if err := tx.PurgeTenant(ctx, &provisioning.PurgeTenantParams{PartnerID: alice.PartnerID, TenantID: n.Tenant.ID}); err != nil {
			return err
		}
		purged := event(changed, provisioning.EventTenantDeleted)
		purged.Data = nil
		return tx.AppendEvent(ctx, purged)
	})
	evs := events(t, s, alice.PartnerID)
	var types []provisioning.EventType
	for _, e := range evs {
		switch e.TenantID {
		case n.Tenant.ID:
			types = append(types, e.Type)
			if e.Data != nil {
				t.Errorf("the purged tenant's %s event carries it: %+v", e.Type, e.Data)
			}
		case other.Tenant.ID:
			if e.Data == nil {
				t.Errorf("another tenant's event lost its data")
			}
		}
	}
	if !slices.Equal(types, []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantUpdated, provisioning.EventTenantDeleted}) {
		t.Fatalf("the purged tenant's events: %v", types)
	}
}

// testTxListTenantEvents: one tenant's events in Seq order, paged after one of them; a cursor
// that is not the tenant's event is not found; another partner sees none.
func testTxListTenantEvents(t *testing.T, h Harness) {
	s, _ := open(t, h)
	a, b := newTenant(alice.PartnerID, "A", txTime), newTenant(alice.PartnerID, "B", txTime)
	insert(t, s, a, b)
	for i := range 4 {
		write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
			for _, n := range []*provisioning.InsertTenantParams{a, b} {
				c := n.Tenant.Clone()
				c.Version = int64(i + 1)
				if err := tx.AppendEvent(ctx, event(c, provisioning.EventTenantUpdated)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	list := func(p *provisioning.ListTenantEventsParams) ([]*provisioning.Event, error) {
		ctx := context.Background()
		var evs []*provisioning.Event
		err := s.Read(ctx, func(tx provisioning.Tx) (err error) { evs, err = tx.ListTenantEvents(ctx, p); return err })
		return evs, err
	}
	all, err := list(&provisioning.ListTenantEventsParams{PartnerID: alice.PartnerID, TenantID: a.Tenant.ID, Limit: 100})
	if err != nil || len(all) != 4 {
		t.Fatalf("a's events: %d, %v", len(all), err)
	}
	for i, e := range all {
		if e.TenantID != a.Tenant.ID || e.Data == nil || e.Data.Version != int64(i+1) || (i > 0 && e.Seq <= all[i-1].Seq) {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	page, err := list(&provisioning.ListTenantEventsParams{PartnerID: alice.PartnerID, TenantID: a.Tenant.ID, AfterID: all[1].ID, Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID != all[2].ID {
		t.Fatalf("after the second: %+v, %v", page, err)
	}
	if rest, err := list(&provisioning.ListTenantEventsParams{PartnerID: alice.PartnerID, TenantID: a.Tenant.ID, AfterID: all[3].ID, Limit: 10}); err != nil || len(rest) != 0 {
		t.Fatalf("after the last: %d, %v", len(rest), err)
	}
	bs, _ := list(&provisioning.ListTenantEventsParams{PartnerID: alice.PartnerID, TenantID: b.Tenant.ID, Limit: 1})
	_, err = list(&provisioning.ListTenantEventsParams{PartnerID: alice.PartnerID, TenantID: a.Tenant.ID, AfterID: bs[0].ID, Limit: 10})
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = list(&provisioning.ListTenantEventsParams{PartnerID: bob.PartnerID, TenantID: a.Tenant.ID, AfterID: all[0].ID, Limit: 10})
	wantCode(t, err, provisioning.CodeNotFound)
	if evs, err := list(&provisioning.ListTenantEventsParams{PartnerID: bob.PartnerID, TenantID: a.Tenant.ID, Limit: 10}); err != nil || len(evs) != 0 {
		t.Fatalf("partner-b reads a's events: %d, %v", len(evs), err)
	}
}
