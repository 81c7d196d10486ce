package provisioning_test

import (
	"context"
	"slices"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// recording is a decorator that records, under its name, every create it sees.
type recording struct {
	provisioning.Provisioner
	name  string
	calls *[]string
}

func (r recording) CreateTenant(ctx context.Context, p provisioning.Principal, in provisioning.TenantInput) (*provisioning.Tenant, error) {
	*r.calls = append(*r.calls, r.name+":"+in.CompanyName)
	return r.Provisioner.CreateTenant(ctx, p, in)
}

// Middleware wraps every call of the Service — the Service's own, those of a Service bound to a
// transaction, and those of the Provisioner Idempotently hands over — the first middleware
// outermost; a replayed answer calls nothing.
func TestMiddlewareWrapsEveryCopy(t *testing.T) {
	var calls []string
	mw := func(name string) provisioning.Middleware {
		return func(next provisioning.Provisioner) provisioning.Provisioner { return recording{next, name, &calls} }
	}
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()), provisioning.WithMiddleware(mw("outer"), mw("inner")))
	ctx := context.Background()
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	in := func(name string) provisioning.TenantInput {
		return provisioning.TenantInput{CompanyName: name, Email: "a@example.com"}
	}

	if _, err := svc.CreateTenant(ctx, admin, in("Plain")); err != nil {
		t.Fatal(err)
	}
	if err := store.Write(ctx, func(tx provisioning.Tx) error {
		_, err := svc.WithTx(tx).CreateTenant(ctx, admin, in("Bound"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	do := func(prov provisioning.Provisioner) ([]byte, bool) {
		if _, err := prov.CreateTenant(ctx, admin, in("Keyed")); err != nil {
			t.Error(err)
		}
		return []byte("answer"), true
	}
	for range 2 {
		if _, _, err := svc.Idempotently(ctx, admin, provisioning.PermTenantCreate, "k", "fp", do); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"outer:Plain", "inner:Plain", "outer:Bound", "inner:Bound", "outer:Keyed", "inner:Keyed"}
	if !slices.Equal(calls, want) {
		t.Fatalf("the middleware saw %q, want %q", calls, want)
	}
}

// A Service bound to a transaction runs its calls there: they see each other, and the
// transaction's end decides for them all.
func TestWithTxRunsInTheTransaction(t *testing.T) {
	store := memstore.New()
	svc := provisioning.New(store, provisioning.NewRBAC(provisioning.DefaultPolicy()))
	ctx := context.Background()
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	var id string
	err := store.Write(ctx, func(tx provisioning.Tx) error {
		bound := svc.WithTx(tx)
		tn, err := bound.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: "Together", Email: "a@example.com"})
		if err != nil {
			return err
		}
		id = tn.ID
		_, err = bound.UpdateTenant(ctx, admin, id, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, provisioning.Precondition{IfVersion: 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetTenant(ctx, admin, id)
	if err != nil || got.Version != 2 || got.Industry != "Retail" {
		t.Fatalf("after the commit: %+v, %v", got, err)
	}
	page, err := svc.ListEvents(ctx, admin, provisioning.EventFilter{})
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("events: %+v, %v; want the create's and the update's", page, err)
	}
}
