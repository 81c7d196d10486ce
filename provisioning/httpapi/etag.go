package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/provisiond/provisiond/provisioning"
)

// etag is the entity tag of a tenant or configuration version: the version in quotes.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// maxIfMatchVersions bounds the distinct versions one If-Match header may name; a header
// naming more is not evaluated and matches nothing.
const maxIfMatchVersions = 8

// matchesETag reports whether an If-None-Match list names the version. If-None-Match uses
// the weak comparison (RFC 9110 13.1.2): W/"3" names version 3; "*" matches any.
func matchesETag(list string, version int64) bool {
	if strings.TrimSpace(list) == "*" {
		return true
	}
	want, found := etag(version), false
	ok := eachEntityTag(list, func(tag entityTag) { found = found || tag.opaque == want })
	return ok && found
}

// ifMatch runs change under the request's If-Match (RFC 9110 13.1.1), which uses the strong
// comparison: the change applies when the current version is one of those the header's strong
// tags name; a weak tag (W/"3") never matches. Without If-Match, or with "*", change runs once
// with no precondition. A header that is malformed, names no version or names more than
// maxIfMatchVersions matches nothing: the change is refused with 412 (or 404 when there is
// nothing to change). When the header names several versions, change runs with each in turn
// until one is not refused as a failed precondition: each run is a transaction that checks its
// version, so the change still applies only to a version the client named.
func ifMatch[T any](r *http.Request, change func(provisioning.Precondition) (T, error)) (T, error) {
	versions, conditional := ifMatchVersions(r.Header.Values("If-Match"))
	if !conditional {
		return change(provisioning.Precondition{})
	}
	if len(versions) == 0 {
		return change(provisioning.Precondition{IfVersion: -1}) // matches no version: 412
	}
	var out T
	var err error
	for _, v := range versions {
		out, err = change(provisioning.Precondition{IfVersion: v})
		if provisioning.ErrorCode(err) != provisioning.CodePrecondition {
			break
		}
	}
	return out, err
}

// ifMatchVersions reads the lines of an If-Match header: conditional is false when there are
// none or the header is "*"; versions are the distinct versions its strong tags name, none
// when the header is malformed or names more than maxIfMatchVersions.
func ifMatchVersions(lines []string) (versions []int64, conditional bool) {
	list := strings.TrimSpace(strings.Join(lines, ","))
	if list == "" || list == "*" {
		return nil, false
	}
	tooMany := false
	ok := eachEntityTag(list, func(tag entityTag) {
		v, named := versionOf(tag)
		switch {
		case !named || tag.weak || slices.Contains(versions, v):
		case len(versions) == maxIfMatchVersions:
			tooMany = true
		default:
			versions = append(versions, v)
		}
	})
	if !ok || tooMany {
		return nil, true
	}
	return versions, true
}

// versionOf returns the version an entity tag names, if it names one: exactly as etag writes
// it, so "01" and "+1" name nothing.
func versionOf(tag entityTag) (int64, bool) {
	v, err := strconv.ParseInt(strings.Trim(tag.opaque, `"`), 10, 64)
	return v, err == nil && v >= 1 && etag(v) == tag.opaque
}

// entityTag is one entity tag of a list: its opaque part, quotes included, and whether it was
// weak.
type entityTag struct {
	opaque string
	weak   bool
}

// eachEntityTag calls fn with each entity tag of a comma-separated list (RFC 9110 8.8.3),
// skipping empty elements, and reports whether the whole list was well formed.
func eachEntityTag(list string, fn func(entityTag)) bool {
	for rest := list; ; {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return true
		}
		var tag entityTag
		rest, tag.weak = strings.CutPrefix(rest, "W/")
		end := opaqueEnd(rest)
		if end < 0 {
			return false
		}
		tag.opaque, rest = rest[:end], strings.TrimLeft(rest[end:], " \t")
		if rest != "" && rest[0] != ',' {
			return false
		}
		fn(tag)
	}
}

// opaqueEnd returns the length of the opaque tag (a quoted string of etagc) at the start of
// s, or -1 when s does not start with one.
func opaqueEnd(s string) int {
	if s == "" || s[0] != '"' {
		return -1
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c < 0x21 || c == 0x7f:
			return -1
		}
	}
	return -1
}
