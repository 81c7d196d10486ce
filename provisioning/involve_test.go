package provisioning_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// everything grants every permission, tenant:purge included.
type everything struct{}

func (everything) Authorize(context.Context, provisioning.Principal, provisioning.Permission) error {
	return nil
}

// lookingFirst is a host's decorator that reads the tenant before every update: its read goes
// through the bound Provisioner too, so it is the request's as much as the update is.
type lookingFirst struct{ provisioning.Provisioner }

func (l lookingFirst) UpdateTenant(ctx context.Context, p provisioning.Principal, id string, patch provisioning.TenantPatch, pre provisioning.Precondition) (*provisioning.Tenant, error) {
	if _, err := l.GetTenant(ctx, p, id); err != nil {
		return nil, err
	}
	return l.Provisioner.UpdateTenant(ctx, p, id, patch, pre)
}

// A kept answer lists the tenants the request's calls named or created, through the Provisioner
// Idempotently hands over — the host's middleware included — whatever each call's outcome, in
// the order they were first named, each once; another request's tenants are not its own.
func TestKeptAnswerNamesTheRequestsTenants(t *testing.T) {
	store := memstore.New()
	svc := provisioning.New(store, everything{}, provisioning.WithMiddleware(func(next provisioning.Provisioner) provisioning.Provisioner {
		return lookingFirst{next}
	}))
	ctx := context.Background()
	p := provisioning.Principal{PartnerID: "p", Subject: "s"}
	in := func(name string) provisioning.TenantInput {
		return provisioning.TenantInput{CompanyName: name, Email: "a@example.com"}
	}
	a, err := svc.CreateTenant(ctx, p, in("A"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.CreateTenant(ctx, p, in("B"))
	if err != nil {
		t.Fatal(err)
	}
	missing := uuid.NewString()
	var created []string
	for _, c := range []struct {
		key  string
		do   func(prov provisioning.Provisioner)
		want func() []string
	}{
		{"create", func(prov provisioning.Provisioner) {
			tn, err := prov.CreateTenant(ctx, p, in("C"))
			if err != nil {
				t.Fatal(err)
			}
			created = []string{tn.ID}
		}, func() []string { return created }},
		{"bulk", func(prov provisioning.Provisioner) {
			rs, err := prov.CreateTenants(ctx, p, []provisioning.TenantInput{in("D"), in("E")}, true)
			if err != nil {
				t.Fatal(err)
			}
			created = []string{rs[0].Tenant.ID, rs[1].Tenant.ID}
		}, func() []string { return created }},
		{"several", func(prov provisioning.Provisioner) {
			// The middleware's read of B, then B's update, A's export, B again, a missing
			// tenant (refused), and A's configuration.
			if _, err := prov.UpdateTenant(ctx, p, b.ID, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, provisioning.Precondition{}); err != nil {
				t.Fatal(err)
			}
			if _, err := prov.ExportTenant(ctx, p, a.ID, provisioning.ExportFilter{}); err != nil {
				t.Fatal(err)
			}
			if _, err := prov.GetTenant(ctx, p, b.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := prov.RestoreTenant(ctx, p, missing, provisioning.Precondition{}); provisioning.ErrorCode(err) != provisioning.CodeNotFound {
				t.Fatalf("restore of a missing tenant: %v", err)
			}
			if _, err := prov.ReplaceTenantConfig(ctx, p, a.ID, json.RawMessage(`{"k":1}`), provisioning.Precondition{}); err != nil {
				t.Fatal(err)
			}
		}, func() []string { return []string{b.ID, a.ID, missing} }},
		{"delete", func(prov provisioning.Provisioner) {
			if _, err := prov.DeleteTenant(ctx, p, a.ID, provisioning.DeleteOptions{}, provisioning.Precondition{}); err != nil {
				t.Fatal(err)
			}
		}, func() []string { return []string{a.ID} }},
		{"none", func(prov provisioning.Provisioner) {
			if _, err := prov.ListTenants(ctx, p, provisioning.TenantFilter{}); err != nil {
				t.Fatal(err)
			}
		}, func() []string { return nil }},
	} {
		t.Run(c.key, func(t *testing.T) {
			_, _, err := svc.Idempotently(ctx, p, provisioning.PermTenantUpdate, c.key, "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
				c.do(prov)
				return []byte("answer"), true
			})
			if err != nil {
				t.Fatal(err)
			}
			var rec *provisioning.IdempotencyRecord
			if err := store.Write(ctx, func(tx provisioning.Tx) (err error) {
				rec, _, err = tx.LockIdempotencyKey(ctx, &provisioning.LockIdempotencyKeyParams{PartnerID: p.PartnerID, Key: c.key, Now: time.Now()})
				return err
			}); err != nil || rec == nil {
				t.Fatalf("the kept answer: %+v, %v", rec, err)
			}
			if want := c.want(); !slices.Equal(rec.TenantIDs, want) {
				t.Fatalf("the answer names %v, want %v", rec.TenantIDs, want)
			}
		})
	}
}

// The tenants a request names are its own: the plain Service and one bound to a host's
// transaction record none, and a purge of a tenant a request did not name leaves its answer.
func TestOnlyTheRequestsTenantsForgetItsAnswer(t *testing.T) {
	store := memstore.New()
	svc := provisioning.New(store, everything{})
	ctx := context.Background()
	p := provisioning.Principal{PartnerID: "p", Subject: "s"}
	keep := func(key string, do func(prov provisioning.Provisioner)) {
		t.Helper()
		if _, _, err := svc.Idempotently(ctx, p, provisioning.PermTenantCreate, key, "fp", func(prov provisioning.Provisioner) ([]byte, bool) {
			do(prov)
			return []byte(key), true
		}); err != nil {
			t.Fatal(err)
		}
	}
	var mine *provisioning.Tenant
	keep("mine", func(prov provisioning.Provisioner) {
		var err error
		if mine, err = prov.CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: "Mine", Email: "a@example.com"}); err != nil {
			t.Fatal(err)
		}
	})
	// Meanwhile, outside the request: the plain Service and a bound one.
	other, err := svc.CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: "Other", Email: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var bound *provisioning.Tenant
	if err := store.Write(ctx, func(tx provisioning.Tx) (err error) {
		bound, err = svc.WithTx(tx).CreateTenant(ctx, p, provisioning.TenantInput{CompanyName: "Bound", Email: "a@example.com"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	keep("nothing", func(provisioning.Provisioner) {})
	for _, id := range []string{other.ID, bound.ID} {
		if err := svc.PurgeTenant(ctx, p, id, provisioning.Precondition{}); err != nil {
			t.Fatal(err)
		}
	}
	replayed := func(key string) bool {
		t.Helper()
		_, replayed, err := svc.Idempotently(ctx, p, provisioning.PermTenantCreate, key, "fp", func(provisioning.Provisioner) ([]byte, bool) {
			return []byte("afresh"), false
		})
		if err != nil {
			t.Fatal(err)
		}
		return replayed
	}
	if !replayed("mine") || !replayed("nothing") {
		t.Fatal("a purge of tenants the requests did not name forgot their answers")
	}
	if err := svc.PurgeTenant(ctx, p, mine.ID, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if replayed("mine") {
		t.Fatal("the answer that created the purged tenant outlived it")
	}
	if !replayed("nothing") {
		t.Fatal("an answer that named no tenant went with a purge")
	}
}
