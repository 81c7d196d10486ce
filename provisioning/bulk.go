package provisioning

import (
	"context"
	"fmt"
)

// MaxBulk is the most tenants one bulk create may carry.
const MaxBulk = 100

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
// input order. Without atomic each item stands alone. With atomic all are created in one
// transaction or none is: when an item fails, it carries its error and every other item
// CodeFailedDependency. Two items of one atomic request may not share a company name or external
// id. The returned error is for the request as a whole: CodeUnauthenticated, CodeForbidden,
// CodeInvalid (no items, or more than MaxBulk), CodeInternal.
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
		news[i], results[i].Err = s.newTenant(p, in)
	}
	if !atomic {
		for i, n := range news {
			if n == nil {
				continue
			}
			if err := s.write(ctx, func(tx Tx) error { return s.insert(ctx, tx, p, n) }); err != nil {
				if ErrorCode(err) == CodeInternal {
					return nil, err
				}
				results[i].Err = s.explainConflict(ctx, n.tenant, err)
				continue
			}
			results[i].Tenant = n.tenant
		}
		return results, nil
	}

	failed := firstFailure(news, results)
	if failed < 0 {
		err := s.write(ctx, func(tx Tx) error {
			for i, n := range news {
				if err := insertRows(ctx, tx, n); err != nil {
					failed, results[i].Err = i, err
					return err
				}
			}
			// Events last: appending one takes the partner's ordering lock until commit, and
			// holding it while inserting more rows could deadlock with a concurrent create.
			for _, n := range news {
				if err := s.appendEvent(ctx, tx, s.event(ctx, p, EventTenantCreated, n.tenant)); err != nil {
					return err
				}
			}
			return nil
		})
		switch {
		case err == nil:
			for i, n := range news {
				results[i].Tenant = n.tenant
			}
			return results, nil
		case failed < 0 || ErrorCode(err) == CodeInternal:
			return nil, err
		}
		results[failed].Err = s.explainConflict(ctx, news[failed].tenant, results[failed].Err)
	}
	for i := range results {
		if results[i].Err == nil {
			results[i].Err = Errorf(CodeFailedDependency, "not created: item %d failed and the request is atomic", failed)
		}
	}
	return results, nil
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
