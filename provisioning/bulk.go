package provisioning

import (
	"context"
	"fmt"
)

// MaxBulk is the most tenants one bulk create may carry.
const MaxBulk = 1000

// CodeFailedDependency: in an atomic bulk create, this item was valid but was not created
// because another item failed.
const CodeFailedDependency Code = "failed_dependency"

// BulkResult is the outcome of one item of a bulk create: the tenant, or why it was not
// created.
type BulkResult struct {
	Tenant *Tenant
	Err    error
}

// CreateTenants implements Provisioner; the Service's method says what it does.
func (s *engine) CreateTenants(ctx context.Context, p Principal, ins []TenantInput, atomic bool) ([]BulkResult, error) {
	if err := s.authorize(ctx, p, PermTenantCreate); err != nil {
		return nil, err
	}
	if len(ins) == 0 || len(ins) > MaxBulk {
		return nil, InvalidFields(map[string]string{"tenants": fmt.Sprintf("must hold 1 to %d tenants", MaxBulk)})
	}
	results := make([]BulkResult, len(ins))
	news := make([]*InsertTenantParams, len(ins))
	for i, in := range ins {
		if news[i], results[i].Err = s.newTenant(p, in); news[i] != nil {
			s.involve(news[i].Tenant.ID)
		}
	}
	if atomic {
		s.createAll(ctx, p, news, results)
	} else {
		s.createEach(ctx, p, news, results)
	}
	return results, nil
}

// createEach creates each valid item as a change of its own and records its outcome. In the
// Service's transaction an item that fails leaves nothing behind, and the others go on. All
// the items are first tried in one change (insertEach); when that change fails as a whole,
// or the quota may not hold them all, each is created alone.
func (s *engine) createEach(ctx context.Context, p Principal, news []*InsertTenantParams, results []BulkResult) {
	if s.insertEach(ctx, p, news, results) {
		return
	}
	for i, n := range news {
		if n == nil {
			continue
		}
		if err := s.write(ctx, func(tx Tx) error { return s.insert(ctx, tx, p, n) }); err != nil {
			results[i].Err = err
			continue
		}
		results[i].Tenant = n.Tenant
	}
}

// insertEach stores the valid items that can be stored, and their events, in one change, and
// records each item's outcome. It reports false, having recorded nothing, when the change
// failed as a whole or the quota has no room for every valid item.
func (s *engine) insertEach(ctx context.Context, p Principal, news []*InsertTenantParams, results []BulkResult) bool {
	var valid []*InsertTenantParams
	var at []int
	for i, n := range news {
		if n != nil {
			valid, at = append(valid, n), append(at, i)
		}
	}
	if len(valid) < 2 {
		return false
	}
	var errs []error
	err := s.write(ctx, func(tx Tx) error {
		if err := tx.ReserveTenants(ctx, ReserveTenantsParams{PartnerID: p.PartnerID, Count: len(valid)}); err != nil {
			return err
		}
		var err error
		if errs, err = tx.InsertTenantsEach(ctx, InsertTenantsEachParams{Tenants: valid}); err != nil {
			return err
		}
		for k, n := range valid {
			if errs[k] == nil {
				if err := tx.AppendEvent(ctx, s.event(ctx, p, EventTenantCreated, n.Tenant)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return false
	}
	for k, n := range valid {
		if results[at[k]].Err = errs[k]; errs[k] == nil {
			results[at[k]].Tenant = n.Tenant
		}
	}
	return true
}

// createAll creates every item in one change, or none, and records each item's outcome.
func (s *engine) createAll(ctx context.Context, p Principal, news []*InsertTenantParams, results []BulkResult) {
	failed := firstFailure(news, results)
	if failed < 0 {
		var err error
		failed, err = s.insertAll(ctx, p, news)
		switch {
		case err == nil:
			for i, n := range news {
				results[i].Tenant = n.Tenant
			}
			return
		case failed < 0:
			for i := range results {
				results[i].Err = err
			}
			return
		}
		results[failed].Err = err
	}
	for i := range results {
		if results[i].Err == nil {
			results[i].Err = Errorf(CodeFailedDependency, "not created: item %d failed and the request is atomic", failed)
		}
	}
}

// insertAll stores every item and its event in one change. When that fails it returns the
// index of the item that failed, or -1 when none did (the commit failed).
func (s *engine) insertAll(ctx context.Context, p Principal, news []*InsertTenantParams) (failed int, err error) {
	failed = -1
	err = s.write(ctx, func(tx Tx) error {
		// No item is to blame when together they exceed the quota.
		if err := tx.ReserveTenants(ctx, ReserveTenantsParams{PartnerID: p.PartnerID, Count: len(news)}); err != nil {
			return err
		}
		var err error
		if failed, err = tx.InsertTenants(ctx, news); err != nil {
			return err
		}
		for _, n := range news {
			if err := tx.AppendEvent(ctx, s.event(ctx, p, EventTenantCreated, n.Tenant)); err != nil {
				return err
			}
		}
		return nil
	})
	return failed, err
}

// firstFailure marks the items that repeat an earlier item's company name or external id, and
// returns the index of the first item that is invalid or such a repeat, or -1.
func firstFailure(news []*InsertTenantParams, results []BulkResult) int {
	first := -1
	names, externals := map[string]int{}, map[string]int{}
	for i, n := range news {
		if n == nil {
			if first < 0 {
				first = i
			}
			continue
		}
		key := NameKey(n.Tenant.CompanyName)
		j, dupName := names[key]
		k, dupExt := externals[n.Tenant.ExternalID]
		switch {
		case dupName:
			results[i].Err = Errorf(CodeTenantExists, "item %d has the same company name", j)
		case dupExt && n.Tenant.ExternalID != "":
			results[i].Err = Errorf(CodeTenantExists, "item %d has the same external id", k)
		default:
			names[key], externals[n.Tenant.ExternalID] = i, i
			continue
		}
		if first < 0 {
			first = i
		}
	}
	return first
}
