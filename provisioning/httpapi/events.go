package httpapi

import (
	"net/http"
	"net/url"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
)

func (s *server) listEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parseEventFilter(r.URL.Query())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		page, err := s.prov.ListEvents(r.Context(), principal(r), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, wire.FromEventPage(page))
	})
}

// parseEventFilter reads the query of GET /events: after, limit, type and partner_id, nothing else.
func parseEventFilter(q url.Values) (provisioning.EventFilter, error) {
	var f provisioning.EventFilter
	err := readQuery(q, map[string]param{"after": textParam(&f.After), "type": textParam(&f.Type),
		"partner_id": textParam(&f.PartnerID), "limit": limitParam(&f.Limit, 200)})
	return f, err
}
