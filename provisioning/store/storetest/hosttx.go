package storetest

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

// HostTransactions is what a store offers when a host application can provision inside its
// own database transaction (the SQL stores do): a transaction to begin, and Write's work done
// in it.
type HostTransactions interface {
	BeginTx(ctx context.Context) (*sql.Tx, error)
	WriteTx(ctx context.Context, tx *sql.Tx, fn func(provisioning.Tx) error) error
}

// hostTransactions returns s as HostTransactions, failing the test when it is not.
func hostTransactions(t *testing.T, s provisioning.Store) HostTransactions {
	t.Helper()
	ht, ok := s.(HostTransactions)
	if !ok {
		t.Fatalf("the harness says %T offers host transactions; it does not implement HostTransactions", s)
	}
	return ht
}

// testInHostTransaction: changes made through WriteTx commit and roll back with the host's
// transaction, events included; work whose function fails is undone alone, and the host's
// transaction goes on.
func testInHostTransaction(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ht := hostTransactions(t, s)
	ctx := context.Background()
	events := func() int { evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{}); return len(evs) }

	tx, err := ht.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gone *provisioning.Tenant
	if err := ht.WriteTx(ctx, tx, func(ptx provisioning.Tx) error {
		inTx := svc.WithTx(ptx)
		gone = mustCreate(t, inTx, alice, input("Rolled Back"))
		if got, err := inTx.GetTenant(ctx, alice, gone.ID); err != nil || got.ID != gone.ID {
			t.Fatalf("the transaction does not see its own tenant: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	_, err = svc.GetTenant(ctx, alice, gone.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	if n := events(); n != 0 {
		t.Fatalf("%d events after the host rolled back", n)
	}

	tx, err = ht.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := ht.WriteTx(ctx, tx, func(ptx provisioning.Tx) error {
		mustCreate(t, svc.WithTx(ptx), alice, input("Undone"))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("WriteTx returned %v, want the function's error", err)
	}
	var kept *provisioning.Tenant
	if err := ht.WriteTx(ctx, tx, func(ptx provisioning.Tx) error {
		kept = mustCreate(t, svc.WithTx(ptx), alice, input("Committed"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.GetTenant(ctx, alice, kept.ID); err != nil {
		t.Fatalf("after the host committed: %v", err)
	} else {
		equal(t, got, kept)
	}
	if got := names(listAll(t, svc, alice, provisioning.TenantFilter{})); len(got) != 1 {
		t.Fatalf("after the host committed: %v, want only Committed", got)
	}
	if n := events(); n != 1 {
		t.Fatalf("%d events after the host committed, want 1", n)
	}
}
