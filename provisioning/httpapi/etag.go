package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/provisiond/provisiond/provisioning"
)

// etag is the entity tag of a tenant version: the version in quotes.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// matchesETag reports whether a comma-separated If-Match/If-None-Match list names the version
// (weak tags compare equal, "*" matches any).
func matchesETag(list string, version int64) bool {
	want := etag(version)
	for _, tag := range strings.Split(list, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == want {
			return true
		}
	}
	return false
}

// precondition turns If-Match into a Precondition. A list of several tags or a tag that is not
// a version can never match a single current version, except "*".
func precondition(r *http.Request) provisioning.Precondition {
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return provisioning.Precondition{}
	}
	tag := strings.TrimPrefix(im, "W/")
	v, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
	if err != nil || v < 1 || len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return provisioning.Precondition{IfVersion: -1} // matches no version: 412
	}
	return provisioning.Precondition{IfVersion: v}
}
