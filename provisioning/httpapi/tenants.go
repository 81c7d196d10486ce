package httpapi

import (
	"net/http"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

func tenantLocation(id string) string { return BasePath + "/tenants/" + id }

// writeTenant answers with a tenant and its ETag.
func writeTenant(w http.ResponseWriter, status int, t *provisioning.Tenant) {
	w.Header().Set("ETag", etag(t.Version))
	writeJSON(w, status, wire.FromTenant(t))
}

func (s *server) createTenant() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		var in wire.TenantInput
		if err := s.decode(w, r, &in, "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		t, err := prov.CreateTenant(r.Context(), principal(r), in.Domain())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", tenantLocation(t.ID))
		writeTenant(w, http.StatusCreated, t)
	}
}

func (s *server) getTenant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.prov.GetTenant(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// The version does not count a step's progress, only the provisioning's outcome: until
		// the provisioning is settled, the tenant is always sent in full.
		if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, t.Version) && t.Provisioning.Settled() {
			w.Header().Set("ETag", etag(t.Version))
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeTenant(w, http.StatusOK, t)
	})
}

func (s *server) listTenants() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parseTenantFilter(r.URL.Query())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		page, err := s.prov.ListTenants(r.Context(), principal(r), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromTenantPage(page))
	})
}

func (s *server) updateTenant() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		var patch wire.TenantPatch
		if err := s.decode(w, r, &patch, "application/merge-patch+json", "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.changeTenant(w, r, func(pre provisioning.Precondition) (*provisioning.Tenant, error) {
			return prov.UpdateTenant(r.Context(), principal(r), r.PathValue("id"), patch.Domain(), pre)
		})
	}
}

func (s *server) replaceTenant() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		var in wire.TenantInput
		if err := s.decode(w, r, &in, "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.changeTenant(w, r, func(pre provisioning.Precondition) (*provisioning.Tenant, error) {
			return prov.ReplaceTenant(r.Context(), principal(r), r.PathValue("id"), in.Domain(), pre)
		})
	}
}

// changeTenant is the end of PATCH and PUT: make the change under If-Match, answer with the
// tenant.
func (s *server) changeTenant(w http.ResponseWriter, r *http.Request, edit func(provisioning.Precondition) (*provisioning.Tenant, error)) {
	t, err := ifMatch(r, edit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeTenant(w, http.StatusOK, t)
}

func (s *server) retryProvisioning() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		t, err := prov.RetryProvisioning(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeTenant(w, http.StatusAccepted, t)
	}
}
