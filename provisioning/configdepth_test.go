package provisioning_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
	"github.com/provisiond/provisiond/provisioning/store/memstore"
)

// deep is a JSON object nested exactly levels deep.
func deep(levels int) json.RawMessage {
	return json.RawMessage(strings.Repeat(`{"k":`, levels-1) + `{}` + strings.Repeat(`}`, levels-1))
}

// A configuration document given to the Service — at create, replaced or merge-patched — may
// nest MaxJSONDepth levels, not one more: a Go caller is held to the bound the HTTP adapter
// holds every body to.
func TestConfigNestingIsBounded(t *testing.T) {
	ctx := context.Background()
	svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.DefaultPolicy()))
	admin := provisioning.Principal{PartnerID: "p", Roles: []string{"partner-admin"}}
	create := func(name string, config json.RawMessage) (*provisioning.Tenant, error) {
		return svc.CreateTenant(ctx, admin, provisioning.TenantInput{CompanyName: name, Email: "a@example.com", Config: config})
	}
	tn, err := create("At the bound", deep(provisioning.MaxJSONDepth))
	if err != nil {
		t.Fatalf("create at %d levels: %v", provisioning.MaxJSONDepth, err)
	}
	wantTooDeep := func(what string, err error) {
		t.Helper()
		var e *provisioning.Error
		if provisioning.ErrorCode(err) != provisioning.CodeInvalid || !errors.As(err, &e) || !strings.Contains(e.Fields["config"], "32 levels") {
			t.Fatalf("%s: %v, want config invalid for its depth", what, err)
		}
	}
	_, err = create("Past the bound", deep(provisioning.MaxJSONDepth+1))
	wantTooDeep("create", err)
	for _, levels := range []int{provisioning.MaxJSONDepth + 1, 100_000} {
		_, err = svc.ReplaceTenantConfig(ctx, admin, tn.ID, deep(levels), provisioning.Precondition{})
		wantTooDeep("replace", err)
		_, err = svc.UpdateTenantConfig(ctx, admin, tn.ID, deep(levels), provisioning.Precondition{})
		wantTooDeep("merge patch", err)
	}
	if c, err := svc.GetTenantConfig(ctx, admin, tn.ID); err != nil || c.Version != 1 {
		t.Fatalf("config %v (%v): a refused change changed it", c, err)
	}
	if _, err := svc.UpdateTenantConfig(ctx, admin, tn.ID, json.RawMessage(`{"k":null,"j":`+string(deep(provisioning.MaxJSONDepth-1))+`}`), provisioning.Precondition{}); err != nil {
		t.Fatalf("merge patch at the bound: %v", err)
	}
}

// JSONDepthExceeded counts objects and arrays, not brackets inside strings, and names the
// offset of the first one past the bound.
func TestJSONDepthExceeded(t *testing.T) {
	n := provisioning.MaxJSONDepth
	cases := []struct {
		text string
		want int
	}{
		{`{}`, -1},
		{string(deep(n)), -1},
		{string(deep(n + 1)), 5 * n},
		{`{"a":"` + strings.Repeat(`[{`, 100) + `"}`, -1},
		{`{"a":"\"` + strings.Repeat(`[`, 100) + `"}`, -1},
		{`{"a\\":` + strings.Repeat(`[`, n) + strings.Repeat(`]`, n) + `}`, 6 + n},
		{strings.Repeat(`[`, n) + strings.Repeat(`]`, n) + strings.Repeat(`[`, n) + strings.Repeat(`]`, n), -1},
		{strings.Repeat(`[`, 100_000), n},
	}
	for _, c := range cases {
		if got := provisioning.JSONDepthExceeded([]byte(c.text)); got != c.want {
			t.Errorf("JSONDepthExceeded(%.60s…) = %d, want %d", c.text, got, c.want)
		}
	}
}
