package wire

import (
	"encoding/json"

	"github.com/provisiond/provisiond/provisioning"
)

// BulkRequest is the body of POST /tenants/bulk. Each item is kept raw so that the server can
// judge it on its own: a malformed item fails alone (or, atomic, fails the request) with its own
// problem, and never hides the others' outcomes.
type BulkRequest struct {
	Tenants []json.RawMessage `json:"tenants"` // each a TenantInput
	Atomic  bool              `json:"atomic"`
}

// FromBulk returns the wire form of a bulk create. It fails only when an input's Config is not
// valid JSON.
func FromBulk(ins []provisioning.TenantInput, atomic bool) (BulkRequest, error) {
	out := BulkRequest{Tenants: make([]json.RawMessage, len(ins)), Atomic: atomic}
	for i, in := range ins {
		b, err := json.Marshal(FromTenantInput(in))
		if err != nil {
			return BulkRequest{}, err
		}
		out.Tenants[i] = b
	}
	return out, nil
}

// BulkResult is the outcome of one item of a bulk create: the tenant, or the problem.
type BulkResult struct {
	Index  int      `json:"index"`
	Status int      `json:"status"` // 201, or the problem's status
	Tenant *Tenant  `json:"tenant,omitempty"`
	Error  *Problem `json:"error,omitempty"`
}

// BulkResponse is the answer of POST /tenants/bulk, one result per item in input order.
type BulkResponse struct {
	Results []BulkResult `json:"results"`
}

// FromBulkResults returns the wire form of a bulk create's outcomes; problem describes each
// failed item (the server fills in the HTTP status and title there).
func FromBulkResults(results []provisioning.BulkResult, problem func(error) Problem) BulkResponse {
	out := BulkResponse{Results: make([]BulkResult, len(results))}
	for i, res := range results {
		if res.Err != nil {
			p := problem(res.Err)
			out.Results[i] = BulkResult{Index: i, Status: p.Status, Error: &p}
			continue
		}
		t := FromTenant(res.Tenant)
		out.Results[i] = BulkResult{Index: i, Status: 201, Tenant: &t}
	}
	return out
}

// Domain returns the outcomes w describes, in input order.
func (w *BulkResponse) Domain() []provisioning.BulkResult {
	out := make([]provisioning.BulkResult, len(w.Results))
	for i, res := range w.Results {
		switch {
		case res.Error != nil:
			out[i].Err = res.Error.Domain()
		case res.Tenant != nil:
			out[i].Tenant = res.Tenant.Domain()
		}
	}
	return out
}
