package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// The Tx tests call the methods of provisioning.Tx themselves, as River's driver suite calls its
// driver: a store bug shows here as a store bug, not as a Service one. Each subtest opens a
// fresh store.

// runTx runs the tests of the Tx contract.
func runTx(t *testing.T, h Harness) {
	t.Run("InsertTenant", func(t *testing.T) { testTxInsertTenant(t, h) })
	t.Run("InsertTenantConflictNamesHolderAndTxGoesOn", func(t *testing.T) { testTxInsertConflict(t, h) })
	t.Run("InsertTenantRefusedTxGoesOn", func(t *testing.T) { testTxInsertRefused(t, h) })
	t.Run("InsertTenantsAllOrNone", func(t *testing.T) { testTxInsertTenants(t, h) })
	t.Run("GetTenantNotFound", func(t *testing.T) { testTxGetTenantNotFound(t, h) })
	t.Run("GetTenantForUpdateLocks", func(t *testing.T) { testTxForUpdate(t, h) })
	t.Run("UpdateTenant", func(t *testing.T) { testTxUpdateTenant(t, h) })
	t.Run("PendingDeletionStoredAsGiven", func(t *testing.T) { testTxPendingDeletion(t, h) })
	t.Run("FindTenant", func(t *testing.T) { testTxFindTenant(t, h) })
	t.Run("ClaimTenantPurges", func(t *testing.T) { testTxClaimTenantPurges(t, h) })
	t.Run("ClaimTenantPurgesSkipsClaimed", func(t *testing.T) { testTxClaimTenantPurgesConcurrent(t, h) })
	t.Run("PurgeTenant", func(t *testing.T) { testTxPurgeTenant(t, h) })
	t.Run("PurgeTenantRedactsAppendedEvents", func(t *testing.T) { testTxPurgeAppendedEvents(t, h) })
	t.Run("ListTenantEvents", func(t *testing.T) { testTxListTenantEvents(t, h) })
	t.Run("UpdateTenantConfig", func(t *testing.T) { testTxUpdateTenantConfig(t, h) })
	t.Run("AppendEventAtCommit", func(t *testing.T) { testTxAppendEventAtCommit(t, h) })
	t.Run("AppendEventQueuesDeliveries", func(t *testing.T) { testTxAppendEventDeliveries(t, h) })
	t.Run("AppendEventInAnyOrder", func(t *testing.T) { testTxAppendEventInAnyOrder(t, h) })
	t.Run("Webhooks", func(t *testing.T) { testTxWebhooks(t, h) })
	t.Run("ServiceWithTx", func(t *testing.T) { testServiceWithTx(t, h) })
	t.Run("Steps", func(t *testing.T) { testSteps(t, h) })
	t.Run("StepLeaseExpiry", func(t *testing.T) { testStepLeaseExpiry(t, h) })
	t.Run("StepRequeueFromTheMiddle", func(t *testing.T) { testStepRequeueFromTheMiddle(t, h) })
	t.Run("StepsOfDeletedTenants", func(t *testing.T) { testStepsOfDeletedTenants(t, h) })
	t.Run("StepNamesAreMatchedExactly", func(t *testing.T) { testStepNamesAreMatchedExactly(t, h) })
	t.Run("WebhookOperations", func(t *testing.T) { testWebhookOperations(t, h) })
	t.Run("ServiceWithTxDeletion", func(t *testing.T) { testServiceWithTxDeletion(t, h) })
}

// txTime is the time of the Tx tests' records.
var txTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newTenant returns a valid new tenant of the partner, created at at, with its configuration.
func newTenant(partnerID, name string, at time.Time) *provisioning.InsertTenantParams {
	at = at.UTC().Truncate(time.Millisecond)
	t := &provisioning.Tenant{ID: uuid.NewString(), PartnerID: partnerID, CompanyName: name, Email: "admin@example.com",
		Status: provisioning.StatusActive, Version: 1, CreatedAt: at, UpdatedAt: at, Provisioning: provisioning.NewProvisioning(nil)}
	return &provisioning.InsertTenantParams{Tenant: t,
		Config: &provisioning.TenantConfig{TenantID: t.ID, Config: json.RawMessage(`{}`), Version: 1, UpdatedAt: at}}
}

// event returns an event of type typ about t.
func event(t *provisioning.Tenant, typ provisioning.EventType) *provisioning.Event {
	return &provisioning.Event{ID: uuid.NewString(), Type: typ, TenantID: t.ID, PartnerID: t.PartnerID,
		Actor: "storetest", CreatedAt: t.UpdatedAt, Data: t.Clone()}
}

// write runs fn in a Write of s, failing the test when the Write fails.
func write(t *testing.T, s provisioning.Store, fn func(ctx context.Context, tx provisioning.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Write(ctx, func(tx provisioning.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// insert stores tenants, each in a Write of its own.
func insert(t *testing.T, s provisioning.Store, ps ...*provisioning.InsertTenantParams) {
	t.Helper()
	for _, p := range ps {
		write(t, s, func(ctx context.Context, tx provisioning.Tx) error { return tx.InsertTenant(ctx, p) })
	}
}

// get reads a tenant in a Read of s.
func get(s provisioning.Store, partnerID, id string) (tn *provisioning.Tenant, err error) {
	ctx := context.Background()
	err = s.Read(ctx, func(tx provisioning.Tx) error {
		tn, err = tx.GetTenant(ctx, &provisioning.GetTenantParams{PartnerID: partnerID, ID: id})
		return err
	})
	return tn, err
}

// stored returns the company names of the partner's live tenants, newest first.
func stored(t *testing.T, s provisioning.Store, partnerID string) []string {
	t.Helper()
	ctx := context.Background()
	var ts []*provisioning.Tenant
	if err := s.Read(ctx, func(tx provisioning.Tx) (err error) {
		ts, err = tx.ListTenants(ctx, provisioning.TenantQuery{PartnerID: partnerID, Limit: 100})
		return err
	}); err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	return names(ts)
}

// events returns the partner's stored events, oldest first.
func events(t *testing.T, s provisioning.Store, partnerID string) []*provisioning.Event {
	t.Helper()
	ctx := context.Background()
	var evs []*provisioning.Event
	if err := s.Read(ctx, func(tx provisioning.Tx) (err error) {
		evs, err = tx.ListEvents(ctx, provisioning.EventQuery{PartnerID: partnerID, Limit: 100})
		return err
	}); err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	return evs
}

// testTxInsertTenant: a tenant and its configuration are stored as given, for their partner only.
func testTxInsertTenant(t *testing.T, h Harness) {
	s, _ := open(t, h)
	n := newTenant(alice.PartnerID, "Inserted", txTime)
	n.Tenant.PhoneNumber, n.Tenant.Industry, n.Tenant.ExternalID = "+4930123", "Retail", "crm-1"
	n.Tenant.Metadata = map[string]string{"plan": "gold"}
	n.Config.Config = json.RawMessage(`{"a":[1,2]}`)
	insert(t, s, n)
	got, err := get(s, alice.PartnerID, n.Tenant.ID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	equal(t, got, n.Tenant)
	ctx := context.Background()
	var c *provisioning.TenantConfig
	if err := s.Read(ctx, func(tx provisioning.Tx) (err error) {
		c, err = tx.GetTenantConfig(ctx, &provisioning.GetTenantParams{PartnerID: alice.PartnerID, ID: n.Tenant.ID})
		return err
	}); err != nil || string(c.Config) != `{"a":[1,2]}` || c.Version != 1 || !c.UpdatedAt.Equal(txTime) {
		t.Fatalf("GetTenantConfig: %+v, %v", c, err)
	}
	_, err = get(s, bob.PartnerID, n.Tenant.ID)
	wantCode(t, err, provisioning.CodeNotFound)
}

// testTxInsertConflict: a conflict names the live tenant that holds the name key or external
// id, leaves nothing of the failed insert, and the transaction goes on and commits.
func testTxInsertConflict(t *testing.T, h Harness) {
	s, _ := open(t, h)
	first := newTenant(alice.PartnerID, "Acme Ünlimited", txTime)
	first.Tenant.ExternalID = "crm-1"
	insert(t, s, first)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		sameName := newTenant(alice.PartnerID, "ACME ünlimited", txTime)
		wantExists(t, tx.InsertTenant(ctx, sameName), first.Tenant.ID)
		sameExternal := newTenant(alice.PartnerID, "Other", txTime)
		sameExternal.Tenant.ExternalID = "crm-1"
		wantExists(t, tx.InsertTenant(ctx, sameExternal), first.Tenant.ID)
		// The holder may be the transaction's own.
		mine := newTenant(alice.PartnerID, "Mine", txTime)
		if err := tx.InsertTenant(ctx, mine); err != nil {
			return err
		}
		wantExists(t, tx.InsertTenant(ctx, newTenant(alice.PartnerID, "mine", txTime)), mine.Tenant.ID)
		if err := tx.InsertTenant(ctx, newTenant(bob.PartnerID, "Acme Ünlimited", txTime)); err != nil {
			return fmt.Errorf("another partner's tenant of the same name: %w", err)
		}
		return tx.InsertTenant(ctx, newTenant(alice.PartnerID, "After", txTime))
	})
	got := stored(t, s, alice.PartnerID)
	slices.Sort(got)
	if !slices.Equal(got, []string{"Acme Ünlimited", "After", "Mine"}) {
		t.Fatalf("stored %v, want Acme Ünlimited, After and Mine", got)
	}
}

// testTxInsertRefused: an insert the database refuses (not a conflict) fails alone: the
// transaction goes on and commits the rest.
func testTxInsertRefused(t *testing.T, h Harness) {
	if h.RefuseTenant == nil {
		t.Skip("the harness cannot make its store refuse a tenant")
	}
	const refused = "Refused Inc"
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	s = h.RefuseTenant(t, s, refused)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		if err := tx.InsertTenant(ctx, newTenant(alice.PartnerID, refused, txTime)); err == nil {
			t.Error("the refused tenant was inserted")
		}
		_, err := tx.InsertTenants(ctx, []*provisioning.InsertTenantParams{newTenant(alice.PartnerID, "Batch", txTime),
			newTenant(alice.PartnerID, refused, txTime)})
		if err == nil {
			t.Error("a batch with the refused tenant was inserted")
		}
		return tx.InsertTenant(ctx, newTenant(alice.PartnerID, "Accepted", txTime))
	})
	if got := stored(t, s, alice.PartnerID); !slices.Equal(got, []string{"Accepted"}) {
		t.Fatalf("stored %v, want Accepted alone", got)
	}
}

// testTxInsertTenants: a batch is stored whole or not at all; a failed batch names its failing
// item and leaves the transaction usable.
func testTxInsertTenants(t *testing.T, h Harness) {
	s, _ := open(t, h)
	holder := newTenant(alice.PartnerID, "Holder", txTime)
	insert(t, s, holder)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		failed, err := tx.InsertTenants(ctx, []*provisioning.InsertTenantParams{newTenant(alice.PartnerID, "X", txTime),
			newTenant(alice.PartnerID, "Y", txTime)})
		if failed != -1 || err != nil {
			return fmt.Errorf("a batch without conflict: item %d failed: %w", failed, err)
		}
		failed, err = tx.InsertTenants(ctx, []*provisioning.InsertTenantParams{newTenant(alice.PartnerID, "Z", txTime),
			newTenant(alice.PartnerID, "HOLDER", txTime), newTenant(alice.PartnerID, "W", txTime)})
		if failed != 1 {
			t.Errorf("the batch's item %d failed, want 1", failed)
		}
		wantExists(t, err, holder.Tenant.ID)
		return tx.InsertTenant(ctx, newTenant(alice.PartnerID, "V", txTime))
	})
	got := stored(t, s, alice.PartnerID)
	slices.Sort(got)
	if !slices.Equal(got, []string{"Holder", "V", "X", "Y"}) {
		t.Fatalf("stored %v, want Holder, V, X and Y", got)
	}
}

// testTxGetTenantNotFound: an unknown id, another partner's tenant and a purged one are alike.
func testTxGetTenantNotFound(t *testing.T, h Harness) {
	s, _ := open(t, h)
	n, gone := newTenant(alice.PartnerID, "Here", txTime), newTenant(alice.PartnerID, "Gone", txTime)
	insert(t, s, n, gone)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		return tx.PurgeTenant(ctx, &provisioning.PurgeTenantParams{PartnerID: alice.PartnerID, TenantID: gone.Tenant.ID})
	})
	for name, key := range map[string][2]string{
		"unknown id":        {alice.PartnerID, uuid.NewString()},
		"another partner's": {bob.PartnerID, n.Tenant.ID},
		"purged":            {alice.PartnerID, gone.Tenant.ID},
	} {
		if _, err := get(s, key[0], key[1]); provisioning.ErrorCode(err) != provisioning.CodeNotFound {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
}

// testTxForUpdate: a tenant read ForUpdate stays locked until the transaction ends, so that
// concurrent read-modify-writes of it all succeed, one after the other, and lose nothing.
func testTxForUpdate(t *testing.T, h Harness) {
	s, _ := open(t, h)
	n := newTenant(alice.PartnerID, "Contended", txTime)
	insert(t, s, n)
	const writers = 8
	errs := make([]error, writers)
	barrier.Run(writers, func(i int) {
		ctx := context.Background()
		errs[i] = s.Write(ctx, func(tx provisioning.Tx) error {
			cur, err := tx.GetTenant(ctx, &provisioning.GetTenantParams{PartnerID: alice.PartnerID, ID: n.Tenant.ID, ForUpdate: true})
			if err != nil {
				return err
			}
			next := cur.Clone()
			next.Version++
			next.Metadata = map[string]string{}
			for k, v := range cur.Metadata {
				next.Metadata[k] = v
			}
			next.Metadata[fmt.Sprintf("w%d", i)] = "x"
			return tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: next, PrevVersion: cur.Version})
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	got, err := get(s, alice.PartnerID, n.Tenant.ID)
	if err != nil || got.Version != writers+1 || len(got.Metadata) != writers {
		t.Fatalf("after %d writers: %+v, %v; want version %d with every writer's key", writers, got, err, writers+1)
	}
}

// testTxUpdateTenant: an update is stored when the version matches; otherwise it changes nothing
// and says why, and a conflict leaves the transaction usable.
func testTxUpdateTenant(t *testing.T, h Harness) {
	s, _ := open(t, h)
	holder, n := newTenant(alice.PartnerID, "Holder", txTime), newTenant(alice.PartnerID, "Target", txTime)
	insert(t, s, holder, n)
	update := func(ctx context.Context, tx provisioning.Tx, name string, prev int64) (*provisioning.Tenant, error) {
		next := n.Tenant.Clone()
		next.CompanyName, next.Version, next.UpdatedAt = name, prev+1, txTime.Add(time.Duration(prev)*time.Second)
		return next, tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: next, PrevVersion: prev})
	}
	var renamed *provisioning.Tenant
	write(t, s, func(ctx context.Context, tx provisioning.Tx) (err error) {
		_, err = update(ctx, tx, "Stale", 7)
		wantCode(t, err, provisioning.CodePrecondition)
		_, err = update(ctx, tx, "HOLDER", 1)
		wantExists(t, err, holder.Tenant.ID)
		renamed, err = update(ctx, tx, "Renamed", 1)
		return err
	})
	got, err := get(s, alice.PartnerID, n.Tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, got, renamed)
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		missing := renamed.Clone()
		missing.ID = uuid.NewString()
		err := tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: missing, PrevVersion: 2})
		wantCode(t, err, provisioning.CodeNotFound)
		return nil
	})
}

// testTxUpdateTenantConfig: a configuration is replaced when its version matches; it is read
// only until its tenant is purged.
func testTxUpdateTenantConfig(t *testing.T, h Harness) {
	s, _ := open(t, h)
	n := newTenant(alice.PartnerID, "Configured", txTime)
	insert(t, s, n)
	key := &provisioning.GetTenantParams{PartnerID: alice.PartnerID, ID: n.Tenant.ID}
	put := func(config string, version, prev int64) *provisioning.UpdateTenantConfigParams {
		return &provisioning.UpdateTenantConfigParams{PartnerID: alice.PartnerID, PrevVersion: prev,
			Config: &provisioning.TenantConfig{TenantID: n.Tenant.ID, Config: json.RawMessage(config), Version: version, UpdatedAt: txTime}}
	}
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		wantCode(t, tx.UpdateTenantConfig(ctx, put(`{"stale":true}`, 3, 2)), provisioning.CodePrecondition)
		missing := put(`{}`, 2, 1)
		missing.Config.TenantID = uuid.NewString()
		wantCode(t, tx.UpdateTenantConfig(ctx, missing), provisioning.CodeNotFound)
		other := put(`{}`, 2, 1)
		other.PartnerID = bob.PartnerID
		wantCode(t, tx.UpdateTenantConfig(ctx, other), provisioning.CodeNotFound)
		if err := tx.UpdateTenantConfig(ctx, put(`{"k":"v"}`, 2, 1)); err != nil {
			return err
		}
		c, err := tx.GetTenantConfig(ctx, &provisioning.GetTenantParams{PartnerID: alice.PartnerID, ID: n.Tenant.ID, ForUpdate: true})
		if err != nil || string(c.Config) != `{"k":"v"}` || c.Version != 2 {
			t.Errorf("the configuration in its transaction: %+v, %v", c, err)
		}
		return tx.PurgeTenant(ctx, &provisioning.PurgeTenantParams{PartnerID: alice.PartnerID, TenantID: n.Tenant.ID})
	})
	ctx := context.Background()
	err := s.Read(ctx, func(tx provisioning.Tx) error { _, err := tx.GetTenantConfig(ctx, key); return err })
	wantCode(t, err, provisioning.CodeNotFound)
}
