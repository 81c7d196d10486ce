package storetest

import (
	"context"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func testBulk(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	existing := mustCreate(t, svc, alice, input("Existing"))
	codes := func(rs []provisioning.BulkResult) []provisioning.Code {
		out := make([]provisioning.Code, len(rs))
		for i, r := range rs {
			out[i] = provisioning.ErrorCode(r.Err)
			if r.Err == nil && r.Tenant == nil {
				t.Fatalf("item %d has neither tenant nor error", i)
			}
		}
		return out
	}
	same := func(got, want []provisioning.Code) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}

	rs, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("B1"), input("existing"), {}, input("B2")}, false)
	if err != nil || !same(codes(rs), []provisioning.Code{"", provisioning.CodeTenantExists, provisioning.CodeInvalid, ""}) {
		t.Fatalf("non-atomic: %v %v", codes(rs), err)
	}
	wantExists(t, rs[1].Err, existing.ID)

	before := len(listAll(t, svc, alice, provisioning.TenantFilter{}))
	events := func() int { evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{}); return len(evs) }
	eventsBefore := events()
	for name, ins := range map[string][]provisioning.TenantInput{
		"conflict with a stored tenant": {input("A1"), input("A2"), input("EXISTING"), input("A3")},
		"duplicates within":             {input("A1"), input("a1")},
		"an invalid item":               {input("A1"), {CompanyName: "A2"}},
	} {
		rs, err := svc.CreateTenants(ctx, alice, ins, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		failed := 0
		for _, c := range codes(rs) {
			if c != provisioning.CodeFailedDependency {
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("%s: %v, want one failing item and the rest failed_dependency", name, codes(rs))
		}
	}
	if n := len(listAll(t, svc, alice, provisioning.TenantFilter{})); n != before || events() != eventsBefore {
		t.Fatalf("failed atomic bulks left tenants or events behind: %d tenants (was %d)", n, before)
	}
	rs, err = svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("A1"), input("A2")}, true)
	if err != nil || !same(codes(rs), []provisioning.Code{"", ""}) {
		t.Fatalf("atomic success: %v %v", codes(rs), err)
	}
	if n := len(listAll(t, svc, alice, provisioning.TenantFilter{})); n != before+2 || events() != eventsBefore+2 {
		t.Fatalf("atomic success stored %d tenants", n-before)
	}
	_, err = svc.CreateTenants(ctx, alice, nil, true)
	wantCode(t, err, provisioning.CodeInvalid)
}
