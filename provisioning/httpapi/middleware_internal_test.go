package httpapi

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/wire"
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

// writeTenant answers what writeJSON answers for the tenant's wire form, with its ETag: the
// same status, headers and bytes.
func TestWriteTenantAsWriteJSON(t *testing.T) {
	at := time.Date(2025, 2, 10, 16, 30, 0, 123e6, time.UTC)
	for _, tn := range []*provisioning.Tenant{
		{ID: "0190a0b0-0000-7000-8000-000000000001", PartnerID: "p", CompanyName: "Acme <&>", Email: "a@example.com",
			Status: provisioning.StatusActive, Version: 12345, CreatedAt: at, UpdatedAt: at,
			Metadata: map[string]string{"plan": "gold", "é": "\u2028"}},
		{ID: "0190a0b0-0000-7000-8000-000000000002", PartnerID: "p", CompanyName: strings.Repeat("x", 70000),
			Version: 1, CreatedAt: at, UpdatedAt: at, DeletionScheduledAt: at,
			Provisioning: provisioning.Provisioning{State: provisioning.ProvisioningFailed, Steps: []provisioning.ProvisioningStep{
				{Name: "admin-user", State: provisioning.ProvisioningFailed, Attempts: 2, LastError: "no\n"}}}},
	} {
		for range 2 { // the second time from a pooled buffer
			want := httptest.NewRecorder()
			want.Header().Set("ETag", etag(tn.Version))
			writeJSON(want, http.StatusCreated, wire.FromTenant(tn))
			got := httptest.NewRecorder()
			writeTenant(got, http.StatusCreated, tn)
			if got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) || got.Body.String() != want.Body.String() {
				t.Fatalf("writeTenant: %d %v\n%.300s\nwant: %d %v\n%.300s", got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
			}
		}
	}
}
