package provisioning_test

import (
	"context"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

func TestRBAC(t *testing.T) {
	a := provisioning.NewRBAC(provisioning.Policy{Roles: map[string][]provisioning.Permission{
		"reader": {provisioning.PermTenantRead},
	}})
	cases := []struct {
		name string
		p    provisioning.Principal
		perm provisioning.Permission
		ok   bool
	}{
		{"role grants", provisioning.Principal{Roles: []string{"reader"}}, provisioning.PermTenantRead, true},
		{"role does not grant", provisioning.Principal{Roles: []string{"reader"}}, provisioning.PermTenantCreate, false},
		{"direct permission", provisioning.Principal{Permissions: []provisioning.Permission{"tenant:create"}}, provisioning.PermTenantCreate, true},
		{"unknown role", provisioning.Principal{Roles: []string{"partner-admin"}}, provisioning.PermTenantRead, false},
		{"nothing", provisioning.Principal{}, provisioning.PermTenantRead, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Authorize(context.Background(), tc.p, tc.perm)
			if (err == nil) != tc.ok {
				t.Fatalf("Authorize = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && provisioning.ErrorCode(err) != provisioning.CodeForbidden {
				t.Fatalf("code = %s, want forbidden", provisioning.ErrorCode(err))
			}
		})
	}
	def := provisioning.NewRBAC(provisioning.DefaultPolicy())
	admin := provisioning.Principal{Roles: []string{"partner-admin"}}
	for _, perm := range []provisioning.Permission{"tenant:create", "tenant:read", "tenant:update", "tenant:delete", "webhook:manage"} {
		if err := def.Authorize(context.Background(), admin, perm); err != nil {
			t.Errorf("partner-admin lacks %s: %v", perm, err)
		}
	}
}
