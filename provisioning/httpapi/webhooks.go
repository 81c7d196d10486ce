package httpapi

import (
	"net/http"
	"strconv"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

func (s *server) createWebhook() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		var in wire.WebhookInput
		if err := s.decode(w, r, &in, "application/json"); err != nil {
			s.writeError(w, r, err)
			return
		}
		wh, err := prov.CreateWebhook(r.Context(), principal(r), in.Domain())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", BasePath+"/webhooks/"+wh.ID)
		writeJSON(w, http.StatusCreated, wire.FromWebhookWithSecret(wh))
	}
}

func (s *server) rotateWebhookSecret() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		wh, err := prov.RotateWebhookSecret(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromWebhookWithSecret(wh))
	}
}

func (s *server) listWebhooks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Query()) > 0 {
			s.writeError(w, r, provisioning.InvalidFields(map[string]string{"query": "this listing takes no parameters"}))
			return
		}
		ws, err := s.prov.ListWebhooks(r.Context(), principal(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.ListOf(ws, wire.FromWebhook))
	})
}

func (s *server) getWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh, err := s.prov.GetWebhook(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromWebhook(wh))
	})
}

func (s *server) deleteWebhook() change {
	return func(w http.ResponseWriter, r *http.Request, prov provisioning.Provisioner) {
		if err := prov.DeleteWebhook(r.Context(), principal(r), r.PathValue("id")); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *server) listDeliveries() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := 0
		for key, vals := range r.URL.Query() {
			n, err := strconv.Atoi(vals[0])
			if key != "limit" || len(vals) > 1 || err != nil || n < 1 || n > 200 {
				s.writeError(w, r, provisioning.InvalidFields(map[string]string{key: "only limit, an integer from 1 to 200, is accepted"}))
				return
			}
			limit = n
		}
		ds, err := s.prov.ListDeliveries(r.Context(), principal(r), r.PathValue("id"), limit)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.ListOf(ds, wire.FromDelivery))
	})
}
