package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// writeConfig answers with a configuration and its ETag (the configuration's own version).
func writeConfig(w http.ResponseWriter, c *provisioning.TenantConfig) {
	w.Header().Set("ETag", etag(c.Version))
	writeJSON(w, http.StatusOK, wire.FromConfig(c))
}

func (s *server) getConfig() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.prov.GetTenantConfig(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" && matchesETag(inm, c.Version) {
			w.Header().Set("ETag", etag(c.Version))
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeConfig(w, c)
	})
}

// configBody reads a configuration body: one JSON object, at most MaxConfigBytes.
func (s *server) configBody(w http.ResponseWriter, r *http.Request, mediaTypes ...string) (json.RawMessage, error) {
	body, err := readBody(w, r, min(s.maxBody, provisioning.MaxConfigBytes), mediaTypes...)
	if err != nil {
		return nil, err
	}
	if err := checkSyntax(body); err != nil {
		return nil, err
	}
	return body, nil
}

func (s *server) replaceConfig() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		body, err := s.configBody(w, r, "application/json")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		c, err := ifMatch(r, func(pre provisioning.Precondition) (*provisioning.TenantConfig, error) {
			return prov.ReplaceTenantConfig(r.Context(), principal(r), r.PathValue("id"), body, pre)
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeConfig(w, c)
	}
}

func (s *server) updateConfig() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		body, err := s.configBody(w, r, "application/merge-patch+json", "application/json")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		c, err := ifMatch(r, func(pre provisioning.Precondition) (*provisioning.TenantConfig, error) {
			return prov.UpdateTenantConfig(r.Context(), principal(r), r.PathValue("id"), body, pre)
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeConfig(w, c)
	}
}
