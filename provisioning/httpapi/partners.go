package httpapi

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

// The partner registry and partners' API keys (WithPlatform).

// platformChange is the handler of a route that changes the platform. It acts through
// platform: the server's Platform, or, for a request with an Idempotency-Key, the one bound to
// the transaction that keeps the answer.
type platformChange func(w http.ResponseWriter, r *http.Request, platform provisioning.Platform)

// onPlatform makes a platformChange a change for idempotent. A keyed request acts through the
// Provisioner that Idempotently hands over, which must also be the Platform bound to the same
// transaction — the Service that provisioning.Service.Idempotently hands over is. Were it not,
// the request fails (500, not kept) rather than act outside the transaction of its answer.
func (s *server) onPlatform(next platformChange) change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		if r.Header.Get("Idempotency-Key") == "" {
			next(w, r, s.platform)
			return
		}
		bound, ok := prov.(provisioning.Platform)
		if !ok {
			s.writeError(w, r, provisioning.Internal(errors.New("httpapi: the Provisioner of a keyed request is no Platform")))
			return
		}
		next(w, r, bound)
	}
}

func partnerLocation(id string) string { return BasePath + "/partners/" + url.PathEscape(id) }

func (s *server) createPartner() change {
	return s.onPlatform(func(w http.ResponseWriter, r *http.Request, platform provisioning.Platform) {
		var in wire.PartnerInput
		if err := s.decode(w, r, &in, "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		pt, err := platform.CreatePartner(r.Context(), principal(r), in.Domain())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", partnerLocation(pt.ID))
		writeJSON(w, http.StatusCreated, wire.FromPartner(pt))
	})
}

func (s *server) listPartners() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parsePartnerFilter(r.URL.Query())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		page, err := s.platform.ListPartners(r.Context(), principal(r), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromPartnerPage(page))
	})
}

// parsePartnerFilter reads the query of GET /partners: limit and cursor, nothing else.
func parsePartnerFilter(q url.Values) (provisioning.PartnerFilter, error) {
	var f provisioning.PartnerFilter
	err := readQuery(q, map[string]param{"cursor": textParam(&f.Cursor), "limit": limitParam(&f.Limit, 200)})
	return f, err
}

func (s *server) getPartner() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pt, err := s.platform.GetPartner(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromPartner(pt))
	})
}

func (s *server) updatePartner() change {
	return s.onPlatform(func(w http.ResponseWriter, r *http.Request, platform provisioning.Platform) {
		var patch wire.PartnerPatch
		if err := s.decode(w, r, &patch, "application/merge-patch+json", "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		pt, err := platform.UpdatePartner(r.Context(), principal(r), r.PathValue("id"), patch.Domain())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromPartner(pt))
	})
}

func (s *server) createAPIKey() change {
	return s.onPlatform(func(w http.ResponseWriter, r *http.Request, platform provisioning.Platform) {
		var in wire.APIKeyInput
		if err := s.decode(w, r, &in, "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		k, err := platform.CreateAPIKey(r.Context(), principal(r), r.PathValue("id"), in.Domain())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, wire.FromAPIKey(k))
	})
}

func (s *server) listAPIKeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Query()) > 0 {
			s.writeError(w, r, provisioning.InvalidFields(map[string]string{"query": "this listing takes no parameters"}))
			return
		}
		ks, err := s.platform.ListAPIKeys(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.ListOf(ks, wire.FromAPIKey))
	})
}

func (s *server) revokeAPIKey() change {
	return s.onPlatform(func(w http.ResponseWriter, r *http.Request, platform provisioning.Platform) {
		if err := platform.RevokeAPIKey(r.Context(), principal(r), r.PathValue("id"), r.PathValue("key")); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
