package provisionertest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

func testListFilters(t *testing.T, s *suite) {
	for i, name := range []string{"Alpha Labs", "Beta Corp", "Gamma Labs", "Delta"} {
		in := input(name)
		in.Email = fmt.Sprintf("ops%d@example.com", i%2)
		in.ExternalID = fmt.Sprintf("crm-%d", i)
		in.Metadata = map[string]string{"plan": []string{"gold", "silver"}[i%2], "n": fmt.Sprint(i)}
		if i == 3 {
			in.Status = provisioning.StatusSuspended
		}
		s.create(t, alice, in)
	}
	s.create(t, bob, input("Beta Labs"))
	for _, tc := range []struct {
		name   string
		filter provisioning.TenantFilter
		want   []string
	}{
		{"none", provisioning.TenantFilter{}, []string{"Delta", "Gamma Labs", "Beta Corp", "Alpha Labs"}},
		{"status", provisioning.TenantFilter{Status: provisioning.StatusSuspended}, []string{"Delta"}},
		{"external id", provisioning.TenantFilter{ExternalID: "crm-1"}, []string{"Beta Corp"}},
		{"email, any case", provisioning.TenantFilter{Email: "OPS1@example.com"}, []string{"Delta", "Beta Corp"}},
		{"query, any case", provisioning.TenantFilter{Query: "LABS"}, []string{"Gamma Labs", "Alpha Labs"}},
		{"metadata", provisioning.TenantFilter{Metadata: map[string]string{"plan": "gold"}}, []string{"Gamma Labs", "Alpha Labs"}},
		{"metadata, two pairs", provisioning.TenantFilter{Metadata: map[string]string{"plan": "gold", "n": "2"}}, []string{"Gamma Labs"}},
		{"together", provisioning.TenantFilter{Query: "a", Email: "ops1@example.com", Status: provisioning.StatusActive}, []string{"Beta Corp"}},
		{"nothing matches", provisioning.TenantFilter{ExternalID: "crm-9"}, nil},
		{"created in a window", provisioning.TenantFilter{CreatedAfter: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			CreatedBefore: time.Date(9000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 3600)), Status: provisioning.StatusActive},
			[]string{"Gamma Labs", "Beta Corp", "Alpha Labs"}},
		{"created after the future", provisioning.TenantFilter{CreatedAfter: time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"created before the past", provisioning.TenantFilter{CreatedBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.names(t, alice, tc.filter); !slices.Equal(got, tc.want) {
				t.Fatalf("names = %v, want %v", got, tc.want)
			}
		})
	}
}

func testListPaging(t *testing.T, s *suite) {
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("T%d", i)
		s.create(t, alice, input(name))
		want = append([]string{name}, want...) // newest first
	}
	for _, limit := range []int{1, 2, 3, 7, 50} {
		if got := s.names(t, alice, provisioning.TenantFilter{Limit: limit}); !slices.Equal(got, want) {
			t.Fatalf("limit %d: %v, want %v", limit, got, want)
		}
	}
	page, err := s.as(rita).ListTenants(s.ctx, rita, provisioning.TenantFilter{Limit: 3})
	if err != nil || len(page.Tenants) != 3 || !page.HasMore || page.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
}

func testListInvalidFilter(t *testing.T, s *suite) {
	for _, tc := range []struct {
		filter provisioning.TenantFilter
		field  string
	}{
		{provisioning.TenantFilter{Limit: 201}, "limit"},
		{provisioning.TenantFilter{Limit: -1}, "limit"},
		{provisioning.TenantFilter{Cursor: "not-a-cursor"}, "cursor"},
		{provisioning.TenantFilter{Status: "gone"}, "status"},
		{provisioning.TenantFilter{CreatedAfter: time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)}, "created_after"},
		{provisioning.TenantFilter{CreatedBefore: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "created_before"},
	} {
		_, err := s.as(alice).ListTenants(s.ctx, alice, tc.filter)
		wantFields(t, err, tc.field)
	}
}
