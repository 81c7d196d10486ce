package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/provisioning"
)

func testBulk(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	existing := mustCreate(t, svc, alice, input("Existing"))
	codes := func(rs []provisioning.BulkResult) []provisioning.Code { return bulkCodes(t, rs) }
	same := slices.Equal[[]provisioning.Code]

	rs, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("B1"), input("existing"), {}, input("B2")}, false)
	if err != nil || !same(codes(rs), []provisioning.Code{"", provisioning.CodeTenantExists, provisioning.CodeInvalid, ""}) {
		t.Fatalf("non-atomic: %v %v", codes(rs), err)
	}
	wantExists(t, rs[1].Err, existing.ID)

	before := len(listAll(t, svc, alice, provisioning.TenantFilter{}))
	events := func() int { evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{}); return len(evs) }
	eventsBefore := events()
	for name, ins := range map[string][]provisioning.TenantInput{
		"conflict with a stored tenant": {input("A1"), input("A2"), input("EXISTING"), input("A3")},
		"duplicates within":             {input("A1"), input("a1")},
		"an invalid item":               {input("A1"), {CompanyName: "A2"}},
	} {
		rs, err := svc.CreateTenants(ctx, alice, ins, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		failed := 0
		for _, c := range codes(rs) {
			if c != provisioning.CodeFailedDependency {
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("%s: %v, want one failing item and the rest failed_dependency", name, codes(rs))
		}
	}
	if n := len(listAll(t, svc, alice, provisioning.TenantFilter{})); n != before || events() != eventsBefore {
		t.Fatalf("failed atomic bulks left tenants or events behind: %d tenants (was %d)", n, before)
	}
	rs, err = svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("A1"), input("A2")}, true)
	if err != nil || !same(codes(rs), []provisioning.Code{"", ""}) {
		t.Fatalf("atomic success: %v %v", codes(rs), err)
	}
	if n := len(listAll(t, svc, alice, provisioning.TenantFilter{})); n != before+2 || events() != eventsBefore+2 {
		t.Fatalf("atomic success stored %d tenants", n-before)
	}
	_, err = svc.CreateTenants(ctx, alice, nil, true)
	wantCode(t, err, provisioning.CodeInvalid)
}

// bulkCodes returns the error code of each item of a bulk create, "" for a created one.
func bulkCodes(t *testing.T, rs []provisioning.BulkResult) []provisioning.Code {
	t.Helper()
	out := make([]provisioning.Code, len(rs))
	for i, r := range rs {
		out[i] = provisioning.ErrorCode(r.Err)
		if (r.Err == nil) == (r.Tenant == nil) {
			t.Fatalf("item %d has both or neither of a tenant and an error", i)
		}
	}
	return out
}

// testBulkRefused: an item the store fails to insert for a reason other than a conflict (here
// the database refuses its value) is that item's CodeInternal, and nothing more. Without atomic
// the other items are created, events and all, whether each runs in a transaction of its own or
// all in the one transaction of Idempotently (where the failed item must not abort the rest);
// with atomic nothing is created.
func testBulkRefused(t *testing.T, h Harness) {
	if h.RefuseTenant == nil {
		t.Skip("the harness cannot make its store refuse a tenant")
	}
	const refused = "Refused Inc"
	s := h.New(t)
	t.Cleanup(func() { _ = s.Close() })
	svc := service(h.RefuseTenant(t, s, refused))
	ctx := context.Background()
	internal := provisioning.CodeInternal
	stored := func() []string {
		return names(listAll(t, svc, alice, provisioning.TenantFilter{}))
	}
	created := func() int {
		evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{Type: provisioning.EventTenantCreated})
		return len(evs)
	}

	rs, err := svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("Before"), input(refused), input("After")}, false)
	if got := bulkCodes(t, rs); err != nil || !slices.Equal(got, []provisioning.Code{"", internal, ""}) {
		t.Fatalf("non-atomic: %v %v", got, err)
	}
	if got := stored(); !slices.Equal(got, []string{"After", "Before"}) || created() != 2 {
		t.Fatalf("non-atomic stored %v with %d events, want After and Before with 2", got, created())
	}

	rs, err = svc.CreateTenants(ctx, alice, []provisioning.TenantInput{input("A1"), input(refused), input("A2")}, true)
	dep := provisioning.CodeFailedDependency
	if got := bulkCodes(t, rs); err != nil || !slices.Equal(got, []provisioning.Code{dep, internal, dep}) {
		t.Fatalf("atomic: %v %v", got, err)
	}
	if got := stored(); len(got) != 2 || created() != 2 {
		t.Fatalf("a failed atomic bulk left %v and %d events", got, created())
	}

	bulk := func(prov provisioning.Provisioner) ([]byte, bool) {
		rs, err := prov.CreateTenants(ctx, alice, []provisioning.TenantInput{input("K1"), input(refused), input("K2")}, false)
		if got := bulkCodes(t, rs); err != nil || !slices.Equal(got, []provisioning.Code{"", internal, ""}) {
			t.Errorf("non-atomic in one transaction: %v %v", got, err)
		}
		return []byte("the answer"), true
	}
	answer, replayed, err := svc.Idempotently(ctx, alice, provisioning.PermTenantCreate, "bulk-1", "fp", bulk)
	if err != nil || replayed || string(answer) != "the answer" {
		t.Fatalf("Idempotently: %q %v %v", answer, replayed, err)
	}
	if got := stored(); len(got) != 4 || created() != 4 {
		t.Fatalf("after the bulk in one transaction: %v with %d events, want 4 of each", got, created())
	}
	answer, replayed, err = svc.Idempotently(ctx, alice, provisioning.PermTenantCreate, "bulk-1", "fp", func(provisioning.Provisioner) ([]byte, bool) {
		t.Error("the retry ran the bulk again")
		return nil, false
	})
	if err != nil || !replayed || string(answer) != "the answer" {
		t.Fatalf("the retry: %q %v %v", answer, replayed, err)
	}
}

// testBulkInHostTransaction: in a host's own transaction, a non-atomic bulk whose items fail — a
// conflict and, where the harness can make the store refuse one, a value the database refuses —
// creates the other items; the host's transaction goes on and commits them.
func testBulkInHostTransaction(t *testing.T, h Harness) {
	const refused = "Refused Inc"
	s, svc := open(t, h)
	ctx := context.Background()
	existing := mustCreate(t, svc, alice, input("Existing"))
	ins := []provisioning.TenantInput{input("Host One"), input("EXISTING"), input("Host Two")}
	want := []provisioning.Code{"", provisioning.CodeTenantExists, ""}
	if h.RefuseTenant != nil {
		s = h.RefuseTenant(t, s, refused)
		ins, want = append(ins, input(refused)), append(want, provisioning.CodeInternal)
	}
	ht := s.(HostTransactions)
	tx, err := ht.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	err = ht.WriteTx(ctx, tx, func(ptx provisioning.Tx) error {
		inTx := svc.WithTx(ptx)
		rs, err := inTx.CreateTenants(ctx, alice, ins, false)
		if got := bulkCodes(t, rs); err != nil || !slices.Equal(got, want) {
			t.Fatalf("bulk in the host's transaction: %v %v, want %v", got, err, want)
		}
		wantExists(t, rs[1].Err, existing.ID)
		mustCreate(t, inTx, alice, input("Host Three"))
		return nil
	})
	if err != nil {
		t.Fatalf("WriteTx: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatalf("the host's transaction after WriteTx: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("the host's commit: %v", err)
	}
	got := names(listAll(t, svc, alice, provisioning.TenantFilter{}))
	if !slices.Equal(got, []string{"Host Three", "Host Two", "Host One", "Existing"}) {
		t.Fatalf("after the host committed: %v", got)
	}
}

// testBulkFansOut: a bulk's events, written together, keep the order of the items (ascending
// seq) and each queues its deliveries exactly as an event written alone: one per enabled
// endpoint of the partner that takes its type, none to another partner's.
func testBulkFansOut(t *testing.T, h Harness) {
	s, svc := open(t, h)
	ctx := context.Background()
	for _, in := range []provisioning.WebhookInput{
		{URL: "https://hooks.example/created", Events: []provisioning.EventType{provisioning.EventTenantCreated}},
		{URL: "https://hooks.example/all"},
		{URL: "https://hooks.example/updated", Events: []provisioning.EventType{provisioning.EventTenantUpdated}},
	} {
		if _, err := svc.CreateWebhook(ctx, alice, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CreateWebhook(ctx, bob, provisioning.WebhookInput{URL: "https://hooks.example/bob"}); err != nil {
		t.Fatal(err)
	}
	const n = 250 // more than one multi-row statement
	for _, atomic := range []bool{true, false} {
		ins := make([]provisioning.TenantInput, n)
		for i := range ins {
			ins[i] = input(fmt.Sprintf("Fan %t %d", atomic, i))
		}
		rs, err := svc.CreateTenants(ctx, alice, ins, atomic)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if r.Err != nil {
				t.Fatalf("atomic=%t item %d: %v", atomic, i, r.Err)
			}
		}
		evs, _ := allEvents(t, svc, alice, provisioning.EventFilter{})
		pos := map[string]int{}
		for i, e := range evs {
			pos[e.TenantID] = i
		}
		for i := 1; i < n; i++ {
			if pos[rs[i].Tenant.ID] <= pos[rs[i-1].Tenant.ID] {
				t.Fatalf("atomic=%t: the event of item %d is not after item %d's", atomic, i, i-1)
			}
		}
	}
	got := map[string]int{}
	for {
		jobs := claim(t, s, time.Now().Add(time.Hour), 500)
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if j.Event == nil || j.Event.ID != j.Delivery.EventID || j.Event.PartnerID != j.Webhook.PartnerID {
				t.Fatalf("job = %+v", j)
			}
			got[j.Webhook.URL]++
		}
	}
	if len(got) != 2 || got["https://hooks.example/created"] != 2*n || got["https://hooks.example/all"] != 2*n {
		t.Fatalf("queued deliveries per endpoint: %v, want %d to each of created and all", got, 2*n)
	}
}

// testBulkDuplicates: without atomic, items that repeat an earlier item's name (or a look-alike
// of it) or external id, or that collide with a stored tenant, each fail alone with
// CodeTenantExists naming the tenant that holds the name; the rest are created.
func testBulkDuplicates(t *testing.T, h Harness) {
	_, svc := open(t, h)
	ctx := context.Background()
	stored := mustCreate(t, svc, alice, input("Stored Co"))
	ext := input("External Holder")
	ext.ExternalID = "ext-1"
	extHolder := mustCreate(t, svc, alice, ext)
	sameExt := input("Another Name")
	sameExt.ExternalID = "ext-1"
	withExt := input("Fresh Ext")
	withExt.ExternalID = "ext-2"
	repeatExt := input("Fresh Ext Two")
	repeatExt.ExternalID = "ext-2"
	ins := []provisioning.TenantInput{
		input("Fresh One"),   // 0 created
		input("STORED  CO"),  // 1 look-alike of a stored tenant
		input("fresh one"),   // 2 repeats item 0
		sameExt,              // 3 a stored tenant's external id
		withExt,              // 4 created
		repeatExt,            // 5 repeats item 4's external id
		input("Fresh Three"), // 6 created
	}
	rs, err := svc.CreateTenants(ctx, alice, ins, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []provisioning.Code{"", provisioning.CodeTenantExists, provisioning.CodeTenantExists, provisioning.CodeTenantExists,
		"", provisioning.CodeTenantExists, ""}
	if got := bulkCodes(t, rs); !slices.Equal(got, want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	wantExists(t, rs[1].Err, stored.ID)
	wantExists(t, rs[2].Err, rs[0].Tenant.ID)
	wantExists(t, rs[3].Err, extHolder.ID)
	wantExists(t, rs[5].Err, rs[4].Tenant.ID)
	for _, i := range []int{0, 4, 6} {
		if _, err := svc.GetTenant(ctx, alice, rs[i].Tenant.ID); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
}

// testBulkStoresEveryValue: what a bulk create stores — tenant, configuration and event — is
// what it answered, item by item, for values that a multi-row statement must carry intact:
// quotes, backslashes, braces, commas, the word NULL, empty and absent optional fields,
// non-ASCII text, nested configuration.
func testBulkStoresEveryValue(t *testing.T, h Harness) {
	for _, atomic := range []bool{true, false} {
		t.Run(fmt.Sprintf("atomic=%v", atomic), func(t *testing.T) { testBulkStoresEveryValueOnce(t, h, atomic) })
	}
}

func testBulkStoresEveryValueOnce(t *testing.T, h Harness, atomic bool) {
	_, svc := open(t, h)
	ctx := context.Background()
	tricky := []string{`"quoted"`, `back\slash`, `{braces}`, `a,b`, `NULL`, `null`, ``, `日本語 ünïcødé`, `'single'`, `(paren)`}
	var ins []provisioning.TenantInput
	for i, s := range tricky {
		in := provisioning.TenantInput{CompanyName: strings.TrimSpace(fmt.Sprintf("Value %d %s", i, s)), Email: fmt.Sprintf("v%d@example.com", i)}
		if i%2 == 0 {
			in.PhoneNumber, in.Industry, in.ExternalID = "+15551234567", "Retail "+s, fmt.Sprintf("ext-%d-%s", i, s)
			in.Status = provisioning.StatusSuspended
		}
		if i%3 != 0 {
			in.Metadata = map[string]string{"k": s, "key " + fmt.Sprint(i): `v"\` + s}
		}
		cfg, _ := json.Marshal(map[string]any{"text": s, "nested": map[string]any{"list": []any{s, nil, 1.5, true}}})
		in.Config = cfg
		ins = append(ins, in)
	}
	rs, err := svc.CreateTenants(ctx, alice, ins, atomic)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := allEvents(t, svc, alice, provisioning.EventFilter{})
	if len(events) != len(ins) {
		t.Fatalf("%d events, want %d", len(events), len(ins))
	}
	for i, r := range rs {
		if r.Err != nil {
			t.Fatalf("item %d (%q): %v", i, ins[i].CompanyName, r.Err)
		}
		got, err := svc.GetTenant(ctx, alice, r.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, got, r.Tenant)
		if got.CompanyName != ins[i].CompanyName || got.ExternalID != ins[i].ExternalID || !maps.Equal(got.Metadata, ins[i].Metadata) {
			t.Errorf("item %d: stored %q %q %v, sent %q %q %v", i, got.CompanyName, got.ExternalID, got.Metadata,
				ins[i].CompanyName, ins[i].ExternalID, ins[i].Metadata)
		}
		c, err := svc.GetTenantConfig(ctx, alice, r.Tenant.ID)
		if err != nil {
			t.Fatal(err)
		}
		var gotCfg, wantCfg any
		if json.Unmarshal(c.Config, &gotCfg) != nil || json.Unmarshal(ins[i].Config, &wantCfg) != nil || !reflect.DeepEqual(gotCfg, wantCfg) {
			t.Errorf("item %d: configuration %s, sent %s", i, c.Config, ins[i].Config)
		}
		if e := events[i]; e.TenantID != r.Tenant.ID || e.Data == nil {
			t.Errorf("item %d: event %d is of tenant %s with %+v", i, i, e.TenantID, e.Data)
		} else {
			equal(t, e.Data, r.Tenant)
		}
	}
}
