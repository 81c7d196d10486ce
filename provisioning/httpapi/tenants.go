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

func (s *server) createTenant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in wire.TenantInput
		if err := s.decode(w, r, &in, "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		t, err := s.prov.CreateTenant(r.Context(), principal(r), in.Domain())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", tenantLocation(t.ID))
		writeTenant(w, http.StatusCreated, t)
	})
}

func (s *server) getTenant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.prov.GetTenant(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, t.Version) {
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

func (s *server) updateTenant() http.Handler {
	return s.changeTenant(func(w http.ResponseWriter, r *http.Request, pre provisioning.Precondition) (*provisioning.Tenant, error) {
		var patch wire.TenantPatch
		if err := s.decode(w, r, &patch, "application/merge-patch+json", "application/json"); err != nil {
			return nil, err
		}
		return s.prov.UpdateTenant(r.Context(), principal(r), r.PathValue("id"), patch.Domain(), pre)
	})
}

func (s *server) replaceTenant() http.Handler {
	return s.changeTenant(func(w http.ResponseWriter, r *http.Request, pre provisioning.Precondition) (*provisioning.Tenant, error) {
		var in wire.TenantInput
		if err := s.decode(w, r, &in, "application/json"); err != nil {
			return nil, err
		}
		return s.prov.ReplaceTenant(r.Context(), principal(r), r.PathValue("id"), in.Domain(), pre)
	})
}

// changeTenant is the shape of PATCH and PUT: read If-Match, make the change, answer with
// the tenant.
func (s *server) changeTenant(change func(http.ResponseWriter, *http.Request, provisioning.Precondition) (*provisioning.Tenant, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := change(w, r, precondition(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeTenant(w, http.StatusOK, t)
	})
}

func (s *server) deleteTenant() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.prov.DeleteTenant(r.Context(), principal(r), r.PathValue("id"), precondition(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// decode reads the body (with the size and media type checks) and decodes it into dst.
func (s *server) decode(w http.ResponseWriter, r *http.Request, dst any, mediaTypes ...string) error {
	body, err := readBody(w, r, s.maxBody, mediaTypes...)
	if err != nil {
		return err
	}
	return decodeObject(body, dst)
}
