package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// testPatchLimitsRace: the limits that a change checks against what is stored — a tenant's
// metadata keys, its configuration's size — hold when three times as many concurrent patches
// as still fit each add a little, on two replicas where the store has them: exactly those that
// fit succeed, the others are refused (CodeInvalid). (The webhook limit has its own tests.)
func testPatchLimitsRace(t *testing.T, h Harness, twoStores bool) {
	_, svcs := replicas(t, h, twoStores)
	ctx := context.Background()
	const room = 5 // what still fits
	md := map[string]string{}
	for i := range provisioning.MaxMetadataKeys - room {
		md[fmt.Sprintf("k%02d", i)] = "v"
	}
	tn, err := svcs[0].CreateTenant(ctx, alice, provisioning.TenantInput{CompanyName: "Limited", Email: "l@example.com", Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 3*room)
	barrier.Run(len(errs), func(i int) {
		patch := provisioning.TenantPatch{Metadata: provisioning.Value(map[string]*string{fmt.Sprintf("race%02d", i): str("v")})}
		_, errs[i] = svcs[i%len(svcs)].UpdateTenant(ctx, alice, tn.ID, patch, provisioning.Precondition{})
	})
	got, err := svcs[0].GetTenant(ctx, alice, tn.ID)
	if n := succeeded(t, errs); n != room || err != nil || len(got.Metadata) != provisioning.MaxMetadataKeys {
		t.Fatalf("metadata: %d of %d concurrent patches succeeded, %d keys stored (%v); want %d and %d",
			n, len(errs), len(got.Metadata), err, room, provisioning.MaxMetadataKeys)
	}

	// Each patch adds a quarter of the configuration's limit: three fit, a fourth does not.
	const fit = 3
	value := strings.Repeat("x", provisioning.MaxConfigBytes/4)
	errs = make([]error, 3*fit)
	barrier.Run(len(errs), func(i int) {
		patch := json.RawMessage(fmt.Sprintf(`{"c%02d":%q}`, i, value))
		_, errs[i] = svcs[i%len(svcs)].UpdateTenantConfig(ctx, alice, tn.ID, patch, provisioning.Precondition{})
	})
	c, err := svcs[0].GetTenantConfig(ctx, alice, tn.ID)
	if n := succeeded(t, errs); n != fit || err != nil || len(c.Config) > provisioning.MaxConfigBytes || strings.Count(string(c.Config), value) != fit {
		t.Fatalf("config: %d of %d concurrent patches succeeded, %d bytes stored (%v); want %d", n, len(errs), len(c.Config), err, fit)
	}
}

// succeeded counts the nil errors; every other must be CodeInvalid.
func succeeded(t *testing.T, errs []error) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
			continue
		}
		wantCode(t, err, provisioning.CodeInvalid)
	}
	return n
}
