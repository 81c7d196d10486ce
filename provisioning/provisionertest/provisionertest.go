// Package provisionertest is the behaviour suite of provisioning.Provisioner: what a partner
// sees, the same whether it calls an in-process *provisioning.Service or a server through the
// HTTP client (httpapi.Client). Both run it, and neither is done until it is green:
//
//	func TestService(t *testing.T) {
//		provisionertest.Run(t, func(t *testing.T) provisionertest.Harness {
//			svc := provisioning.New(memstore.New(), provisioning.NewRBAC(provisioning.Policy{}))
//			return provisionertest.Harness{As: func(provisioning.Principal) provisioning.Provisioner { return svc }}
//		})
//	}
//
// The suite's principals carry their permissions directly (not through roles), so any RBAC
// policy serves; its operators are principals with Operator set, which RBAC grants every
// permission. It reads no clock and asserts no timing. It expects the Service's default
// deletion grace (DefaultDeletionGrace); purges are immediate ones (PurgeTenant), the Worker's
// are the store suite's.
package provisionertest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/provisiond/provisiond/provisioning"
)

// Harness is one fresh, empty Provisioner under test.
type Harness struct {
	// As returns the Provisioner to call as the principal p. An in-process Service returns
	// itself (it takes the principal with every call); a client returns one that holds a
	// credential the server resolves to exactly p. The suite passes p to every call too.
	As func(p provisioning.Principal) provisioning.Provisioner
	// Steps, when not nil, returns another fresh Provisioner whose tenants get steps, with the
	// work that runs them. Nil skips the tests that need it.
	Steps func(t *testing.T, steps []provisioning.Step) StepsHarness
	// Platform, when not nil, returns the Platform to call as p, as As does: the partner
	// registry and API keys are then tested too. Operators are principals with Operator set.
	Platform func(p provisioning.Principal) provisioning.Platform
}

// Run runs the whole suite; newHarness gives every subtest its own fresh Provisioner.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s *suite)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"CreateInvalid", testCreateInvalid},
		{"CreateWithConfig", testCreateWithConfig},
		{"TenantExists", testTenantExists},
		{"NotFound", testNotFound},
		{"NotFoundAcrossPartners", testNotFoundAcrossPartners},
		{"Forbidden", testForbidden},
		{"Unauthenticated", testUnauthenticated},
		{"ListFilters", testListFilters},
		{"ListPaging", testListPaging},
		{"ListInvalidFilter", testListInvalidFilter},
		{"Update", testUpdate},
		{"UpdateInvalid", testUpdateInvalid},
		{"Replace", testReplace},
		{"Precondition", testPrecondition},
		{"Delete", testDelete},
		{"DeleteTwice", testDeleteTwice},
		{"DeleteGrace", testDeleteGrace},
		{"PendingDeletionRefusesChanges", testPendingDeletionRefusesChanges},
		{"Restore", testRestore},
		{"Purge", testPurge},
		{"Export", testExport},
		{"ExportPaging", testExportPaging},
		{"Availability", testAvailability},
		{"Bulk", testBulk},
		{"BulkAtomic", testBulkAtomic},
		{"Config", testConfig},
		{"Events", testEvents},
		{"EventsPaging", testEventsPaging},
		{"Webhooks", testWebhooks},
		{"WebhookDeliveries", testWebhookDeliveries},
		{"WebhookOperations", testWebhookOperations},
		{"ProvisioningWithoutSteps", testProvisioningWithoutSteps},
		{"ProvisioningSteps", testProvisioningSteps},
		{"PartnerRegistry", testPartnerRegistry},
		{"PartnerQuota", testPartnerQuota},
		{"PartnerDisabled", testPartnerDisabled},
		{"OperatorScope", testOperatorScope},
		{"APIKeys", testAPIKeys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, &suite{h: newHarness(t), ctx: context.Background()})
		})
	}
}

// The principals the suite acts as.
var (
	every = []provisioning.Permission{provisioning.PermTenantCreate, provisioning.PermTenantRead,
		provisioning.PermTenantUpdate, provisioning.PermTenantDelete, provisioning.PermWebhookManage}
	// alice administers partner-a.
	alice = provisioning.Principal{PartnerID: "partner-a", Subject: "alice", Permissions: every}
	// rita may only read partner-a's tenants.
	rita = provisioning.Principal{PartnerID: "partner-a", Subject: "rita",
		Permissions: []provisioning.Permission{provisioning.PermTenantRead}}
	// carl may create and read partner-a's tenants, nothing else.
	carl = provisioning.Principal{PartnerID: "partner-a", Subject: "carl",
		Permissions: []provisioning.Permission{provisioning.PermTenantCreate, provisioning.PermTenantRead}}
	// paula administers partner-a and may also purge its tenants at once.
	paula = provisioning.Principal{PartnerID: "partner-a", Subject: "paula",
		Permissions: append([]provisioning.Permission{provisioning.PermTenantPurge}, every...)}
	// bob administers partner-b.
	bob = provisioning.Principal{PartnerID: "partner-b", Subject: "bob", Permissions: every}
	// petra is partner-b's purger.
	petra = provisioning.Principal{PartnerID: "partner-b", Subject: "petra",
		Permissions: append([]provisioning.Permission{provisioning.PermTenantPurge}, every...)}
	// nobody names no partner.
	nobody = provisioning.Principal{Subject: "nobody", Permissions: every}
)

var none = provisioning.Precondition{}

// suite is one subtest's Provisioner and context.
type suite struct {
	h   Harness
	ctx context.Context
}

// as returns the Provisioner acting as p.
func (s *suite) as(p provisioning.Principal) provisioning.Provisioner { return s.h.As(p) }

func input(name string) provisioning.TenantInput {
	return provisioning.TenantInput{CompanyName: name, Email: "ops@example.com"}
}

func (s *suite) create(t *testing.T, p provisioning.Principal, in provisioning.TenantInput) *provisioning.Tenant {
	t.Helper()
	tn, err := s.as(p).CreateTenant(s.ctx, p, in)
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", in.CompanyName, err)
	}
	return tn
}

func (s *suite) get(t *testing.T, p provisioning.Principal, id string) *provisioning.Tenant {
	t.Helper()
	tn, err := s.as(p).GetTenant(s.ctx, p, id)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	return tn
}

// names lists every tenant f selects, page by page, by company name, newest first.
func (s *suite) names(t *testing.T, p provisioning.Principal, f provisioning.TenantFilter) []string {
	t.Helper()
	var names []string
	for range 100 {
		page, err := s.as(p).ListTenants(s.ctx, p, f)
		if err != nil {
			t.Fatalf("ListTenants(%+v): %v", f, err)
		}
		for _, tn := range page.Tenants {
			names = append(names, tn.CompanyName)
		}
		if !page.HasMore {
			if page.NextCursor != "" {
				t.Fatalf("the last page has a next cursor %q", page.NextCursor)
			}
			return names
		}
		f.Cursor = page.NextCursor
	}
	t.Fatal("ListTenants never reached the last page")
	return nil
}

func wantCode(t *testing.T, err error, want provisioning.Code) *provisioning.Error {
	t.Helper()
	if got := provisioning.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
	var e *provisioning.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not a *provisioning.Error", err)
	}
	return e
}

// wantFields checks a CodeInvalid error that names exactly the fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	e := wantCode(t, err, provisioning.CodeInvalid)
	got := slices.Sorted(maps.Keys(e.Fields))
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Fatalf("invalid fields = %v (%v), want %v", got, e.Fields, fields)
	}
	for f, msg := range e.Fields {
		if msg == "" {
			t.Fatalf("field %s has no message", f)
		}
	}
}

func wantExists(t *testing.T, err error, existing string) {
	t.Helper()
	if e := wantCode(t, err, provisioning.CodeTenantExists); e.TenantID != existing {
		t.Fatalf("tenant_exists names %q, want %q", e.TenantID, existing)
	}
}

// sameTenant compares every field of two tenants, times by instant.
func sameTenant(t *testing.T, got, want *provisioning.Tenant) {
	t.Helper()
	if g, w := render(got), render(want); g != w {
		t.Fatalf("tenant differs\n got: %s\nwant: %s", g, w)
	}
}

func render(t *provisioning.Tenant) string {
	c := *t
	c.CreatedAt, c.UpdatedAt, c.DeletionScheduledAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), c.DeletionScheduledAt.UTC()
	return fmt.Sprintf("%+v", c)
}
