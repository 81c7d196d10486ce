package provisioning_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

var operator = provisioning.Principal{PartnerID: "ops", Subject: "olga", Operator: true}

// An operator holds every permission; partner:manage is an operator's alone, whatever a
// token or the policy says.
func TestRBACOperators(t *testing.T) {
	rbac := provisioning.NewRBAC(provisioning.Policy{Roles: map[string][]provisioning.Permission{
		"pretender": {provisioning.PermPartnerManage, provisioning.PermTenantRead}}})
	ctx := context.Background()
	for _, perm := range provisioning.Permissions {
		if err := rbac.Authorize(ctx, operator, perm); err != nil {
			t.Errorf("an operator lacks %s: %v", perm, err)
		}
	}
	for _, p := range []provisioning.Principal{
		{PartnerID: "a", Permissions: []provisioning.Permission{provisioning.PermPartnerManage}},
		{PartnerID: "a", Roles: []string{"pretender"}},
	} {
		if err := rbac.Authorize(ctx, p, provisioning.PermPartnerManage); provisioning.ErrorCode(err) != provisioning.CodeForbidden {
			t.Errorf("%+v holds partner:manage: %v", p, err)
		}
	}
	if err := rbac.Authorize(ctx, provisioning.Principal{PartnerID: "a", Roles: []string{"pretender"}}, provisioning.PermTenantRead); err != nil {
		t.Errorf("the role's other permission: %v", err)
	}
}

// A partner id is registered only if a credential could name it exactly.
func TestPartnerIDs(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.Policy{}))
	ctx := context.Background()
	for _, id := range []string{"", " acme", "acme ", "ac\u200bme", "ac\x00me", "ac\u202eme", string(make([]byte, 256)), "\xff"} {
		_, err := svc.CreatePartner(ctx, operator, provisioning.PartnerInput{ID: id, Name: "x"})
		if e, ok := err.(*provisioning.Error); !ok || e.Fields["id"] == "" {
			t.Errorf("CreatePartner(%q): %v", id, err)
		}
		_, err = svc.UpdatePartner(ctx, operator, id, provisioning.PartnerPatch{})
		if provisioning.ErrorCode(err) != provisioning.CodeNotFound {
			t.Errorf("UpdatePartner(%q): %v", id, err)
		}
	}
	for _, id := range []string{"acme", "Größe-Reseller", "partner 42", "a:b/c"} {
		if _, err := svc.CreatePartner(ctx, operator, provisioning.PartnerInput{ID: id, Name: "x"}); err != nil {
			t.Errorf("CreatePartner(%q): %v", id, err)
		}
	}
}

// The cache of partner statuses holds at most MaxStatuses partners: one more makes room.
func TestPartnerStatusCacheIsBounded(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.Policy{}))
	ctx := context.Background()
	for i := range provisioning.MaxStatuses + 1 {
		p := provisioning.Principal{PartnerID: fmt.Sprintf("p-%d", i), Permissions: []provisioning.Permission{provisioning.PermWebhookManage}}
		if _, err := svc.ListWebhooks(ctx, p); err != nil {
			t.Fatal(err)
		}
		if n := svc.StatusCacheLen(); n > provisioning.MaxStatuses {
			t.Fatalf("%d statuses cached after %d partners", n, i+1)
		}
	}
}
