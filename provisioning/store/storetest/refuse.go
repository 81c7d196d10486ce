package storetest

import (
	"context"
	"errors"

	"github.com/provisiond/provisiond/provisioning"
)

// Refusing returns a Store over s whose writes fail, with an internal error, to insert a tenant
// named companyName: a stand-in for a database that refuses a value, for a store without a
// database to make refuse it (the memory store, a test's store). Everything else is s's.
func Refusing(s provisioning.Store, companyName string) provisioning.Store {
	return &refusing{Store: s, name: companyName}
}

// refusing is the Store of Refusing.
type refusing struct {
	provisioning.Store
	name string
}

// Write implements provisioning.Store.
func (r *refusing) Write(ctx context.Context, fn func(provisioning.Tx) error) error {
	return r.Store.Write(ctx, func(tx provisioning.Tx) error { return fn(&refusingTx{Tx: tx, name: r.name}) })
}

// refusingTx is the Tx of a refusing Store's writes.
type refusingTx struct {
	provisioning.Tx
	name string
}

// InsertTenant implements provisioning.Tx.
func (x *refusingTx) InsertTenant(ctx context.Context, params *provisioning.InsertTenantParams) error {
	if params.Tenant.CompanyName == x.name {
		return errRefused()
	}
	return x.Tx.InsertTenant(ctx, params)
}

// InsertTenants implements provisioning.Tx.
func (x *refusingTx) InsertTenants(ctx context.Context, params []*provisioning.InsertTenantParams) (int, error) {
	for i, p := range params {
		if p.Tenant.CompanyName == x.name {
			return i, errRefused()
		}
	}
	return x.Tx.InsertTenants(ctx, params)
}

// InsertTenantsEach implements provisioning.Tx.
func (x *refusingTx) InsertTenantsEach(ctx context.Context, params provisioning.InsertTenantsEachParams) ([]error, error) {
	errs := make([]error, len(params.Tenants))
	for i, p := range params.Tenants {
		errs[i] = x.InsertTenant(ctx, p)
	}
	return errs, nil
}

func errRefused() error {
	return provisioning.Internal(errors.New("storetest: the store refuses this tenant"))
}
