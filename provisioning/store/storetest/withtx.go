package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

// testServiceWithTx: a Service bound to a transaction runs every call in it, each call all or
// nothing — a failed one leaves the transaction as it was and it goes on — and everything
// commits, events included, or rolls back together.
func testServiceWithTx(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	holder := mustCreate(t, svc, alice, input("Holder"))
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		in := svc.WithTx(tx)
		a := mustCreate(t, in, alice, input("A"))
		_, err := in.CreateTenant(ctx, alice, input("a"))
		wantExists(t, err, a.ID)
		_, err = in.UpdateTenant(ctx, alice, a.ID, provisioning.TenantPatch{CompanyName: provisioning.Value("holder")}, provisioning.Precondition{})
		wantExists(t, err, holder.ID)
		rs, err := in.CreateTenants(ctx, alice, []provisioning.TenantInput{input("B1"), input("HOLDER"), input("B2")}, true)
		if got := bulkCodes(t, rs); err != nil || got[1] != provisioning.CodeTenantExists {
			t.Errorf("atomic bulk: %v %v", got, err)
		}
		rs, err = in.CreateTenants(ctx, alice, []provisioning.TenantInput{input("C1"), input("holder"), input("C2")}, false)
		if got := bulkCodes(t, rs); err != nil || !slices.Equal(got, []provisioning.Code{"", provisioning.CodeTenantExists, ""}) {
			t.Errorf("non-atomic bulk: %v %v", got, err)
		}
		if _, err := in.UpdateTenant(ctx, alice, a.ID, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, provisioning.Precondition{IfVersion: 1}); err != nil {
			return err
		}
		_, _, err = in.Idempotently(ctx, alice, provisioning.PermTenantCreate, "key", "fp", func(provisioning.Provisioner) ([]byte, bool) {
			t.Error("Idempotently ran on a Service bound to a transaction")
			return nil, false
		})
		wantCode(t, err, provisioning.CodeInternal)
		return nil
	})
	got := names(listAll(t, svc, alice, provisioning.TenantFilter{}))
	slices.Sort(got)
	if !slices.Equal(got, []string{"A", "C1", "C2", "Holder"}) {
		t.Fatalf("after the commit: %v, want A, C1, C2 and Holder", got)
	}
	if evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{}); len(evs) != 5 {
		t.Fatalf("%d events, want 5: Holder's, A's creation and update, C1's and C2's", len(evs))
	}
	err := s.Write(ctx, func(tx provisioning.Tx) error {
		mustCreate(t, svc.WithTx(tx), alice, input("Rolled Back"))
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Write: %v", err)
	}
	if got := listAll(t, svc, alice, provisioning.TenantFilter{Query: "rolled back"}); len(got) != 0 {
		t.Fatal("a rolled-back call of a bound Service was stored")
	}
	if evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{}); len(evs) != 5 {
		t.Fatalf("%d events after a rollback, want 5", len(evs))
	}
}

// testServiceWithTxDeletion: deletion, restore and purge through a bound Service, in one
// transaction with the tenant's other changes: a refused call leaves the transaction going on,
// the purge takes the data out of the events the transaction wrote before it, and frees the
// names within it; a rolled-back purge purges nothing.
func testServiceWithTxDeletion(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	none := provisioning.Precondition{}
	old := mustCreate(t, svc, alice, input("Short Lived"))
	kept := mustCreate(t, svc, alice, input("Kept"))
	var reborn *provisioning.Tenant
	write(t, s, func(ctx context.Context, tx provisioning.Tx) error {
		in := svc.WithTx(tx)
		if _, err := in.DeleteTenant(ctx, alice, old.ID, provisioning.DeleteOptions{}, none); err != nil {
			return err
		}
		_, err := in.UpdateTenant(ctx, alice, old.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, none)
		wantCode(t, err, provisioning.CodeTenantPendingDeletion)
		_, err = in.CreateTenant(ctx, alice, input("SHORT LIVED"))
		wantExists(t, err, old.ID)
		if _, err := in.RestoreTenant(ctx, alice, old.ID, none); err != nil {
			return err
		}
		if _, err := in.UpdateTenant(ctx, alice, old.ID, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, none); err != nil {
			return err
		}
		if err := in.PurgeTenant(ctx, alice, old.ID, none); err != nil {
			return err
		}
		wantCode(t, in.PurgeTenant(ctx, alice, old.ID, none), provisioning.CodeNotFound)
		reborn = mustCreate(t, in, alice, input("SHORT LIVED"))
		return nil
	})
	_, err := svc.GetTenant(ctx, alice, old.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	var types []provisioning.EventType
	for _, e := range eventsOf(t, svc, alice, old.ID) {
		types = append(types, e.Type)
		if e.Data != nil {
			t.Errorf("the purged tenant's %s event carries it: %+v", e.Type, e.Data)
		}
	}
	if !slices.Equal(types, []provisioning.EventType{provisioning.EventTenantCreated, provisioning.EventTenantDeletionScheduled,
		provisioning.EventTenantRestored, provisioning.EventTenantUpdated, provisioning.EventTenantDeleted}) {
		t.Fatalf("the purged tenant's events: %v", types)
	}
	if evs := eventsOf(t, svc, alice, reborn.ID); len(evs) != 1 || evs[0].Data == nil || evs[0].Data.CompanyName != "SHORT LIVED" {
		t.Fatalf("the new tenant's events: %+v", evs)
	}

	err = s.Write(ctx, func(tx provisioning.Tx) error {
		if err := svc.WithTx(tx).PurgeTenant(ctx, alice, kept.ID, none); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Write: %v", err)
	}
	if got, err := svc.GetTenant(ctx, alice, kept.ID); err != nil {
		t.Fatalf("after a rolled-back purge: %v", err)
	} else {
		equal(t, got, kept)
	}
	if evs := eventsOf(t, svc, alice, kept.ID); len(evs) != 1 || evs[0].Data == nil {
		t.Fatalf("events after a rolled-back purge: %+v", evs)
	}
}
