package provisionertest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func testBulk(t *testing.T, s *suite) {
	existing := s.create(t, alice, input("Existing"))
	results, err := s.as(alice).CreateTenants(s.ctx, alice, []provisioning.TenantInput{
		input("One"), input("existing"), {CompanyName: "Bad", Email: "nope"}, input("Two"),
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 4 {
		t.Fatalf("%d results for 4 items", len(results))
	}
	for _, i := range []int{0, 3} {
		if results[i].Err != nil || results[i].Tenant == nil || results[i].Tenant.Version != 1 {
			t.Fatalf("item %d: %+v", i, results[i])
		}
		sameTenant(t, s.get(t, alice, results[i].Tenant.ID), results[i].Tenant)
	}
	if results[1].Tenant != nil || results[2].Tenant != nil {
		t.Fatalf("failed items carry tenants: %+v", results)
	}
	wantExists(t, results[1].Err, existing.ID)
	wantFields(t, results[2].Err, "email")
	if got := s.names(t, alice, provisioning.TenantFilter{}); !slices.Equal(got, []string{"Two", "One", "Existing"}) {
		t.Fatalf("names = %v", got)
	}

	_, err = s.as(alice).CreateTenants(s.ctx, alice, nil, false)
	wantFields(t, err, "tenants")
	many := make([]provisioning.TenantInput, provisioning.MaxBulk+1)
	for i := range many {
		many[i] = input(fmt.Sprintf("Many %d", i))
	}
	_, err = s.as(alice).CreateTenants(s.ctx, alice, many, false)
	wantFields(t, err, "tenants")
}

func testBulkAtomic(t *testing.T, s *suite) {
	existing := s.create(t, alice, input("Existing"))
	results, err := s.as(alice).CreateTenants(s.ctx, alice, []provisioning.TenantInput{
		input("One"), input("EXISTING"), input("Two"),
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, results[0].Err, provisioning.CodeFailedDependency)
	wantExists(t, results[1].Err, existing.ID)
	wantCode(t, results[2].Err, provisioning.CodeFailedDependency)
	if got := s.names(t, alice, provisioning.TenantFilter{}); !slices.Equal(got, []string{"Existing"}) {
		t.Fatalf("an atomic failure created %v", got)
	}

	results, err = s.as(alice).CreateTenants(s.ctx, alice, []provisioning.TenantInput{input("Dup"), input("dup ")}, true)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, results[0].Err, provisioning.CodeFailedDependency)
	wantCode(t, results[1].Err, provisioning.CodeTenantExists)

	results, err = s.as(alice).CreateTenants(s.ctx, alice, []provisioning.TenantInput{input("One"), input("Two")}, true)
	if err != nil || results[0].Err != nil || results[1].Err != nil {
		t.Fatalf("atomic success: %+v, %v", results, err)
	}
	if got := s.names(t, alice, provisioning.TenantFilter{}); !slices.Equal(got, []string{"Two", "One", "Existing"}) {
		t.Fatalf("names = %v", got)
	}
}
