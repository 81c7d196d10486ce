// Command client walks through the provisioning API as a partner integration written in Go
// would, with the library's client (httpapi.Client): create a tenant with its configuration,
// read it, suspend it only if nobody changed it meanwhile, handle a conflict, list with
// filters across pages, delete it (it stays restorable for the server's --deletion-grace),
// restore it, export everything held about it, delete it for good, and read the event feed.
// The client retries on its own, safely: every change carries an Idempotency-Key.
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

	// A delete schedules the purge: the tenant is pending deletion, restorable until then.
	t, err = c.DeleteTenant(ctx, me, t.ID, provisioning.DeleteOptions{}, provisioning.Precondition{})
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	fmt.Fprintf(out, "deleted: status %s, purged at %s unless restored\n", t.Status, t.DeletionScheduledAt.Format(time.RFC3339))
	if a, err := c.TenantAvailability(ctx, me, provisioning.AvailabilityQuery{CompanyName: name}); err != nil || a.Available {
		return fmt.Errorf("availability while pending deletion: %+v, %v", a, err)
	}
	fmt.Fprintf(out, "its name is still taken\n")
	t, err = c.RestoreTenant(ctx, me, t.ID, provisioning.Precondition{IfVersion: t.Version})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(out, "restored: status %s, version %d\n", t.Status, t.Version)

	x, err := c.ExportTenant(ctx, me, t.ID, provisioning.ExportFilter{})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(out, "export: %s, config version %d, %d events\n", x.Tenant.CompanyName, x.Config.Version, len(x.Events))

	// Deleted again, with a grace of an hour; the server's Worker purges it then.
	if t, err = c.DeleteTenant(ctx, me, t.ID, provisioning.DeleteOptions{Grace: time.Hour}, provisioning.Precondition{}); err != nil {
		return fmt.Errorf("delete again: %w", err)
	}
	fmt.Fprintf(out, "deleted again: purged in %s\n", t.DeletionScheduledAt.Sub(t.UpdatedAt))

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
