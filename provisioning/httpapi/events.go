package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

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
	problems := map[string]string{}
	for key, vals := range q {
		if len(vals) > 1 {
			problems[key] = "must be given at most once"
			continue
		}
		switch v := vals[0]; key {
		case "after":
			f.After = v
		case "type":
			f.Type = provisioning.EventType(v)
		case "partner_id":
			f.PartnerID = v
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 200 {
				problems[key] = "must be an integer from 1 to 200"
			}
			f.Limit = n
		default:
			problems[key] = "unknown query parameter"
		}
	}
	if len(problems) > 0 {
		return f, provisioning.InvalidFields(problems)
	}
	return f, nil
}
