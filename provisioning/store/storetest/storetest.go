// Package storetest is the conformance suite of provisioning.Store: every store (memory, SQLite,
// PostgreSQL) runs it from one test function, and a store is done when the suite is green. It
// checks the contract of provisioning.Tx by calling its methods themselves (the Tx/... tests),
// and the store under the Service and its transactions, replicas and crashes (the others); each
// subtest runs on a fresh store.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{New: func(t *testing.T) provisioning.Store { … }})
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/provisioning"
)

// Harness tells the suite how to get stores.
type Harness struct {
	// New returns a fresh, empty store for one subtest, closed by the suite's cleanup or by
	// the harness itself.
	New func(t *testing.T) provisioning.Store
	// Reopen returns a second Store on the same data as s: another replica, or the same
	// database after a restart. Nil for stores whose data lives only in the value itself.
	Reopen func(t *testing.T, s provisioning.Store) provisioning.Store
	// HostTransactions says the stores implement HostTransactions: a host application can
	// provision inside its own database transaction.
	HostTransactions bool
	// RefuseTenant makes s fail — with an error that is not a conflict, as a database refuses a
	// value it cannot hold — to insert a tenant named companyName, and returns the Store to use:
	// s itself after, say, a CHECK constraint or a trigger, or Refusing(s, companyName) for a
	// store without a database. Nil skips the tests that need it.
	RefuseTenant func(t *testing.T, s provisioning.Store, companyName string) provisioning.Store
}

// allowAll grants every permission, so the suite exercises the store, not the policy.
type allowAll struct{}

// Authorize implements provisioning.Authorizer.
func (allowAll) Authorize(context.Context, provisioning.Principal, provisioning.Permission) error {
	return nil
}

// Run runs the whole suite against h's stores.
func Run(t *testing.T, h Harness) {
	t.Run("Tx", func(t *testing.T) { runTx(t, h) })
	t.Run("CreateAndGet", func(t *testing.T) { testCreateAndGet(t, h) })
	t.Run("UniqueCompanyName", func(t *testing.T) { testUniqueCompanyName(t, h) })
	t.Run("UniqueExternalID", func(t *testing.T) { testUniqueExternalID(t, h) })
	t.Run("DeletionGrace", func(t *testing.T) { testDeletionGrace(t, h) })
	t.Run("Restore", func(t *testing.T) { testRestore(t, h) })
	t.Run("PurgeByTheWorker", func(t *testing.T) { testPurgeByTheWorker(t, h) })
	t.Run("PurgeRedacts", func(t *testing.T) { testPurgeRedacts(t, h) })
	t.Run("PurgeForgetsAnswers", func(t *testing.T) { testPurgeForgetsAnswers(t, h) })
	t.Run("PurgeRace", func(t *testing.T) { testPurgeRace(t, h, false) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, h) })
	t.Run("PartnerIsolation", func(t *testing.T) { testPartnerIsolation(t, h) })
	t.Run("Filters", func(t *testing.T) { testFilters(t, h) })
	t.Run("CreatedFilters", func(t *testing.T) { testCreatedFilters(t, h) })
	t.Run("HostileInputIsInvalid", func(t *testing.T) { testHostileInput(t, h) })
	t.Run("ExtremeValues", func(t *testing.T) { testExtremeValues(t, h) })
	t.Run("LookAlikeNamesCollide", func(t *testing.T) { testLookAlikeNames(t, h) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, h) })
	t.Run("PaginationUnderConcurrentInserts", func(t *testing.T) { testPaginationConcurrent(t, h) })
	t.Run("RaceSameName", func(t *testing.T) { testRaceSameName(t, h, false) })
	t.Run("ConcurrentUpdatesLoseNothing", func(t *testing.T) { testConcurrentUpdates(t, h) })
	t.Run("RollbackLeavesNothing", func(t *testing.T) { testRollback(t, h) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceled(t, h) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, h) })
	t.Run("IdempotencyExpiry", func(t *testing.T) { testIdempotencyExpiry(t, h) })
	t.Run("IdempotentWorkBeforeTheStoreHoldsNoLock", func(t *testing.T) { testIdempotentWorkHoldsNoLock(t, h) })
	t.Run("IdempotencyRace", func(t *testing.T) { testIdempotencyRace(t, h, false) })
	t.Run("Events", func(t *testing.T) { testEvents(t, h) })
	t.Run("Config", func(t *testing.T) { testConfig(t, h) })
	t.Run("Bulk", func(t *testing.T) { testBulk(t, h) })
	t.Run("BulkItemRefusedByTheStore", func(t *testing.T) { testBulkRefused(t, h) })
	t.Run("BulkFansOutInOrder", func(t *testing.T) { testBulkFansOut(t, h) })
	t.Run("BulkDuplicatesNameTheirHolders", func(t *testing.T) { testBulkDuplicates(t, h) })
	t.Run("BulkStoresEveryValue", func(t *testing.T) { testBulkStoresEveryValue(t, h) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, h) })
	t.Run("WebhookSecretRotation", func(t *testing.T) { testWebhookSecretRotation(t, h) })
	t.Run("WebhookLimitRace", func(t *testing.T) { testWebhookLimitRace(t, h, false) })
	t.Run("WebhookLimitOpenRegistration", func(t *testing.T) { testWebhookLimitOpenRegistration(t, h, false) })
	t.Run("PatchLimitsRace", func(t *testing.T) { testPatchLimitsRace(t, h, false) })
	t.Run("DeliveryClaimRace", func(t *testing.T) { testDeliveryClaimRace(t, h, false) })
	t.Run("DeliveryClaimServesEveryPartner", func(t *testing.T) { testDeliveryClaimServesEveryPartner(t, h) })
	t.Run("DeliveryClaimEndpointBound", func(t *testing.T) { testDeliveryClaimEndpointBound(t, h) })
	t.Run("DeliveryClaimPartnerBound", func(t *testing.T) { testDeliveryClaimPartnerBound(t, h) })
	t.Run("DeliveryClaimBoundsRace", func(t *testing.T) { testDeliveryClaimBoundsRace(t, h, false) })
	t.Run("WorkerServesEveryPartner", func(t *testing.T) { testWorkerServesEveryPartner(t, h) })
	t.Run("EventsUnderConcurrentWrites", func(t *testing.T) { testEventsUnderConcurrentWrites(t, h, false) })
	t.Run("StepClaimRace", func(t *testing.T) { testStepClaimRace(t, h, false) })
	t.Run("BulkRecordsSteps", func(t *testing.T) { testBulkRecordsSteps(t, h) })
	t.Run("WorkerRunsSteps", func(t *testing.T) { testWorkerRunsSteps(t, h) })
	t.Run("StepWorkersShare", func(t *testing.T) { testStepWorkersShare(t, h, false) })
	t.Run("PartnerRegistry", func(t *testing.T) { testPartnerRegistry(t, h) })
	t.Run("Quota", func(t *testing.T) { testQuota(t, h) })
	t.Run("QuotaRace", func(t *testing.T) { testQuotaRace(t, h, false) })
	t.Run("PartnerDisabled", func(t *testing.T) { testPartnerDisabled(t, h, false) })
	t.Run("APIKeys", func(t *testing.T) { testAPIKeys(t, h) })
	t.Run("APIKeyLimitRace", func(t *testing.T) { testAPIKeyLimitRace(t, h, false) })
	t.Run("OperatorScope", func(t *testing.T) { testOperatorScope(t, h) })
	t.Run("PartnerEventsReachWebhooks", func(t *testing.T) { testPartnerEventsReachWebhooks(t, h) })
	t.Run("AllPartnersFeedUnderConcurrentWrites", func(t *testing.T) { testAllPartnersFeedUnderConcurrentWrites(t, h, false) })
	if h.HostTransactions {
		t.Run("InHostTransaction", func(t *testing.T) { testInHostTransaction(t, h) })
		t.Run("BulkInHostTransaction", func(t *testing.T) { testBulkInHostTransaction(t, h) })
	}
	if h.Reopen != nil {
		t.Run("RaceSameNameTwoStores", func(t *testing.T) { testRaceSameName(t, h, true) })
		t.Run("IdempotencyRaceTwoStores", func(t *testing.T) { testIdempotencyRace(t, h, true) })
		t.Run("EventsUnderConcurrentWritesTwoStores", func(t *testing.T) { testEventsUnderConcurrentWrites(t, h, true) })
		t.Run("DeliveryClaimRaceTwoStores", func(t *testing.T) { testDeliveryClaimRace(t, h, true) })
		t.Run("DeliveryClaimBoundsRaceTwoStores", func(t *testing.T) { testDeliveryClaimBoundsRace(t, h, true) })
		t.Run("WebhookLimitRaceTwoStores", func(t *testing.T) { testWebhookLimitRace(t, h, true) })
		t.Run("WebhookLimitOpenRegistrationTwoStores", func(t *testing.T) { testWebhookLimitOpenRegistration(t, h, true) })
		t.Run("PatchLimitsRaceTwoStores", func(t *testing.T) { testPatchLimitsRace(t, h, true) })
		t.Run("StepClaimRaceTwoStores", func(t *testing.T) { testStepClaimRace(t, h, true) })
		t.Run("StepWorkersShareTwoStores", func(t *testing.T) { testStepWorkersShare(t, h, true) })
		t.Run("PurgeRaceTwoStores", func(t *testing.T) { testPurgeRace(t, h, true) })
		t.Run("QuotaRaceTwoStores", func(t *testing.T) { testQuotaRace(t, h, true) })
		t.Run("PartnerDisabledTwoStores", func(t *testing.T) { testPartnerDisabled(t, h, true) })
		t.Run("APIKeyLimitRaceTwoStores", func(t *testing.T) { testAPIKeyLimitRace(t, h, true) })
		t.Run("AllPartnersFeedUnderConcurrentWritesTwoStores", func(t *testing.T) { testAllPartnersFeedUnderConcurrentWrites(t, h, true) })
		t.Run("PersistsAcrossReopen", func(t *testing.T) { testReopen(t, h) })
	}
}

var (
	alice = provisioning.Principal{PartnerID: "partner-a", Subject: "alice"}
	bob   = provisioning.Principal{PartnerID: "partner-b", Subject: "bob"}
)

// clock is a deterministic clock that advances one millisecond per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func service(s provisioning.Store) *provisioning.Service {
	c := &clock{t: time.Date(2025, 2, 10, 16, 30, 0, 0, time.UTC)}
	return provisioning.New(s, allowAll{}, provisioning.WithClock(c.now))
}

func open(t *testing.T, h Harness) (provisioning.Store, *provisioning.Service) {
	t.Helper()
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	return s, service(s)
}

// replicas opens a store, and with two a second Store on the same data (as a second replica
// would), each with its Service.
func replicas(t *testing.T, h Harness, two bool) ([]provisioning.Store, []*provisioning.Service) {
	t.Helper()
	s, svc := open(t, h)
	stores, svcs := []provisioning.Store{s}, []*provisioning.Service{svc}
	if two {
		s2 := h.Reopen(t, s)
		t.Cleanup(func() { _ = s2.Close() })
		stores, svcs = append(stores, s2), append(svcs, service(s2))
	}
	return stores, svcs
}

func input(name string) provisioning.TenantInput {
	return provisioning.TenantInput{CompanyName: name, Email: "admin@example.com"}
}

func mustCreate(t *testing.T, svc provisioning.Provisioner, p provisioning.Principal, in provisioning.TenantInput) *provisioning.Tenant {
	t.Helper()
	got, err := svc.CreateTenant(context.Background(), p, in)
	if err != nil {
		t.Fatalf("CreateTenant(%q): %v", in.CompanyName, err)
	}
	return got
}

func wantCode(t *testing.T, err error, want provisioning.Code) {
	t.Helper()
	if got := provisioning.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func wantExists(t *testing.T, err error, existing string) {
	t.Helper()
	wantCode(t, err, provisioning.CodeTenantExists)
	var e *provisioning.Error
	if !errors.As(err, &e) || e.TenantID != existing {
		t.Fatalf("conflict names tenant %q, want %q", e.TenantID, existing)
	}
}

func equal(t *testing.T, got, want *provisioning.Tenant) {
	t.Helper()
	if g, w := render(got), render(want); g != w {
		t.Fatalf("tenant differs\n got: %s\nwant: %s", g, w)
	}
}

// render prints every field of a tenant, its times in UTC (stores may hand back another
// location for the same instant).
func render(t *provisioning.Tenant) string {
	c := *t
	c.CreatedAt, c.UpdatedAt, c.DeletionScheduledAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), c.DeletionScheduledAt.UTC()
	return fmt.Sprintf("%+v", c)
}

func str(s string) *string { return &s }

func listAll(t *testing.T, svc provisioning.Provisioner, p provisioning.Principal, f provisioning.TenantFilter) []*provisioning.Tenant {
	t.Helper()
	var all []*provisioning.Tenant
	for i := 0; ; i++ {
		page, err := svc.ListTenants(context.Background(), p, f)
		if err != nil {
			t.Fatalf("ListTenants: %v", err)
		}
		all = append(all, page.Tenants...)
		if !page.HasMore {
			if page.NextCursor != "" {
				t.Fatalf("last page has a next cursor")
			}
			return all
		}
		if i > 10000 {
			t.Fatalf("pagination does not end")
		}
		f.Cursor = page.NextCursor
	}
}

func names(ts []*provisioning.Tenant) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.CompanyName
	}
	return out
}

func testCreateAndGet(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	in := provisioning.TenantInput{
		CompanyName: "  Größe & Söhne GmbH ", Email: "Admin@Example.COM", PhoneNumber: "+49 30-1234567",
		Industry: "Manufacturing", ExternalID: "crm-4711", Metadata: map[string]string{"plan": "gold", "ünï": "cödé"},
	}
	created := mustCreate(t, svc, alice, in)
	if created.CompanyName != "Größe & Söhne GmbH" || created.Email != "admin@example.com" ||
		created.PhoneNumber != "+49301234567" || created.Status != provisioning.StatusActive ||
		created.Version != 1 || created.PartnerID != alice.PartnerID || !created.CreatedAt.Equal(created.UpdatedAt) {
		t.Fatalf("created tenant not normalized: %+v", created)
	}
	got, err := svc.GetTenant(ctx, alice, created.ID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	equal(t, got, created)

	bare := mustCreate(t, svc, alice, input("Bare"))
	got, err = svc.GetTenant(ctx, alice, bare.ID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if got.PhoneNumber != "" || got.Industry != "" || got.ExternalID != "" || got.Metadata != nil {
		t.Fatalf("unset optional fields came back set: %+v", got)
	}
	equal(t, got, bare)

	_, err = svc.GetTenant(ctx, alice, "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.GetTenant(ctx, alice, "not-a-uuid")
	wantCode(t, err, provisioning.CodeNotFound)
}

func testUniqueCompanyName(t *testing.T, h Harness) {
	_, svc := open(t, h)
	first := mustCreate(t, svc, alice, input("Acme Ünlimited"))
	for _, name := range []string{"Acme Ünlimited", "ACME üNLIMITED", "  acme ünlimited  "} {
		_, err := svc.CreateTenant(context.Background(), alice, input(name))
		wantExists(t, err, first.ID)
	}
	mustCreate(t, svc, bob, input("Acme Ünlimited")) // other partners have their own namespace
	other := mustCreate(t, svc, alice, input("Other"))
	_, err := svc.UpdateTenant(context.Background(), alice, other.ID,
		provisioning.TenantPatch{CompanyName: provisioning.Value("acme ünlimited")}, provisioning.Precondition{})
	wantExists(t, err, first.ID)
	got, _ := svc.GetTenant(context.Background(), alice, other.ID)
	equal(t, got, other)
}

func testUniqueExternalID(t *testing.T, h Harness) {
	_, svc := open(t, h)
	in := input("One")
	in.ExternalID = "crm-1"
	first := mustCreate(t, svc, alice, in)
	in.CompanyName = "Two"
	_, err := svc.CreateTenant(context.Background(), alice, in)
	wantExists(t, err, first.ID)
	// Tenants without an external id never collide on it.
	mustCreate(t, svc, alice, input("Three"))
	mustCreate(t, svc, alice, input("Four"))
	mustCreate(t, svc, bob, in)
	four := listAll(t, svc, alice, provisioning.TenantFilter{Query: "four"})[0]
	_, err = svc.ReplaceTenant(context.Background(), alice, four.ID,
		provisioning.TenantInput{CompanyName: "Four", Email: "x@example.com", ExternalID: "crm-1"}, provisioning.Precondition{})
	wantExists(t, err, first.ID)
}

func testVersions(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	none := provisioning.Precondition{}
	tn := mustCreate(t, svc, alice, input("Versioned"))
	patched, err := svc.UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{
		Industry: provisioning.Value("Retail"),
		Metadata: provisioning.Value(map[string]*string{"a": str("1"), "b": str("2")}),
	}, none)
	if err != nil || patched.Version != 2 || patched.Industry != "Retail" || !patched.UpdatedAt.After(tn.UpdatedAt) {
		t.Fatalf("patch: %+v, %v", patched, err)
	}
	same, err := svc.UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("Retail")}, none)
	if err != nil || same.Version != 2 {
		t.Fatalf("no-op patch changed the version: %+v, %v", same, err)
	}
	merged, err := svc.UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{
		Metadata: provisioning.Value(map[string]*string{"a": nil, "c": str("3")}),
		Status:   provisioning.Value(provisioning.StatusSuspended),
	}, provisioning.Precondition{IfVersion: 2})
	if err != nil || merged.Version != 3 || fmt.Sprint(merged.Metadata) != "map[b:2 c:3]" || merged.Status != provisioning.StatusSuspended {
		t.Fatalf("merge patch: %+v, %v", merged, err)
	}
	_, err = svc.UpdateTenant(ctx, alice, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, provisioning.Precondition{IfVersion: 2})
	wantCode(t, err, provisioning.CodePrecondition)
	replaced, err := svc.ReplaceTenant(ctx, alice, tn.ID, provisioning.TenantInput{CompanyName: "Versioned", Email: "new@example.com"}, provisioning.Precondition{IfVersion: 3})
	if err != nil || replaced.Version != 4 || replaced.Industry != "" || replaced.Metadata != nil || replaced.Status != provisioning.StatusSuspended {
		t.Fatalf("replace: %+v, %v", replaced, err)
	}
	got, _ := svc.GetTenant(ctx, alice, tn.ID)
	equal(t, got, replaced)
	_, err = svc.DeleteTenant(ctx, alice, tn.ID, provisioning.DeleteOptions{}, provisioning.Precondition{IfVersion: 3})
	wantCode(t, err, provisioning.CodePrecondition)
	if deleted, err := svc.DeleteTenant(ctx, alice, tn.ID, provisioning.DeleteOptions{}, provisioning.Precondition{IfVersion: 4}); err != nil || deleted.Version != 5 {
		t.Fatalf("conditional delete: %+v, %v", deleted, err)
	}
	_, err = svc.RestoreTenant(ctx, alice, tn.ID, provisioning.Precondition{IfVersion: 4})
	wantCode(t, err, provisioning.CodePrecondition)
	wantCode(t, svc.PurgeTenant(ctx, alice, tn.ID, provisioning.Precondition{IfVersion: 4}), provisioning.CodePrecondition)
	if restored, err := svc.RestoreTenant(ctx, alice, tn.ID, provisioning.Precondition{IfVersion: 5}); err != nil || restored.Version != 6 {
		t.Fatalf("conditional restore: %+v, %v", restored, err)
	}
}

func testPartnerIsolation(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	tn := mustCreate(t, svc, alice, input("Secret Corp"))
	_, err := svc.GetTenant(ctx, bob, tn.ID)
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.UpdateTenant(ctx, bob, tn.ID, provisioning.TenantPatch{Industry: provisioning.Value("x")}, provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.ReplaceTenant(ctx, bob, tn.ID, input("Mine now"), provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.DeleteTenant(ctx, bob, tn.ID, provisioning.DeleteOptions{}, provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeNotFound)
	_, err = svc.RestoreTenant(ctx, bob, tn.ID, provisioning.Precondition{})
	wantCode(t, err, provisioning.CodeNotFound)
	wantCode(t, svc.PurgeTenant(ctx, bob, tn.ID, provisioning.Precondition{}), provisioning.CodeNotFound)
	_, err = svc.ExportTenant(ctx, bob, tn.ID, provisioning.ExportFilter{})
	wantCode(t, err, provisioning.CodeNotFound)
	if got := listAll(t, svc, bob, provisioning.TenantFilter{}); len(got) != 0 {
		t.Fatalf("bob lists alice's tenants: %v", names(got))
	}
	got, err := svc.GetTenant(ctx, alice, tn.ID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	equal(t, got, tn)
}

func testFilters(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	mk := func(name, email, ext string, md map[string]string) *provisioning.Tenant {
		return mustCreate(t, svc, alice, provisioning.TenantInput{CompanyName: name, Email: email, ExternalID: ext, Metadata: md})
	}
	a := mk("Alpha Widgets", "ops@alpha.example", "a-1", map[string]string{"plan": "gold", "region": "eu"})
	mk("Beta Gadgets", "ops@beta.example", "", map[string]string{"plan": "silver"})
	c := mk("Gamma Widgets 100%", "ops@gamma.example", "c-1", map[string]string{"plan": "gold", "region": "us"})
	mustCreate(t, svc, bob, input("Bob Widgets"))
	if _, err := svc.UpdateTenant(ctx, alice, c.ID, provisioning.TenantPatch{Status: provisioning.Value(provisioning.StatusSuspended)}, provisioning.Precondition{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    provisioning.TenantFilter
		want string
	}{
		{"all newest first", provisioning.TenantFilter{}, "[Gamma Widgets 100% Beta Gadgets Alpha Widgets]"},
		{"status", provisioning.TenantFilter{Status: provisioning.StatusSuspended}, "[Gamma Widgets 100%]"},
		{"external id", provisioning.TenantFilter{ExternalID: "a-1"}, "[Alpha Widgets]"},
		{"email any case", provisioning.TenantFilter{Email: "OPS@Beta.example"}, "[Beta Gadgets]"},
		{"q substring any case", provisioning.TenantFilter{Query: "wIDGET"}, "[Gamma Widgets 100% Alpha Widgets]"},
		{"q with LIKE wildcard is literal", provisioning.TenantFilter{Query: "100%"}, "[Gamma Widgets 100%]"},
		{"q underscore is literal", provisioning.TenantFilter{Query: "a_p"}, "[]"},
		{"metadata", provisioning.TenantFilter{Metadata: map[string]string{"plan": "gold"}}, "[Gamma Widgets 100% Alpha Widgets]"},
		{"metadata pairs", provisioning.TenantFilter{Metadata: map[string]string{"plan": "gold", "region": "eu"}}, "[Alpha Widgets]"},
		{"metadata missing key", provisioning.TenantFilter{Metadata: map[string]string{"nope": "gold"}}, "[]"},
		{"combined", provisioning.TenantFilter{Query: "widgets", Status: provisioning.StatusActive}, "[Alpha Widgets]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(names(listAll(t, svc, alice, tc.f))); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	_ = a
	for _, f := range []provisioning.TenantFilter{{Limit: -1}, {Limit: 201}, {Status: "gone"}, {Cursor: "garbage!"}} {
		_, err := svc.ListTenants(ctx, alice, f)
		wantCode(t, err, provisioning.CodeInvalid)
	}
}

func testPagination(t *testing.T, h Harness) {
	_, svc := open(t, h)
	var want []string
	for i := range 23 {
		want = append([]string{mustCreate(t, svc, alice, input(fmt.Sprintf("T%02d", i))).ID}, want...)
	}
	for _, limit := range []int{1, 5, 7, 23, 50} {
		got := listAll(t, svc, alice, provisioning.TenantFilter{Limit: limit})
		if len(got) != len(want) {
			t.Fatalf("limit %d: %d tenants, want %d", limit, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i] {
				t.Fatalf("limit %d: position %d is %s, want %s", limit, i, got[i].CompanyName, want[i])
			}
		}
	}
	page, err := svc.ListTenants(context.Background(), alice, provisioning.TenantFilter{Limit: 23})
	if err != nil || page.HasMore || page.NextCursor != "" || len(page.Tenants) != 23 {
		t.Fatalf("exact page: has_more=%v cursor=%q n=%d err=%v", page.HasMore, page.NextCursor, len(page.Tenants), err)
	}
}

func testPaginationConcurrent(t *testing.T, h Harness) {
	s, _ := open(t, h)
	// A clock shared by writers and the reader: real time order, as replicas would see it.
	svc := provisioning.New(s, allowAll{})
	existing := map[string]bool{}
	for i := range 40 {
		existing[mustCreate(t, svc, alice, input(fmt.Sprintf("Old %02d", i))).ID] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 200; i++ {
				_, _ = svc.CreateTenant(context.Background(), alice, input(fmt.Sprintf("New %d-%d", w, i)))
			}
		}()
	}
	seen := map[string]bool{}
	f := provisioning.TenantFilter{Limit: 3}
	for {
		page, err := svc.ListTenants(context.Background(), alice, f)
		if err != nil {
			cancel()
			t.Fatalf("ListTenants: %v", err)
		}
		for _, tn := range page.Tenants {
			if seen[tn.ID] {
				cancel()
				t.Fatalf("tenant %s listed twice", tn.CompanyName)
			}
			seen[tn.ID] = true
		}
		if !page.HasMore {
			break
		}
		f.Cursor = page.NextCursor
	}
	cancel()
	wg.Wait()
	for id := range existing {
		if !seen[id] {
			t.Fatalf("tenant %s, created before the listing began, was skipped", id)
		}
	}
}

func testRaceSameName(t *testing.T, h Harness, twoStores bool) {
	_, svcs := replicas(t, h, twoStores)
	svc := svcs[0]
	var (
		mu      sync.Mutex
		winners []string
		losers  []error
	)
	barrier.Run(50, func(i int) {
		in := input("Contended Inc")
		if i%2 == 0 {
			in.CompanyName = "CONTENDED INC"
		}
		tn, err := svcs[i%len(svcs)].CreateTenant(context.Background(), alice, in)
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			winners = append(winners, tn.ID)
		} else {
			losers = append(losers, err)
		}
	})
	if len(winners) != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", len(winners))
	}
	for _, err := range losers {
		wantExists(t, err, winners[0])
	}
	if got := listAll(t, svc, alice, provisioning.TenantFilter{}); len(got) != 1 {
		t.Fatalf("%d tenants stored, want 1", len(got))
	}
}

func testConcurrentUpdates(t *testing.T, h Harness) {
	_, svc := open(t, h)
	tn := mustCreate(t, svc, alice, input("Busy"))
	const n = 20
	errs := make(chan error, n)
	barrier.Run(n, func(i int) {
		_, err := svc.UpdateTenant(context.Background(), alice, tn.ID, provisioning.TenantPatch{
			Metadata: provisioning.Value(map[string]*string{fmt.Sprintf("k%02d", i): str("v")}),
		}, provisioning.Precondition{})
		errs <- err
	})
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
	}
	got, _ := svc.GetTenant(context.Background(), alice, tn.ID)
	if got.Version != n+1 || len(got.Metadata) != n {
		t.Fatalf("after %d concurrent patches: version %d, %d metadata keys; updates were lost", n, got.Version, len(got.Metadata))
	}
}

func testRollback(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	kept := mustCreate(t, svc, alice, input("Kept"))
	boom := errors.New("boom")
	ghost := newTenant(alice.PartnerID, "Ghost", kept.CreatedAt.Add(time.Second))
	err := s.Write(ctx, func(tx provisioning.Tx) error {
		if err := tx.InsertTenant(ctx, ghost); err != nil {
			return err
		}
		changed := kept.Clone()
		changed.CompanyName, changed.Version = "Changed", 2
		if err := tx.UpdateTenant(ctx, &provisioning.UpdateTenantParams{Tenant: changed, PrevVersion: 1}); err != nil {
			return err
		}
		if err := tx.PurgeTenant(ctx, &provisioning.PurgeTenantParams{PartnerID: alice.PartnerID, TenantID: kept.ID}); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, event(ghost.Tenant, provisioning.EventTenantCreated)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want the function's error", err)
	}
	got := listAll(t, svc, alice, provisioning.TenantFilter{})
	if len(got) != 1 {
		t.Fatalf("after rollback %d tenants listed (%v), want only Kept", len(got), names(got))
	}
	equal(t, got[0], kept)
	// The rolled-back purge took nothing: the configuration and the events are there, and the
	// appended event was never written.
	if c, err := svc.GetTenantConfig(ctx, alice, kept.ID); err != nil || c.Version != 1 {
		t.Fatalf("config after a rolled-back purge: %+v, %v", c, err)
	}
	if evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{}); len(evs) != 1 || evs[0].Data == nil {
		t.Fatalf("events after a rolled-back purge: %+v, want Kept's only, with its data", evs)
	}
	// The rolled-back name is free, the kept one still taken.
	mustCreate(t, svc, alice, input("Ghost"))
	mustCreate(t, svc, alice, input("Changed"))
	_, err = svc.CreateTenant(ctx, alice, input("Kept"))
	wantExists(t, err, kept.ID)
}

func testCanceled(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.CreateTenant(ctx, alice, input("Never")); err == nil {
		t.Fatalf("create with a canceled context succeeded")
	}
	// Canceled after the work, before the commit: nothing may be committed.
	ctx, cancel = context.WithCancel(context.Background())
	tn := newTenant(alice.PartnerID, "Midway", time.Now())
	err := s.Write(ctx, func(tx provisioning.Tx) error {
		if err := tx.InsertTenant(ctx, tn); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if err == nil {
		t.Fatalf("Write committed although its context was canceled")
	}
	if got := listAll(t, svc, alice, provisioning.TenantFilter{}); len(got) != 0 {
		t.Fatalf("canceled writes left %v", names(got))
	}
	mustCreate(t, svc, alice, input("Afterwards")) // the store still works
}

func testReopen(t *testing.T, h Harness) {
	s, svc := open(t, h)
	in := input("Durable")
	in.Metadata = map[string]string{"k": "v"}
	tn := mustCreate(t, svc, alice, in)
	s2 := h.Reopen(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	got, err := service(s2).GetTenant(context.Background(), alice, tn.ID)
	if err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	equal(t, got, tn)
}
