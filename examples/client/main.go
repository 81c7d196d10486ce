// Command client walks through the provisioning API as a partner integration written in Go
// would, with the library's client (httpapi.Client): create a tenant with its configuration,
// read it, suspend it only if nobody changed it meanwhile, handle a conflict, list with
// filters across pages, read the event feed, and delete. The client retries on its own, safely:
// every change carries an Idempotency-Key.
//
//	go run ./cmd/provisiond --dev          # in one shell; copy the TOKEN it prints
//	PROVISIOND_URL=http://127.0.0.1:8080 TOKEN=… go run ./examples/client
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
)

func main() {
	base, token := os.Getenv("PROVISIOND_URL"), os.Getenv("TOKEN")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	if token == "" {
		log.Fatal("set TOKEN to the token provisiond --dev printed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, httpapi.NewClient(base, httpapi.WithToken(token)), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// me is the Principal argument of the client's methods: the client acts as its token's
// principal, so the zero value will do.
var me provisioning.Principal

// run is the walk-through, against the server c talks to. Apart from the page iterators
// (AllTenants, AllEvents), every call is one of provisioning.Provisioner, which the in-process
// Service implements too.
func run(ctx context.Context, c *httpapi.Client, out io.Writer) error {
	name := fmt.Sprintf("Walkthrough %d", time.Now().UnixNano())
	t, err := c.CreateTenant(ctx, me, provisioning.TenantInput{
		CompanyName: name, Email: "ops@walkthrough.example",
		Metadata: map[string]string{"plan": "gold"},
		Config:   json.RawMessage(`{"seats": 25, "sso": {"enabled": false}}`), // stored with the tenant
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Fprintf(out, "created %s (%s), version %d\n", t.ID, t.CompanyName, t.Version)

	// Creating the same company again conflicts, and the error names the tenant that exists.
	_, err = c.CreateTenant(ctx, me, provisioning.TenantInput{CompanyName: name, Email: "other@walkthrough.example"})
	var perr *provisioning.Error
	if !errors.As(err, &perr) || perr.Code != provisioning.CodeTenantExists {
		return fmt.Errorf("a second create of %q: %v, want tenant_exists", name, err)
	}
	fmt.Fprintf(out, "a second %q conflicts with %s\n", name, perr.TenantID)

	t, err = c.GetTenant(ctx, me, t.ID)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	// Suspend only if nobody changed the tenant since we read it (If-Match on the wire).
	t, err = c.UpdateTenant(ctx, me, t.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)},
		provisioning.Precondition{IfVersion: t.Version})
	if err != nil {
		return fmt.Errorf("suspend: %w", err)
	}
	fmt.Fprintf(out, "suspended: status %s, version %d\n", t.Status, t.Version)

	cfg, err := c.UpdateTenantConfig(ctx, me, t.ID, json.RawMessage(`{"sso": {"enabled": true}}`), provisioning.Precondition{})
	if err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	fmt.Fprintf(out, "config version %d: %s\n", cfg.Version, cfg.Config)

	n := 0
	for _, err := range c.AllTenants(ctx, provisioning.TenantFilter{Status: provisioning.StatusSuspended,
		Metadata: map[string]string{"plan": "gold"}, Limit: 10}) {
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		n++
	}
	fmt.Fprintf(out, "suspended gold tenants: %d\n", n)

	if err := c.DeleteTenant(ctx, me, t.ID, provisioning.Precondition{}); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	fmt.Fprintln(out, "deleted")

	var types []provisioning.EventType
	for e, err := range c.AllEvents(ctx, provisioning.EventFilter{}) {
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		if e.TenantID == t.ID {
			types = append(types, e.Type)
		}
	}
	fmt.Fprintf(out, "its events: %v\n", types)
	return nil
}
