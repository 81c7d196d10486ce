package memstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// The in-memory store needs no set-up: for tests, and for hosts that keep nothing.
func ExampleNew() {
	ctx := context.Background()
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	admin := provisioning.Principal{PartnerID: "acme-reseller", Roles: []string{"partner-admin"}}
	for _, name := range []string{"First Corp", "Second Corp"} {
		if _, err := svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: name, Email: "ops@example.com"}); err != nil {
			log.Fatal(err)
		}
	}
	page, err := svc.ListTenants(ctx, admin, provisioning.TenantFilter{})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range page.Tenants {
		fmt.Println(t.CompanyName)
	}
	// Output:
	// Second Corp
	// First Corp
}
