package httpapi

import (
	"fmt"
	"net/http"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// bulkCreate creates several tenants. Each item is decoded as strictly as a single create, and
// the answer reports every item's fate, an internal failure included; bulkStatus says its
// status.
func (s *server) bulkCreate() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		var body wire.BulkRequest
		if err := s.decode(w, r, &body, "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		if n := len(body.Tenants); n == 0 || n > provisioning.MaxBulk {
			s.writeError(w, r, provisioning.InvalidFields(map[string]string{
				"tenants": fmt.Sprintf("must hold 1 to %d tenants", provisioning.MaxBulk)}))
			return
		}
		results := make([]provisioning.BulkResult, len(body.Tenants))
		var ins []provisioning.TenantInput
		var where []int // the index in the request of each of ins
		for i, raw := range body.Tenants {
			var in wire.TenantInput
			if results[i].Err = decodeObject(raw, &in); results[i].Err == nil {
				ins, where = append(ins, in.Domain()), append(where, i)
			}
		}
		switch {
		case len(ins) < len(body.Tenants) && body.Atomic:
			for i := range results {
				if results[i].Err == nil {
					results[i].Err = provisioning.Errorf(provisioning.CodeFailedDependency, "not created: another item is malformed and the request is atomic")
				}
			}
		case len(ins) > 0:
			done, err := prov.CreateTenants(r.Context(), principal(r), ins, body.Atomic)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			for j, res := range done {
				results[where[j]] = res
			}
		}
		out := wire.FromBulkResults(results, func(err error) wire.Problem { return s.problem(r, err) })
		writeJSON(w, bulkStatus(out.Results, body.Atomic), out)
	}
}

// bulkStatus is the status of a bulk answer. Atomic, it is 200 when every item was created, else
// the failing item's status (nothing was created). Without atomic it is 200, unless no item was
// created and one failed for an internal reason: then 500, since nothing changed, so that an
// Idempotency-Key does not keep the answer and a retry runs afresh. Once any item is created
// the answer is 200 and kept, so that a retry is told what was created instead of creating it
// again.
func bulkStatus(results []wire.BulkResult, atomic bool) int {
	created, internal := false, false
	for _, res := range results {
		switch {
		case res.Error == nil:
			created = true
		case atomic && res.Error.Code != string(provisioning.CodeFailedDependency):
			return res.Status
		case res.Error.Code == string(provisioning.CodeInternal):
			internal = true
		}
	}
	if internal && !created {
		return http.StatusInternalServerError
	}
	return http.StatusOK
}
