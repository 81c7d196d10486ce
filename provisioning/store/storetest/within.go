package storetest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

// HostTransactions is what a store offers when a host application can provision inside its
// own database transaction (the SQL stores do).
type HostTransactions interface {
	BeginTx(ctx context.Context) (*sql.Tx, error)
	Within(tx *sql.Tx) provisioning.Store
}

// testWithinHostTransaction: changes made through Within commit and roll back with the host's
// transaction, events included.
func testWithinHostTransaction(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ht, ok := s.(HostTransactions)
	if !ok {
		t.Fatalf("the harness says %T offers host transactions; it does not implement HostTransactions", s)
	}
	ctx := context.Background()
	events := func() int { evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{}); return len(evs) }

	tx, err := ht.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inTx := service(ht.Within(tx))
	gone := mustCreate(t, inTx, alice, input("Rolled Back"))
	if got, err := inTx.GetTenant(ctx, alice, gone.ID); err != nil || got.ID != gone.ID {
		t.Fatalf("the transaction does not see its own tenant: %v", err)
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
	kept := mustCreate(t, service(ht.Within(tx)), alice, input("Committed"))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.GetTenant(ctx, alice, kept.ID); err != nil {
		t.Fatalf("after the host committed: %v", err)
	} else {
		equal(t, got, kept)
	}
	if n := events(); n != 1 {
		t.Fatalf("%d events after the host committed, want 1", n)
	}
}
