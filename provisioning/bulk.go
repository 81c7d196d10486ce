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

// CreateTenants creates several tenants (tenant:create) and reports each item's outcome in
// input order, whatever happened to it: the tenant, or why it was not created — CodeInternal
// included, for an item the store failed to insert. Without atomic each item stands alone: its
// failure, of any kind, leaves the others as they are. With atomic all are created in one
// transaction or none is: when an item fails, it carries its error and every other item
// CodeFailedDependency (a commit that fails, where no item is to blame, is every item's error).
// Two items of one atomic request may not share a company name or external id. The returned
// error is for the request as a whole, before any item is tried: CodeInvalid (no items, or
// more than MaxBulk) besides the errors of every Provisioner method.
func (s *Service) CreateTenants(ctx context.Context, p Principal, ins []TenantInput, atomic bool) ([]BulkResult, error) {
	if err := s.authorize(ctx, p, PermTenantCreate); err != nil {
		return nil, err
	}
	if len(ins) == 0 || len(ins) > MaxBulk {
		return nil, InvalidFields(map[string]string{"tenants": fmt.Sprintf("must hold 1 to %d tenants", MaxBulk)})
	}
	results := make([]BulkResult, len(ins))
	news := make([]*newTenant, len(ins))
	for i, in := range ins {
		if news[i], results[i].Err = s.newTenant(p, in); news[i] != nil {
			s.involve(ctx, news[i].tenant.ID)
		}
	}
	if atomic {
		s.createAll(ctx, p, news, results)
	} else {
		s.createEach(ctx, p, news, results)
	}
	return results, nil
}

// createEach creates each valid item as a change of its own and records its outcome.
func (s *Service) createEach(ctx context.Context, p Principal, news []*newTenant, results []BulkResult) {
	for i, n := range news {
		if n == nil {
			continue
		}
		if err := s.write(ctx, func(tx Tx) error { return s.insert(ctx, tx, p, n) }); err != nil {
			results[i].Err = s.explainConflict(ctx, n.tenant, err)
			continue
		}
		results[i].Tenant = n.tenant
	}
}

// createAll creates every item in one change, or none, and records each item's outcome.
func (s *Service) createAll(ctx context.Context, p Principal, news []*newTenant, results []BulkResult) {
	failed := firstFailure(news, results)
	if failed < 0 {
		var err error
		failed, err = s.insertAll(ctx, p, news)
		switch {
		case err == nil:
			for i, n := range news {
				results[i].Tenant = n.tenant
			}
			return
		case failed < 0:
			for i := range results {
				results[i].Err = err
			}
			return
		}
		results[failed].Err = s.explainConflict(ctx, news[failed].tenant, err)
	}
	for i := range results {
		if results[i].Err == nil {
			results[i].Err = Errorf(CodeFailedDependency, "not created: item %d failed and the request is atomic", failed)
		}
	}
}

// insertAll stores every item and its event in one change. When that fails it returns the
// index of the item that failed, or -1 when none did (the commit failed).
func (s *Service) insertAll(ctx context.Context, p Principal, news []*newTenant) (failed int, err error) {
	failed = -1
	err = s.write(ctx, func(tx Tx) error {
		for i, n := range news {
			if err := insertRows(ctx, tx, n); err != nil {
				failed = i
				return err
			}
		}
		// Events last: appending one takes the partner's ordering lock until commit, and
		// holding it while inserting more rows could deadlock with a concurrent create.
		for i, n := range news {
			if err := s.appendEvent(ctx, tx, s.event(ctx, p, EventTenantCreated, n.tenant)); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	return failed, err
}

// firstFailure marks the items that repeat an earlier item's company name or external id, and
// returns the index of the first item that is invalid or such a repeat, or -1.
func firstFailure(news []*newTenant, results []BulkResult) int {
	first := -1
	names, externals := map[string]int{}, map[string]int{}
	for i, n := range news {
		if n == nil {
			if first < 0 {
				first = i
			}
			continue
		}
		key := NameKey(n.tenant.CompanyName)
		j, dupName := names[key]
		k, dupExt := externals[n.tenant.ExternalID]
		switch {
		case dupName:
			results[i].Err = Errorf(CodeTenantExists, "item %d has the same company name", j)
		case dupExt && n.tenant.ExternalID != "":
			results[i].Err = Errorf(CodeTenantExists, "item %d has the same external id", k)
		default:
			names[key], externals[n.tenant.ExternalID] = i, i
			continue
		}
		if first < 0 {
			first = i
		}
	}
	return first
}
