package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// ops is an operator: it sees every partner and manages the registry.
var ops = provisioning.Principal{PartnerID: "ops", Subject: "olga", Operator: true}

func intp(n int) *int { return &n }

func register(t *testing.T, svc *provisioning.Service, id string, maxTenants *int) *provisioning.Partner {
	t.Helper()
	pt, err := svc.CreatePartner(context.Background(), ops, provisioning.PartnerInput{ID: id, Name: "Partner " + id, MaxTenants: maxTenants})
	if err != nil {
		t.Fatalf("CreatePartner(%s): %v", id, err)
	}
	return pt
}

// feed returns every event of the feed f selects, as p sees it.
func feed(t *testing.T, svc *provisioning.Service, p provisioning.Principal, f provisioning.EventFilter) []*provisioning.Event {
	t.Helper()
	var all []*provisioning.Event
	for range 1000 {
		page, err := svc.ListEvents(context.Background(), p, f)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		all = append(all, page.Events...)
		if !page.HasMore {
			return all
		}
		f.After = page.NextCursor
	}
	t.Fatal("the feed does not end")
	return nil
}

// awaitFeed is feed once it holds at least n events: the feed of every partner may trail the
// commits while other transactions on the database run. It gives up after a generous deadline.
func awaitFeed(t *testing.T, svc *provisioning.Service, p provisioning.Principal, f provisioning.EventFilter, n int) []*provisioning.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs := feed(t, svc, p, f)
		if len(evs) >= n || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func types(evs []*provisioning.Event) []provisioning.EventType {
	out := make([]provisioning.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func testPartnerRegistry(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	acme := register(t, svc, "acme", intp(5))
	if acme.ID != "acme" || acme.Name != "Partner acme" || *acme.MaxTenants != 5 || acme.Status != provisioning.PartnerActive ||
		acme.CreatedAt.IsZero() || !acme.CreatedAt.Equal(acme.UpdatedAt) {
		t.Fatalf("registered partner: %+v", acme)
	}
	_, err := svc.CreatePartner(ctx, ops, provisioning.PartnerInput{ID: "acme", Name: "Again"})
	wantCode(t, err, provisioning.CodePartnerExists)
	_, err = svc.CreatePartner(ctx, ops, provisioning.PartnerInput{ID: " acme", Name: " ", MaxTenants: intp(-1)})
	wantFieldsOf(t, err, "id", "max_tenants", "name")
	_, err = svc.CreatePartner(ctx, alice, provisioning.PartnerInput{ID: "mine", Name: "Mine"})
	wantCode(t, err, provisioning.CodeForbidden)

	got, err := svc.GetPartner(ctx, ops, "acme")
	if err != nil || got.Name != acme.Name || *got.MaxTenants != 5 || !got.UpdatedAt.Equal(acme.UpdatedAt) {
		t.Fatalf("GetPartner: %+v, %v", got, err)
	}
	_, err = svc.GetPartner(ctx, ops, "never-registered")
	wantCode(t, err, provisioning.CodeNotFound)

	// An implicit partner is registered by the change that disables it.
	off, err := svc.UpdatePartner(ctx, ops, "implicit", provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerDisabled)})
	if err != nil || off.Name != "implicit" || off.Status != provisioning.PartnerDisabled || off.MaxTenants != nil {
		t.Fatalf("UpdatePartner of an implicit partner: %+v, %v", off, err)
	}
	evs := feed(t, svc, ops, provisioning.EventFilter{PartnerID: "implicit"})
	if want := []provisioning.EventType{provisioning.EventPartnerCreated, provisioning.EventPartnerDisabled}; !slices.Equal(types(evs), want) {
		t.Fatalf("events of the implicit partner: %v, want %v", types(evs), want)
	}
	if e := evs[1]; e.TenantID != "" || e.PartnerID != "implicit" || e.Actor != "olga" || e.Data != nil || e.APIKey != nil ||
		e.Partner == nil || e.Partner.Status != provisioning.PartnerDisabled || !e.Partner.UpdatedAt.Equal(off.UpdatedAt) {
		t.Fatalf("partner.disabled event: %+v (partner %+v)", e, e.Partner)
	}

	// A merge patch: null removes the limit; a patch that changes nothing changes nothing.
	up, err := svc.UpdatePartner(ctx, ops, "acme", provisioning.PartnerPatch{Name: provisioning.Value(" Acme Inc "),
		MaxTenants: provisioning.Null[int]()})
	if err != nil || up.Name != "Acme Inc" || up.MaxTenants != nil || up.Status != provisioning.PartnerActive {
		t.Fatalf("UpdatePartner: %+v, %v", up, err)
	}
	same, err := svc.UpdatePartner(ctx, ops, "acme", provisioning.PartnerPatch{Name: provisioning.Value("Acme Inc")})
	if err != nil || !same.UpdatedAt.Equal(up.UpdatedAt) {
		t.Fatalf("a patch that changes nothing: %+v, %v", same, err)
	}
	_, err = svc.UpdatePartner(ctx, ops, "acme", provisioning.PartnerPatch{Name: provisioning.Null[string](),
		MaxTenants: provisioning.Value(provisioning.MaxTenantsLimit + 1), Status: provisioning.Value(provisioning.PartnerStatus("gone"))})
	wantFieldsOf(t, err, "max_tenants", "name", "status")
	if got := types(feed(t, svc, ops, provisioning.EventFilter{PartnerID: "acme"})); !slices.Equal(got,
		[]provisioning.EventType{provisioning.EventPartnerCreated, provisioning.EventPartnerUpdated}) {
		t.Fatalf("acme's events: %v", got)
	}
	// A partner sees the events of its own registration.
	register(t, svc, alice.PartnerID, nil)
	if got := types(feed(t, svc, alice, provisioning.EventFilter{})); !slices.Equal(got, []provisioning.EventType{provisioning.EventPartnerCreated}) {
		t.Fatalf("partner-a's events: %v", got)
	}

	// The registry in id order, page by page.
	for _, id := range []string{"b-2", "b-1", "b-3"} {
		register(t, svc, id, nil)
	}
	var ids []string
	f := provisioning.PartnerFilter{Limit: 2}
	for range 10 {
		page, err := svc.ListPartners(ctx, ops, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range page.Partners {
			ids = append(ids, pt.ID)
		}
		if !page.HasMore {
			break
		}
		f.Cursor = page.NextCursor
	}
	if want := []string{"acme", "b-1", "b-2", "b-3", "implicit", "partner-a"}; !slices.Equal(ids, want) {
		t.Fatalf("registry: %v, want %v", ids, want)
	}
	_, err = svc.ListPartners(ctx, ops, provisioning.PartnerFilter{Cursor: "%%%", Limit: 500})
	wantFieldsOf(t, err, "cursor", "limit")
}

// wantFieldsOf checks a CodeInvalid error naming exactly the fields.
func wantFieldsOf(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantCode(t, err, provisioning.CodeInvalid)
	var got []string
	for f := range err.(*provisioning.Error).Fields {
		got = append(got, f)
	}
	slices.Sort(got)
	if !slices.Equal(got, fields) {
		t.Fatalf("invalid fields %v (%v), want %v", got, err, fields)
	}
}

func testQuota(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	register(t, svc, alice.PartnerID, intp(2))
	a := mustCreate(t, svc, alice, input("Quota 1"))
	mustCreate(t, svc, alice, input("Quota 2"))
	_, err := svc.CreateTenant(ctx, alice, input("Quota 3"))
	wantCode(t, err, provisioning.CodeQuotaExceeded)
	mustCreate(t, svc, bob, input("Unlimited")) // another partner, unregistered: no limit

	// A tenant pending deletion keeps its place (it may be restored); a purged one frees it.
	mustDelete(t, svc, alice, a.ID, 0)
	_, err = svc.CreateTenant(ctx, alice, input("Quota 3"))
	wantCode(t, err, provisioning.CodeQuotaExceeded)
	if err := svc.PurgeTenant(ctx, alice, a.ID, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, svc, alice, input("Quota 3"))

	// Bulk: each item on its own takes the room there is; atomic, all or none.
	if _, err := svc.UpdatePartner(ctx, ops, alice.PartnerID, provisioning.PartnerPatch{MaxTenants: provisioning.Value(3)}); err != nil {
		t.Fatal(err)
	}
	atomicRes, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("Atomic 1"), input("Atomic 2")}, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range atomicRes {
		wantCode(t, r.Err, provisioning.CodeQuotaExceeded)
		if r.Tenant != nil {
			t.Fatalf("atomic item %d created", i)
		}
	}
	res, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("Each 1"), input("Each 2"), input("Each 3")}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Fatalf("the first item: %v", res[0].Err)
	}
	wantCode(t, res[1].Err, provisioning.CodeQuotaExceeded)
	wantCode(t, res[2].Err, provisioning.CodeQuotaExceeded)
	if n := len(listAll(t, svc, alice, provisioning.TenantFilter{})); n != 3 {
		t.Fatalf("%d live tenants, want 3", n)
	}
	// Lowered below the count, the quota refuses every create; removed, none.
	if _, err := svc.UpdatePartner(ctx, ops, alice.PartnerID, provisioning.PartnerPatch{MaxTenants: provisioning.Value(0)}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.CreateTenant(ctx, alice, input("Zero"))
	wantCode(t, err, provisioning.CodeQuotaExceeded)
	if _, err := svc.UpdatePartner(ctx, ops, alice.PartnerID, provisioning.PartnerPatch{MaxTenants: provisioning.Null[int]()}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, svc, alice, input("No limit"))
}

// Concurrent creates — on two replicas too — never take a partner beyond its quota: exactly
// MaxTenants of them succeed.
func testQuotaRace(t *testing.T, h Harness, twoStores bool) {
	stores, svcs := replicas(t, h, twoStores)
	const limit, n = 5, 24
	register(t, svcs[0], alice.PartnerID, intp(limit))
	errs := make([]error, n)
	barrier.Run(n, func(i int) {
		if i%4 == 3 { // some as a bulk of one, through the atomic path
			var res []provisioning.BulkResult
			res, errs[i] = svcs[i%len(svcs)].CreateTenants(context.Background(), alice, []provisioning.TenantInput{input(fmt.Sprintf("Race %d", i))}, true)
			if errs[i] == nil {
				errs[i] = res[0].Err
			}
			return
		}
		_, errs[i] = svcs[i%len(svcs)].CreateTenant(context.Background(), alice, input(fmt.Sprintf("Race %d", i)))
	})
	created := 0
	for _, err := range errs {
		if err == nil {
			created++
			continue
		}
		wantCode(t, err, provisioning.CodeQuotaExceeded)
	}
	live := len(listAll(t, svcs[len(svcs)-1], alice, provisioning.TenantFilter{}))
	if created != limit || live != limit {
		t.Fatalf("%d of %d concurrent creates succeeded and %d tenants are live, want %d", created, n, live, limit)
	}
	// The store's contract itself: room for none is always there; for one more, not.
	err := stores[0].Write(context.Background(), func(tx provisioning.Tx) error {
		if err := tx.ReserveTenants(context.Background(), provisioning.ReserveTenantsParams{PartnerID: alice.PartnerID, Count: 0}); err != nil {
			return err
		}
		return tx.ReserveTenants(context.Background(), provisioning.ReserveTenantsParams{PartnerID: alice.PartnerID, Count: 1})
	})
	wantCode(t, err, provisioning.CodeQuotaExceeded)
}

func testAPIKeys(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	k, err := svc.CreateAPIKey(ctx, ops, alice.PartnerID, provisioning.APIKeyInput{Name: " CRM sync ",
		Permissions: []provisioning.Permission{provisioning.PermTenantRead, provisioning.PermTenantCreate, provisioning.PermTenantRead}, ExpiresAt: expires})
	if err != nil {
		t.Fatal(err)
	}
	if !provisioning.WellFormedAPIKey(k.Key) || k.Prefix != k.Key[:provisioning.APIKeyShownPrefix] || k.Name != "CRM sync" ||
		k.PartnerID != alice.PartnerID || k.Operator || !k.ExpiresAt.Equal(expires) || !k.LastUsedAt.IsZero() ||
		!slices.Equal(k.Permissions, []provisioning.Permission{provisioning.PermTenantCreate, provisioning.PermTenantRead}) {
		t.Fatalf("issued key: %+v", k)
	}
	find := func(key string) (*provisioning.APIKey, error) {
		var found *provisioning.APIKey
		err := s.Read(ctx, func(tx provisioning.Tx) (err error) {
			found, err = tx.FindAPIKey(ctx, provisioning.FindAPIKeyParams{Hash: provisioning.HashAPIKey(key)})
			return err
		})
		return found, err
	}
	found, err := find(k.Key)
	want := k.Clone()
	want.Key = ""
	if err != nil || renderKey(found) != renderKey(want) {
		t.Fatalf("FindAPIKey: %v\n got: %s\nwant: %s", err, renderKey(found), renderKey(want))
	}
	_, err = find(otherKey(k.Key))
	wantCode(t, err, provisioning.CodeNotFound)

	// last_used_at: written when it is older than NotBefore, else left alone.
	used := expires.Add(-30 * time.Minute)
	touch := func(at, notBefore time.Time) {
		t.Helper()
		err := s.Write(ctx, func(tx provisioning.Tx) error {
			return tx.TouchAPIKey(ctx, provisioning.TouchAPIKeyParams{ID: k.ID, At: at, NotBefore: notBefore})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	touch(used, used.Add(-time.Minute))
	touch(used.Add(30*time.Second), used.Add(-30*time.Second)) // used within the minute: not written
	if found, _ := find(k.Key); !found.LastUsedAt.Equal(used) {
		t.Fatalf("last used at %v, want %v", found.LastUsedAt, used)
	}

	ks, err := svc.ListAPIKeys(ctx, alice, alice.PartnerID)
	if err != nil || len(ks) != 1 || ks[0].ID != k.ID || ks[0].Key != "" || !ks[0].LastUsedAt.Equal(used) {
		t.Fatalf("ListAPIKeys: %+v, %v", ks, err)
	}
	_, err = svc.ListAPIKeys(ctx, bob, alice.PartnerID)
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, svc.RevokeAPIKey(ctx, bob, alice.PartnerID, k.ID), provisioning.CodeNotFound)
	wantCode(t, svc.RevokeAPIKey(ctx, bob, bob.PartnerID, k.ID), provisioning.CodeNotFound)

	// Refused inputs.
	_, err = svc.CreateAPIKey(ctx, alice, alice.PartnerID, provisioning.APIKeyInput{Name: "\u202e", ExpiresAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	wantFieldsOf(t, err, "expires_at", "name", "permissions")
	_, err = svc.CreateAPIKey(ctx, alice, alice.PartnerID, provisioning.APIKeyInput{Name: "x", Permissions: []provisioning.Permission{"tenant:everything"}})
	wantFieldsOf(t, err, "permissions")
	_, err = svc.CreateAPIKey(ctx, ops, alice.PartnerID, provisioning.APIKeyInput{Name: "x", Permissions: []provisioning.Permission{provisioning.PermPartnerManage}})
	wantFieldsOf(t, err, "permissions")
	_, err = svc.CreateAPIKey(ctx, alice, alice.PartnerID, provisioning.APIKeyInput{Name: "x", Operator: true})
	wantCode(t, err, provisioning.CodeForbidden)
	_, err = svc.CreateAPIKey(ctx, alice, bob.PartnerID, provisioning.APIKeyInput{Name: "x", Permissions: []provisioning.Permission{provisioning.PermTenantRead}})
	wantCode(t, err, provisioning.CodeNotFound)

	if err := svc.RevokeAPIKey(ctx, alice, alice.PartnerID, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = find(k.Key)
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, svc.RevokeAPIKey(ctx, alice, alice.PartnerID, k.ID), provisioning.CodeNotFound)

	// The audit trail: both changes, in the partner's feed, never with the key.
	evs := feed(t, svc, alice, provisioning.EventFilter{})
	if want := []provisioning.EventType{provisioning.EventAPIKeyCreated, provisioning.EventAPIKeyRevoked}; !slices.Equal(types(evs), want) {
		t.Fatalf("events: %v, want %v", types(evs), want)
	}
	for _, e := range evs {
		if e.APIKey == nil || e.APIKey.Key != "" || e.APIKey.ID != k.ID || e.APIKey.Prefix != k.Prefix || e.TenantID != "" ||
			e.PartnerID != alice.PartnerID || e.Data != nil || e.Partner != nil ||
			!slices.Equal(e.APIKey.Permissions, k.Permissions) || !e.APIKey.ExpiresAt.Equal(expires) {
			t.Fatalf("event %s: %+v (key %+v)", e.Type, e, e.APIKey)
		}
	}
	if evs[0].Actor != ops.Subject || evs[1].Actor != alice.Subject {
		t.Fatalf("actors: %q, %q", evs[0].Actor, evs[1].Actor)
	}

	// An operator key, without permissions of its own: it holds them all.
	opKey, err := svc.CreateAPIKey(ctx, ops, ops.PartnerID, provisioning.APIKeyInput{Name: "bootstrap", Operator: true})
	if err != nil || !opKey.Operator || !opKey.Principal().Operator || opKey.Principal().PartnerID != ops.PartnerID {
		t.Fatalf("operator key: %+v, %v", opKey, err)
	}
}

func renderKey(k *provisioning.APIKey) string {
	if k == nil {
		return "<nil>"
	}
	c := *k
	c.ExpiresAt, c.LastUsedAt, c.CreatedAt = c.ExpiresAt.UTC(), c.LastUsedAt.UTC(), c.CreatedAt.UTC()
	return fmt.Sprintf("%+v", c)
}

// Concurrent key inserts — on two replicas too — never leave a partner with more than the limit.
func testAPIKeyLimitRace(t *testing.T, h Harness, twoStores bool) {
	stores, _ := replicas(t, h, twoStores)
	const limit, n = 3, 12
	inserted := make([]bool, n)
	errs := make([]error, n)
	barrier.Run(n, func(i int) {
		ctx := context.Background()
		k := &provisioning.APIKey{ID: uuid.NewString(), PartnerID: alice.PartnerID, Name: "k", Prefix: "pk_aaaaaaaa",
			Permissions: []provisioning.Permission{provisioning.PermTenantRead}, CreatedAt: time.Now()}
		errs[i] = stores[i%len(stores)].Write(ctx, func(tx provisioning.Tx) (err error) {
			inserted[i], err = tx.InsertAPIKey(ctx, provisioning.InsertAPIKeyParams{Key: k, Hash: provisioning.HashAPIKey(k.ID), Limit: limit})
			return err
		})
	})
	count := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("InsertAPIKey: %v", errs[i])
		}
		if inserted[i] {
			count++
		}
	}
	var ks []*provisioning.APIKey
	err := stores[0].Read(context.Background(), func(tx provisioning.Tx) (err error) {
		ks, err = tx.ListAPIKeys(context.Background(), provisioning.ListAPIKeysParams{PartnerID: alice.PartnerID})
		return err
	})
	if count != limit || err != nil || len(ks) != limit {
		t.Fatalf("%d of %d concurrent inserts succeeded, %d keys stored (%v), want %d", count, n, len(ks), err, limit)
	}
}

// An operator sees and changes every partner's tenants; a partner's principal only its own,
// and may not name a partner.
func testOperatorScope(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	a := mustCreate(t, svc, alice, input("Alpha"))
	b := mustCreate(t, svc, bob, input("Bravo"))
	if got := names(listAll(t, svc, ops, provisioning.TenantFilter{Limit: 1})); !slices.Equal(got, []string{"Bravo", "Alpha"}) {
		t.Fatalf("an operator's listing: %v", got)
	}
	if got := names(listAll(t, svc, ops, provisioning.TenantFilter{PartnerID: bob.PartnerID})); !slices.Equal(got, []string{"Bravo"}) {
		t.Fatalf("an operator's listing of partner-b: %v", got)
	}
	if got := names(listAll(t, svc, ops, provisioning.TenantFilter{PartnerID: "nobody-here"})); len(got) != 0 {
		t.Fatalf("an operator's listing of an unknown partner: %v", got)
	}
	_, err := svc.ListTenants(ctx, alice, provisioning.TenantFilter{PartnerID: alice.PartnerID})
	wantCode(t, err, provisioning.CodeForbidden)
	_, err = svc.ListTenants(ctx, ops, provisioning.TenantFilter{PartnerID: "bad\x00id"})
	wantFieldsOf(t, err, "partner_id")
	_, err = svc.ListEvents(ctx, bob, provisioning.EventFilter{PartnerID: alice.PartnerID})
	wantCode(t, err, provisioning.CodeForbidden)

	got, err := svc.GetTenant(ctx, ops, b.ID)
	if err != nil || got.PartnerID != bob.PartnerID {
		t.Fatalf("an operator's GetTenant: %+v, %v", got, err)
	}
	_, err = svc.GetTenant(ctx, alice, b.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	up, err := svc.UpdateTenant(ctx, ops, b.ID, provisioning.TenantPatch{Industry: provisioning.Value("Audited")}, provisioning.Precondition{IfVersion: 1})
	if err != nil || up.PartnerID != bob.PartnerID || up.Industry != "Audited" || up.Version != 2 {
		t.Fatalf("an operator's UpdateTenant: %+v, %v", up, err)
	}
	if _, err := svc.UpdateTenantConfig(ctx, ops, b.ID, []byte(`{"tier":"gold"}`), provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if c, err := svc.GetTenantConfig(ctx, ops, b.ID); err != nil || string(c.Config) != `{"tier":"gold"}` {
		t.Fatalf("an operator's GetTenantConfig: %+v, %v", c, err)
	}
	// The operator's changes are the partner's events, with the operator as the actor.
	bobs := feed(t, svc, bob, provisioning.EventFilter{})
	if len(bobs) != 3 || bobs[1].Type != provisioning.EventTenantUpdated || bobs[1].Actor != ops.Subject || bobs[1].PartnerID != bob.PartnerID {
		t.Fatalf("partner-b's events: %v", types(bobs))
	}
	all := awaitFeed(t, svc, ops, provisioning.EventFilter{Limit: 1}, 4)
	if len(all) != 4 {
		t.Fatalf("an operator's feed has %d events, want 4", len(all))
	}
	if only := feed(t, svc, ops, provisioning.EventFilter{PartnerID: alice.PartnerID}); len(only) != 1 || only[0].TenantID != a.ID {
		t.Fatalf("an operator's feed of partner-a: %v", types(only))
	}
	// A cursor of the operator's feed may name any partner's event; a partner's, only its own.
	page, err := svc.ListEvents(ctx, ops, provisioning.EventFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := svc.ListEvents(ctx, ops, provisioning.EventFilter{After: page.NextCursor})
	if err != nil || len(rest.Events) != 1 || rest.Events[0].ID != all[3].ID {
		t.Fatalf("the operator's feed after a cursor: %v, %v", rest, err)
	}
	_, err = svc.ListEvents(ctx, alice, provisioning.EventFilter{After: page.NextCursor}) // partner-b's event
	wantFieldsOf(t, err, "after")

	if del, err := svc.DeleteTenant(ctx, ops, a.ID, provisioning.DeleteOptions{}, provisioning.Precondition{}); err != nil ||
		del.PartnerID != alice.PartnerID {
		t.Fatalf("an operator's deletion: %+v, %v", del, err)
	}
	err = s.Read(ctx, func(tx provisioning.Tx) error {
		if p, err := tx.TenantPartner(ctx, provisioning.TenantPartnerParams{TenantID: a.ID}); err != nil || p != alice.PartnerID {
			t.Errorf("TenantPartner of a tenant pending deletion: %q, %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PurgeTenant(ctx, ops, a.ID, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	err = s.Read(ctx, func(tx provisioning.Tx) error {
		if p, err := tx.TenantPartner(ctx, provisioning.TenantPartnerParams{TenantID: b.ID}); err != nil || p != bob.PartnerID {
			t.Errorf("TenantPartner: %q, %v", p, err)
		}
		_, err := tx.TenantPartner(ctx, provisioning.TenantPartnerParams{TenantID: a.ID}) // purged
		return err
	})
	wantCode(t, err, provisioning.CodeNotFound)
}

// An operator polling every partner's feed while several partners' tenants are created — on
// two replicas too — sees each event exactly once: the feed never skips an event that commits
// after the reader passed its place.
func testAllPartnersFeedUnderConcurrentWrites(t *testing.T, h Harness, twoStores bool) {
	_, svcs := replicas(t, h, twoStores)
	followFeedWhileWriting(t, svcs, ops, func(w int) provisioning.Principal {
		return provisioning.Principal{PartnerID: fmt.Sprintf("feed-%d", w%4), Subject: "writer"}
	}, 12)
}

// A disabled partner's principals are refused at once by the Service that disabled it and, on
// another replica, once its cache of statuses lets go (at once here: no cache); operators never.
func testPartnerDisabled(t *testing.T, h Harness, twoStores bool) {
	stores, svcs := replicas(t, h, twoStores)
	ctx := context.Background()
	other := provisioning.New(stores[len(stores)-1], allowAll{}, provisioning.WithPartnerStatusTTL(0))
	tn := mustCreate(t, svcs[0], alice, input("Before"))
	if _, err := svcs[0].UpdatePartner(ctx, ops, alice.PartnerID, provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerDisabled)}); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*provisioning.Service{svcs[0], other} {
		_, err := svc.GetTenant(ctx, alice, tn.ID)
		wantCode(t, err, provisioning.CodePartnerDisabled)
		_, err = svc.CreateTenant(ctx, alice, input("After"))
		wantCode(t, err, provisioning.CodePartnerDisabled)
		_, err = svc.ListWebhooks(ctx, alice)
		wantCode(t, err, provisioning.CodePartnerDisabled)
		if _, err := svc.GetTenant(ctx, ops, tn.ID); err != nil {
			t.Fatalf("an operator is refused: %v", err)
		}
		mustCreate(t, svc, bob, input(fmt.Sprintf("Bob %p", svc)))
	}
	if _, err := svcs[0].UpdatePartner(ctx, ops, alice.PartnerID, provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerActive)}); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*provisioning.Service{svcs[0], other} {
		if _, err := svc.GetTenant(ctx, alice, tn.ID); err != nil {
			t.Fatalf("enabled again: %v", err)
		}
	}
	evs := feed(t, svcs[0], ops, provisioning.EventFilter{PartnerID: alice.PartnerID})
	if got := strings.Join(strings.Fields(fmt.Sprint(types(evs))), " "); got != "[tenant.created partner.created partner.disabled partner.enabled]" {
		t.Fatalf("events: %s", got)
	}
}

// A partner's webhooks may subscribe to the events of its registry entry and of its API keys:
// each such event is queued for them in its own transaction, like a tenant's.
func testPartnerEventsReachWebhooks(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	w, err := svc.CreateWebhook(ctx, alice, provisioning.WebhookInput{URL: "https://hooks.example/partner",
		Events: []provisioning.EventType{provisioning.EventPartnerDisabled, provisioning.EventAPIKeyCreated}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdatePartner(ctx, ops, alice.PartnerID, provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerDisabled)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdatePartner(ctx, ops, alice.PartnerID, provisioning.PartnerPatch{Status: provisioning.Value(provisioning.PartnerActive)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAPIKey(ctx, ops, alice.PartnerID, provisioning.APIKeyInput{Name: "k", Permissions: []provisioning.Permission{provisioning.PermTenantRead}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAPIKey(ctx, ops, bob.PartnerID, provisioning.APIKeyInput{Name: "k", Permissions: []provisioning.Permission{provisioning.PermTenantRead}}); err != nil {
		t.Fatal(err)
	}
	ds, err := svc.ListDeliveries(ctx, alice, w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []provisioning.EventType
	for _, d := range ds {
		got = append(got, d.EventType)
	}
	slices.Sort(got)
	if want := []provisioning.EventType{provisioning.EventAPIKeyCreated, provisioning.EventPartnerDisabled}; !slices.Equal(got, want) {
		t.Fatalf("deliveries queued: %v, want %v", got, want)
	}
	// The worker's claim reads each event back with its partner or its key.
	var jobs []*provisioning.DeliveryJob
	far := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	err = s.Write(ctx, func(tx provisioning.Tx) (err error) {
		jobs, err = tx.ClaimDeliveries(ctx, &provisioning.ClaimDeliveriesParams{Now: far, LeaseUntil: far.Add(time.Minute), Limit: 10})
		return err
	})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("claimed %d deliveries: %v", len(jobs), err)
	}
	for _, j := range jobs {
		e := j.Event
		if e == nil || e.TenantID != "" || e.Data != nil || (e.Type == provisioning.EventPartnerDisabled) != (e.Partner != nil) ||
			(e.Type == provisioning.EventAPIKeyCreated) != (e.APIKey != nil) || (e.APIKey != nil && e.APIKey.Key != "") {
			t.Fatalf("claimed event: %+v", e)
		}
	}
}

// otherKey returns a well-formed key that differs from key in its last character.
func otherKey(key string) string {
	last := "A"
	if strings.HasSuffix(key, last) {
		last = "B"
	}
	return key[:len(key)-1] + last
}
