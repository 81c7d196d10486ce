package httpapi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// The headers every response carries share one array of values (requestInfo.hdr): a handler
// that adds to one of them must leave the others as they were.
func TestSharedHeaderValuesStayApart(t *testing.T) {
	s := &server{}
	h := s.withRequestInfo(withHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Request-Id", "second")
		w.Header().Add("Cache-Control", "private")
	})))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-Id", "first")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	for key, want := range map[string][]string{
		"X-Request-Id":           {"first", "second"},
		"Cache-Control":          {"no-store", "private"},
		"X-Content-Type-Options": {"nosniff"},
	} {
		if got := w.Header().Values(key); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}
}

// The principal set by authed is the request's alone: another request's context, and a
// request outside an authenticated route, see none.
func TestPrincipalIsPerRequest(t *testing.T) {
	s := &server{}
	var seen []string
	h := s.withRequestInfo(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Partner"); id != "" {
			requestInfoFrom(r.Context()).principal.PartnerID = id
		}
		seen = append(seen, principal(r).PartnerID)
	}))
	for _, partner := range []string{"a", "", "b"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Partner", partner)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if want := []string{"a", "", "b"}; !slices.Equal(seen, want) {
		t.Fatalf("principals %q, want %q", seen, want)
	}
}
