package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/httpapi"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

type oneToken string

func (tok oneToken) Authenticate(_ context.Context, token string) (provisioning.Principal, error) {
	if token != string(tok) {
		return provisioning.Principal{}, provisioning.Errorf(provisioning.CodeUnauthenticated, "unknown token")
	}
	return provisioning.Principal{PartnerID: "partner-a", Subject: "walkthrough", Roles: []string{"partner-admin"}}, nil
}

// The walk-through runs against a real server, start to end.
func TestWalkthrough(t *testing.T) {
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	srv := httptest.NewServer(httpapi.New(svc, oneToken("tok"), httpapi.WithIdempotency(svc)))
	defer srv.Close()
	var out strings.Builder
	if err := run(context.Background(), httpapi.NewClient(srv.URL, httpapi.WithToken("tok")), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	want := regexp.MustCompile(`(?s)^created \S+ \(Walkthrough \d+\), version 1
a second "Walkthrough \d+" conflicts with \S+
suspended: status suspended, version 2
config version 2: {"seats":25,"sso":{"enabled":true}}
suspended gold tenants: 1
deleted: status pending_deletion, purged at \S+ unless restored
its name is still taken
restored: status suspended, version 4
export: Walkthrough \d+, config version 2, 5 events
deleted again: purged in 1h0m0s
its events: \[tenant.created tenant.suspended tenant.config.updated tenant.deletion_scheduled tenant.restored tenant.deletion_scheduled\]
$`)
	if !want.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
}
