package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// A Go program provisions tenants on a server through the client. Here the server runs in the
// example itself: the API over an in-memory Service, with one fixed token for partner-42.
func ExampleNewClient() {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	tokens := staticAuth{"secret-token": {PartnerID: "partner-42", Subject: "crm-sync", Roles: []string{"partner-admin"}}}
	srv := httptest.NewServer(httpapi.New(svc, tokens, httpapi.WithIdempotency(svc)))
	defer srv.Close()

	client := httpapi.NewClient(srv.URL, httpapi.WithToken("secret-token"))
	ctx := context.Background()
	// The client acts as its token's principal: the Principal argument is ignored.
	tenant, err := client.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{
		CompanyName: "Example Corp", Email: "Admin@Example.com", Metadata: map[string]string{"plan": "gold"},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(tenant.CompanyName, tenant.Email, tenant.Status, tenant.Version)

	suspended, err := client.UpdateTenant(ctx, provisioning.Principal{}, tenant.ID,
		provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)},
		provisioning.Precondition{IfVersion: tenant.Version}) // sent as If-Match
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(suspended.Status, suspended.Version)
	// Output:
	// Example Corp admin@example.com active 1
	// suspended 2
}

// Errors come back as *provisioning.Error with the code the server answered, just as the
// in-process Service returns them.
func ExampleClient_CreateTenant_exists() {
	url, stop := exampleServer()
	defer stop()
	client := httpapi.NewClient(url, httpapi.WithToken("secret-token"))
	ctx := context.Background()
	first, _ := client.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Acme", Email: "ops@acme.example"})

	_, err := client.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{CompanyName: "ACME ", Email: "ops@acme.example"})
	var e *provisioning.Error
	if errors.As(err, &e) {
		fmt.Println(provisioning.ErrorCode(err), e.TenantID == first.ID)
	}

	_, err = client.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{CompanyName: "Beta", Email: "not an address"})
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Fields["email"])
	}
	// Output:
	// tenant_exists true
	// validation_failed must be a valid email address
}

// AllTenants walks every page of a listing.
func ExampleClient_AllTenants() {
	url, stop := exampleServer()
	defer stop()
	client := httpapi.NewClient(url, httpapi.WithToken("secret-token"))
	ctx := context.Background()
	for _, name := range []string{"Alpha", "Beta", "Gamma"} {
		if _, err := client.CreateTenant(ctx, provisioning.Principal{}, provisioning.TenantInput{CompanyName: name, Email: "ops@example.com"}); err != nil {
			fmt.Println("error:", err)
			return
		}
	}
	for tenant, err := range client.AllTenants(ctx, provisioning.TenantFilter{Limit: 2}) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(tenant.CompanyName)
	}
	// Output:
	// Gamma
	// Beta
	// Alpha
}

// staticAuth is an httpapi.Authenticator of fixed tokens, standing in for provisioning/jwtauth.
type staticAuth map[string]provisioning.Principal

// Authenticate implements httpapi.Authenticator.
func (a staticAuth) Authenticate(_ context.Context, token string) (provisioning.Principal, error) {
	p, ok := a[token]
	if !ok {
		return p, provisioning.Errorf(provisioning.CodeUnauthenticated, "unknown token")
	}
	return p, nil
}

// exampleServer serves the API over an in-memory Service, with the token "secret-token" for
// an administrator of partner-42.
func exampleServer() (url string, stop func()) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	srv := httptest.NewServer(httpapi.New(svc, staticAuth{"secret-token": {PartnerID: "partner-42", Subject: "crm-sync",
		Roles: []string{"partner-admin"}}}, httpapi.WithIdempotency(svc)))
	return srv.URL, srv.Close
}
