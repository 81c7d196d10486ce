package httpapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// deleteQuery is the query of DELETE /tenants/{id}: a purge, or a deletion with a grace.
type deleteQuery struct {
	purge bool
	grace time.Duration // 0: the server's
}

// parseDeleteQuery reads the query of DELETE /tenants/{id}: purge=true|false and grace=<Go
// duration>, nothing else, each at most once, not both.
func parseDeleteQuery(q url.Values) (deleteQuery, error) {
	var d deleteQuery
	problems := map[string]string{}
	for key, vals := range q {
		if len(vals) > 1 {
			problems[key] = "must be given at most once"
			continue
		}
		switch v := vals[0]; key {
		case "purge":
			if v != "true" && v != "false" {
				problems[key] = "must be true or false"
			}
			d.purge = v == "true"
		case "grace":
			grace, err := time.ParseDuration(v)
			if err != nil || grace <= 0 {
				problems[key] = "must be a positive Go duration, such as 24h or 90m"
			}
			d.grace = grace
		default:
			problems[key] = "unknown query parameter"
		}
	}
	if d.purge && q.Has("grace") && problems["grace"] == "" {
		problems["grace"] = "cannot be combined with purge=true"
	}
	if len(problems) > 0 {
		return d, provisioning.InvalidFields(problems)
	}
	return d, nil
}

// deletePermission is the permission a DELETE /tenants/{id} needs: tenant:purge to purge at
// once, tenant:delete to schedule the deletion (and for a query that is refused anyway).
func deletePermission(r *http.Request) provisioning.Permission {
	if q, err := parseDeleteQuery(r.URL.Query()); err == nil && q.purge {
		return provisioning.PermTenantPurge
	}
	return provisioning.PermTenantDelete
}

// deleteTenant schedules the deletion of a tenant (202 with the tenant), or purges it at once
// with ?purge=true (204).
func (s *server) deleteTenant() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		q, err := parseDeleteQuery(r.URL.Query())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		id := r.PathValue("id")
		if q.purge {
			_, err := ifMatch(r, func(pre provisioning.Precondition) (struct{}, error) {
				return struct{}{}, prov.PurgeTenant(r.Context(), principal(r), id, pre)
			})
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		t, err := ifMatch(r, func(pre provisioning.Precondition) (*provisioning.Tenant, error) {
			return prov.DeleteTenant(r.Context(), principal(r), id, provisioning.DeleteOptions{Grace: q.grace}, pre)
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeTenant(w, http.StatusAccepted, t)
	}
}

// restoreTenant cancels a tenant's deletion. It takes no body; one sent is not read.
func (s *server) restoreTenant() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		if len(r.URL.Query()) > 0 {
			s.writeError(w, r, provisioning.InvalidFields(map[string]string{"query": "restore takes no parameters"}))
			return
		}
		t, err := ifMatch(r, func(pre provisioning.Precondition) (*provisioning.Tenant, error) {
			return prov.RestoreTenant(r.Context(), principal(r), r.PathValue("id"), pre)
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeTenant(w, http.StatusOK, t)
	}
}

// exportTenant answers with everything held about a tenant: a page of its events at a time.
func (s *server) exportTenant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parseExportFilter(r.URL.Query())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		x, err := s.prov.ExportTenant(r.Context(), principal(r), r.PathValue("id"), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromTenantExport(x))
	})
}

// parseExportFilter reads the query of GET /tenants/{id}/export: after and limit, nothing else.
func parseExportFilter(q url.Values) (provisioning.ExportFilter, error) {
	var f provisioning.ExportFilter
	err := readQuery(q, map[string]param{"after": textParam(&f.After), "limit": limitParam(&f.Limit, provisioning.MaxExportEvents)})
	return f, err
}

// availability answers whether a create with the names would conflict.
func (s *server) availability() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var q provisioning.AvailabilityQuery
		problems := map[string]string{}
		for key, vals := range r.URL.Query() {
			switch {
			case key != "company_name" && key != "external_id":
				problems[key] = "unknown query parameter"
			case len(vals) > 1:
				problems[key] = "must be given at most once"
			case key == "company_name":
				q.CompanyName = vals[0]
			default:
				q.ExternalID = vals[0]
			}
		}
		if len(problems) > 0 {
			s.writeError(w, r, provisioning.InvalidFields(problems))
			return
		}
		a, err := s.prov.TenantAvailability(r.Context(), principal(r), q)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromAvailability(a))
	})
}
