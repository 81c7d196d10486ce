package httpapi

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

// parseTenantFilter reads the query of GET /tenants. Unknown or repeated parameters are
// rejected, so a typo never silently widens a listing.
func parseTenantFilter(q url.Values) (provisioning.TenantFilter, error) {
	var f provisioning.TenantFilter
	problems := map[string]string{}
	for key, vals := range q {
		if len(vals) > 1 {
			problems[key] = "must be given at most once"
			continue
		}
		v := vals[0]
		switch key {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 200 {
				problems[key] = "must be an integer from 1 to 200"
			}
			f.Limit = n
		case "cursor":
			f.Cursor = v
		case "partner_id":
			f.PartnerID = v
		case "status":
			f.Status = provisioning.Status(v)
		case "external_id":
			f.ExternalID = v
		case "email":
			f.Email = v
		case "q":
			f.Query = v
		case "created_after", "created_before":
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				problems[key] = "must be an RFC 3339 time, such as 2025-02-10T16:30:00Z"
			}
			if key == "created_after" {
				f.CreatedAfter = at
			} else {
				f.CreatedBefore = at
			}
		default:
			mk, ok := strings.CutPrefix(key, "metadata[")
			if !ok || !strings.HasSuffix(mk, "]") {
				problems[key] = "unknown query parameter"
				continue
			}
			if f.Metadata == nil {
				f.Metadata = map[string]string{}
			}
			f.Metadata[strings.TrimSuffix(mk, "]")] = v
		}
	}
	if len(problems) > 0 {
		return f, provisioning.InvalidFields(problems)
	}
	return f, nil
}

// param reads the value of one query parameter into its place, and says what is wrong with it
// ("" when nothing is).
type param func(v string) (problem string)

// readQuery reads q by params: every parameter known, each given at most once, so that a typo
// never silently widens a listing. It reports every problem at once.
func readQuery(q url.Values, params map[string]param) error {
	problems := map[string]string{}
	for key, vals := range q {
		read, known := params[key]
		switch {
		case !known:
			problems[key] = "unknown query parameter"
		case len(vals) > 1:
			problems[key] = "must be given at most once"
		default:
			if problem := read(vals[0]); problem != "" {
				problems[key] = problem
			}
		}
	}
	if len(problems) > 0 {
		return provisioning.InvalidFields(problems)
	}
	return nil
}

// textParam reads a parameter as it is.
func textParam[T ~string](dst *T) param {
	return func(v string) string { *dst = T(v); return "" }
}

// limitParam reads a page size from 1 to most.
func limitParam(dst *int, most int) param {
	return func(v string) string {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > most {
			return "must be an integer from 1 to " + strconv.Itoa(most)
		}
		*dst = n
		return ""
	}
}
