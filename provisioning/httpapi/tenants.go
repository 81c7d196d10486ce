package httpapi

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

func tenantLocation(id string) string { return BasePath + "/tenants/" + id }

// writeTenant answers with a tenant and its ETag: the bytes and headers writeJSON would write
// for wire.FromTenant(t), encoded by wire.AppendTenant into a pooled buffer (a ResponseWriter,
// as an io.Writer, keeps nothing of what it is given), with the three header values in one
// allocation and the ETag and Content-Length in one string.
func writeTenant(w http.ResponseWriter, status int, t *provisioning.Tenant) {
	buf := bodyPool.Get().(*[]byte)
	body := append(wire.AppendTenant((*buf)[:0], t), '\n')
	var num [48]byte
	n := strconv.AppendInt(append(num[:0], '"'), t.Version, 10)
	n = append(n, '"')
	tagEnd := len(n)
	s := string(strconv.AppendInt(n, int64(len(body)), 10))
	vals := &[3]string{s[:tagEnd], "application/json", s[tagEnd:]}
	h := w.Header()
	setHeader(h, "Etag", vals[:], 0)
	setHeader(h, "Content-Type", vals[:], 1)
	setHeader(h, "Content-Length", vals[:], 2)
	w.WriteHeader(status)
	_, _ = w.Write(body)
	if cap(body) <= maxPooledBody {
		*buf = body[:0]
		bodyPool.Put(buf)
	}
}

// bodyPool holds the buffers writeTenant encodes into; one that grew past maxPooledBody (a
// tenant with a lot of metadata) is left to the collector.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledBody = 64 << 10

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
