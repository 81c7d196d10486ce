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
